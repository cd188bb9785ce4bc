package dev.pekkodsm.memory;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;

/**
 * The on-file layout shared by the arena (writer) and every reader, local or remote.
 *
 * <pre>
 * segment file
 *   0    8  magic "PDSMARN1"
 *   8    4  layout version
 *  12    4  segment index
 *  16    8  segment bytes
 *  24   16  arena token (random; a reader proves it mapped the right arena)
 *  40    8  node id
 *  4096     first slot
 *
 * slot (64-byte aligned; capacity is a size class, fixed for the slot's life)
 *   0    8  sequence: odd while being written, even when stable (seqlock)
 *   8    4  capacity in bytes, header included
 *  12    4  unused
 *  16       snapshot frame (see SnapshotCodec): magic, crc, node, object, color, length, payload
 * </pre>
 *
 * A locator names a slot: the segment index in the high 16 bits, the byte offset in the low 48. All
 * multi-byte fields are little-endian.
 */
public final class SlotLayout {

  public static final long SEGMENT_MAGIC = 0x314E52414D534450L; // "PDSMARN1" little-endian
  public static final int LAYOUT_VERSION = 1;
  public static final int SEGMENT_MAGIC_OFFSET = 0;
  public static final int SEGMENT_VERSION_OFFSET = 8;
  public static final int SEGMENT_INDEX_OFFSET = 12;
  public static final int SEGMENT_BYTES_OFFSET = 16;
  public static final int SEGMENT_TOKEN_OFFSET = 24;
  public static final int SEGMENT_NODE_OFFSET = 40;
  public static final int FIRST_SLOT_OFFSET = 4096;

  public static final int SLOT_ALIGNMENT = 64;
  public static final int SEQUENCE_OFFSET = 0;
  public static final int CAPACITY_OFFSET = 8;
  public static final int SLOT_HEADER_BYTES = 16;

  /** Sequence and other 8-byte words of a mapped segment, with atomic access modes. */
  public static final VarHandle LONG =
      MethodHandles.byteBufferViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);

  /** 4-byte words of a mapped segment. */
  public static final VarHandle INT =
      MethodHandles.byteBufferViewVarHandle(int[].class, ByteOrder.LITTLE_ENDIAN);

  private static final long OFFSET_MASK = (1L << 48) - 1;

  private SlotLayout() {}

  /** Encodes a slot locator. */
  public static long locator(int segment, long offset) {
    return ((long) segment << 48) | offset;
  }

  /** The segment index of a locator. */
  public static int segment(long locator) {
    return (int) (locator >>> 48);
  }

  /** The byte offset within its segment of a locator. */
  public static long offset(long locator) {
    return locator & OFFSET_MASK;
  }

  /**
   * The slot capacity (header included) used for a frame of {@code frameBytes}: multiples of 64 up
   * to 256, then four classes per doubling, so no slot wastes more than a quarter of itself.
   */
  public static int capacityFor(int frameBytes) {
    int size = frameBytes + SLOT_HEADER_BYTES;
    if (size <= 256) {
      return Math.max(SLOT_ALIGNMENT, roundUp(size, SLOT_ALIGNMENT));
    }
    int msb = 31 - Integer.numberOfLeadingZeros(size - 1); // size in (2^msb, 2^(msb+1)]
    return roundUp(size, 1 << (msb - 2));
  }

  private static int roundUp(int value, int step) {
    return (value + step - 1) / step * step;
  }
}
