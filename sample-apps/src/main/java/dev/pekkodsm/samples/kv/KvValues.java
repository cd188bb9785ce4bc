package dev.pekkodsm.samples.kv;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;

/**
 * Values of the KV workload: {@code valueBytes} bytes whose first eight are the version (big
 * endian) the harness gave the write, followed by filler derived from the key and version, so a
 * value read back can be checked for both.
 */
public final class KvValues {

  /** Bytes of the version header. */
  public static final int HEADER_BYTES = 8;

  private static final VarHandle LONGS =
      MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.BIG_ENDIAN);

  private KvValues() {}

  /** A value of {@code sizeBytes} for {@code key} at {@code version}. */
  public static byte[] of(long key, long version, int sizeBytes) {
    byte[] value = new byte[sizeBytes];
    LONGS.set(value, 0, version);
    byte fill = (byte) (key * 31 + version);
    for (int i = HEADER_BYTES; i < sizeBytes; i++) {
      value[i] = fill;
    }
    return value;
  }

  /** The version a value carries. */
  public static long version(byte[] value) {
    return (long) LONGS.get(value, 0);
  }

  /** Whether {@code value} is a well-formed value of {@code key} (its filler matches). */
  public static boolean isValueOf(long key, byte[] value) {
    if (value.length < HEADER_BYTES) {
      return false;
    }
    byte fill = (byte) (key * 31 + version(value));
    for (int i = HEADER_BYTES; i < value.length; i++) {
      if (value[i] != fill) {
        return false;
      }
    }
    return true;
  }
}
