package dev.pekkodsm.serialization.internal;

import com.esotericsoftware.kryo.io.Output;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;

/**
 * A Kryo {@link Output} that writes arrays of fixed-width primitives a word at a time instead of a
 * byte at a time. The bytes are exactly Kryo's (little-endian, same layout), so either side can be
 * plain Kryo; only the speed differs. Kryo also falls back to one call per element whenever the
 * array is larger than the buffer's current capacity; this class grows the buffer first.
 */
final class BulkOutput extends Output {

  static final VarHandle LONGS =
      MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);
  static final VarHandle INTS =
      MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.LITTLE_ENDIAN);

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
    for (int i = offset, n = offset + count; i < n; i++, p += 4) {
      INTS.set(b, p, array[i]);
    }
    position = p;
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
}
