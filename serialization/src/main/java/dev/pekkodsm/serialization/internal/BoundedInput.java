package dev.pekkodsm.serialization.internal;

import com.esotericsoftware.kryo.KryoException;
import com.esotericsoftware.kryo.io.Input;

/**
 * A Kryo {@link Input} over a fully buffered byte range that refuses any length prefix larger than
 * the bytes left, before allocating the array or string it announces, and that reads primitive
 * arrays a word at a time. It is {@link BulkOutput}'s pair: {@code int[]} and {@code long[]} are
 * read at fixed width, not as Kryo's varints.
 *
 * <p>Kryo trusts decoded lengths: {@code readInts(n)} allocates {@code new int[n]} first and
 * discovers the underflow later. Snapshot bytes are CRC-checked before they get here, but a hostile
 * or buggy peer can produce a valid CRC, so lengths are checked too. Not thread-safe; one per
 * pooled Kryo.
 */
public final class BoundedInput extends Input {

  public BoundedInput() {
    super();
  }

  private void require(long count, int bytesEach) {
    long remaining = (long) limit - position;
    if (count < 0 || count * bytesEach > remaining) {
      throw new KryoException(
          "length "
              + count
              + " x "
              + bytesEach
              + " bytes exceeds the "
              + remaining
              + " bytes left in the input");
    }
  }

  @Override
  public byte[] readBytes(int length) {
    require(length, 1);
    return super.readBytes(length);
  }

  // Fixed-width arrays are decoded a word at a time: the bytes are all buffered (checked by
  // require), and Kryo's own loop assembles every element byte by byte. The varint forms of int
  // and long arrays read BulkOutput's fixed-width format, not Kryo's varints.

  @Override
  public int[] readInts(int length) {
    require(length, 4);
    int[] out = new int[length];
    byte[] b = buffer;
    int p = position;
    for (int i = 0; i < length; i++, p += 4) {
      out[i] = (int) BulkOutput.INTS.get(b, p);
    }
    position = p;
    return out;
  }

  /** Four bytes an element, as {@link #readInts(int)}: what {@link BulkOutput} writes. */
  @Override
  public int[] readInts(int length, boolean optimizePositive) {
    return readInts(length);
  }

  @Override
  public long[] readLongs(int length) {
    require(length, 8);
    long[] out = new long[length];
    byte[] b = buffer;
    int p = position;
    for (int i = 0; i < length; i++, p += 8) {
      out[i] = (long) BulkOutput.LONGS.get(b, p);
    }
    position = p;
    return out;
  }

  /** Eight bytes an element, as {@link #readLongs(int)}: what {@link BulkOutput} writes. */
  @Override
  public long[] readLongs(int length, boolean optimizePositive) {
    return readLongs(length);
  }

  @Override
  public float[] readFloats(int length) {
    require(length, 4);
    float[] out = new float[length];
    byte[] b = buffer;
    int p = position;
    for (int i = 0; i < length; i++, p += 4) {
      out[i] = Float.intBitsToFloat((int) BulkOutput.INTS.get(b, p));
    }
    position = p;
    return out;
  }

  @Override
  public double[] readDoubles(int length) {
    require(length, 8);
    double[] out = new double[length];
    byte[] b = buffer;
    int p = position;
    for (int i = 0; i < length; i++, p += 8) {
      out[i] = Double.longBitsToDouble((long) BulkOutput.LONGS.get(b, p));
    }
    position = p;
    return out;
  }

  @Override
  public short[] readShorts(int length) {
    require(length, 2);
    short[] out = new short[length];
    byte[] b = buffer;
    int p = position;
    for (int i = 0; i < length; i++, p += 2) {
      out[i] = (short) BulkOutput.SHORTS.get(b, p);
    }
    position = p;
    return out;
  }

  @Override
  public char[] readChars(int length) {
    require(length, 2);
    char[] out = new char[length];
    byte[] b = buffer;
    int p = position;
    for (int i = 0; i < length; i++, p += 2) {
      out[i] = (char) BulkOutput.CHARS.get(b, p);
    }
    position = p;
    return out;
  }

  @Override
  public boolean[] readBooleans(int length) {
    require(length, 1);
    return super.readBooleans(length);
  }

  @Override
  public String readString() {
    checkStringLength();
    return super.readString();
  }

  @Override
  public StringBuilder readStringBuilder() {
    checkStringLength();
    return super.readStringBuilder();
  }

  /**
   * Peeks at Kryo's string header. ASCII strings are scanned to their terminator and allocate as
   * they go; UTF-8 strings announce a char count, and every char takes at least one byte.
   */
  private void checkStringLength() {
    int start = position;
    if (position < limit && readVarIntFlag()) {
      int charCount = readVarIntFlag(true); // 0 = null, 1 = empty, n + 1 = n chars
      position = start;
      if (charCount > 1) {
        require(charCount - 1L, 1);
      }
    } else {
      position = start;
    }
  }
}
