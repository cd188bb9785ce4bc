package dev.pekkodsm.serialization.internal;

import com.esotericsoftware.kryo.io.Output;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;

/**
 * A Kryo {@link Output} that writes arrays of primitives a word at a time instead of a byte at a
 * time. Kryo also falls back to one call per element whenever the array is larger than the buffer's
 * current capacity; this class grows the buffer first.
 *
 * <p>The three-argument forms ({@code long}, {@code int}, {@code double}, {@code float}, {@code
 * short}, {@code char}) write exactly Kryo's bytes (little-endian, same layout). The four-argument
 * forms for {@code int} and {@code long}, which Kryo's {@code int[]} and {@code long[]} serializers
 * call and which Kryo writes as one varint per element, are written at fixed width too, whatever
 * {@code optimizePositive} and the variable-length setting say: that is this project's format, not
 * Kryo's, and only {@link BoundedInput} reads it back. {@link KryoContext} holds one of each so
 * they always meet. (Turning off Kryo's variable-length encoding instead would also widen the
 * scalars written through {@code writeInt(int, boolean)}: boxed integers, {@code java.time}
 * values.) Not thread-safe.
 */
final class BulkOutput extends Output {

  static final VarHandle LONGS =
      MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);
  static final VarHandle INTS =
      MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.LITTLE_ENDIAN);
  static final VarHandle SHORTS =
      MethodHandles.byteArrayViewVarHandle(short[].class, ByteOrder.LITTLE_ENDIAN);
  static final VarHandle CHARS =
      MethodHandles.byteArrayViewVarHandle(char[].class, ByteOrder.LITTLE_ENDIAN);

  BulkOutput(int bufferSize, int maxBufferSize) {
    super(bufferSize, maxBufferSize);
  }

  @Override
  public void writeLongs(long[] array, int offset, int count) {
    require(Math.multiplyExact(count, 8));
    byte[] b = buffer;
    int p = position;
    for (int i = offset, n = offset + count; i < n; i++, p += 8) {
      LONGS.set(b, p, array[i]);
    }
    position = p;
  }

  /** Eight bytes an element, as {@link #writeLongs(long[], int, int)}; no varints. */
  @Override
  public void writeLongs(long[] array, int offset, int count, boolean optimizePositive) {
    writeLongs(array, offset, count);
  }

  @Override
  public void writeDoubles(double[] array, int offset, int count) {
    require(Math.multiplyExact(count, 8));
    byte[] b = buffer;
    int p = position;
    for (int i = offset, n = offset + count; i < n; i++, p += 8) {
      // Kryo writes doubleToLongBits (NaNs collapsed to one pattern); so does this.
      LONGS.set(b, p, Double.doubleToLongBits(array[i]));
    }
    position = p;
  }

  @Override
  public void writeInts(int[] array, int offset, int count) {
    require(Math.multiplyExact(count, 4));
    byte[] b = buffer;
    int p = position;
    int i = offset;
    int n = offset + count;
    // Two ints per 8-byte store (the first in the low half: little-endian); measured faster
    // than one 4-byte store each (ArrayCodecBenchmark).
    for (; i < n - 1; i += 2, p += 8) {
      LONGS.set(b, p, (array[i] & 0xFFFF_FFFFL) | ((long) array[i + 1] << 32));
    }
    if (i < n) {
      INTS.set(b, p, array[i]);
      p += 4;
    }
    position = p;
  }

  /** Four bytes an element, as {@link #writeInts(int[], int, int)}; no varints. */
  @Override
  public void writeInts(int[] array, int offset, int count, boolean optimizePositive) {
    writeInts(array, offset, count);
  }

  @Override
  public void writeFloats(float[] array, int offset, int count) {
    require(Math.multiplyExact(count, 4));
    byte[] b = buffer;
    int p = position;
    for (int i = offset, n = offset + count; i < n; i++, p += 4) {
      INTS.set(b, p, Float.floatToIntBits(array[i]));
    }
    position = p;
  }

  @Override
  public void writeShorts(short[] array, int offset, int count) {
    require(Math.multiplyExact(count, 2));
    byte[] b = buffer;
    int p = position;
    for (int i = offset, n = offset + count; i < n; i++, p += 2) {
      SHORTS.set(b, p, array[i]);
    }
    position = p;
  }

  @Override
  public void writeChars(char[] array, int offset, int count) {
    require(Math.multiplyExact(count, 2));
    byte[] b = buffer;
    int p = position;
    for (int i = offset, n = offset + count; i < n; i++, p += 2) {
      CHARS.set(b, p, array[i]);
    }
    position = p;
  }
}
