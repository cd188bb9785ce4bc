package dev.pekkodsm.memory;

import java.util.Arrays;

/**
 * A growable byte array a reader copies one frame into. Owned by one thread at a time; reuse it
 * across reads to avoid allocating on the hot path.
 */
public final class ReadBuffer {
  private byte[] bytes;
  private int length;

  public ReadBuffer(int initialCapacity) {
    this.bytes = new byte[Math.max(64, initialCapacity)];
  }

  /** The backing array; valid bytes are {@code [0, length())}. */
  public byte[] bytes() {
    return bytes;
  }

  /** How many bytes the last read produced. */
  public int length() {
    return length;
  }

  /** Makes room for {@code capacity} bytes, discarding the content. */
  public byte[] ensureCapacity(int capacity) {
    if (bytes.length < capacity) {
      bytes = new byte[Math.max(capacity, Math.min(Integer.MAX_VALUE - 8, bytes.length * 2))];
    }
    return bytes;
  }

  /** Sets the valid length. */
  public void length(int length) {
    this.length = length;
  }

  /** A copy of the valid bytes. */
  public byte[] toByteArray() {
    return Arrays.copyOf(bytes, length);
  }
}
