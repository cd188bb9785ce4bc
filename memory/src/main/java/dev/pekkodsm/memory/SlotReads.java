package dev.pekkodsm.memory;

import static dev.pekkodsm.memory.SlotLayout.CAPACITY_OFFSET;
import static dev.pekkodsm.memory.SlotLayout.FIRST_SLOT_OFFSET;
import static dev.pekkodsm.memory.SlotLayout.INT;
import static dev.pekkodsm.memory.SlotLayout.LONG;
import static dev.pekkodsm.memory.SlotLayout.SEQUENCE_OFFSET;
import static dev.pekkodsm.memory.SlotLayout.SLOT_ALIGNMENT;
import static dev.pekkodsm.memory.SlotLayout.SLOT_HEADER_BYTES;

import dev.pekkodsm.serialization.internal.SnapshotCodec;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.util.concurrent.locks.LockSupport;

/**
 * The seqlock read of one slot from a mapped segment, shared by every reader of an arena (the
 * owner's own, same-host peers, the tcp read server).
 *
 * <p>Copy, fence, re-check: the sequence is read with acquire; the header and frame are copied with
 * plain loads; a load-load fence keeps those loads before the second sequence read; equal even
 * sequences mean the copy is of one stable version. Only a stable copy is then checked (magic,
 * length, CRC, object and color), and only a checked copy is reported {@code OK}.
 */
public final class SlotReads {

  private static final int SPIN_ATTEMPTS = 128;
  private static final long RETRY_BUDGET_NS = 20_000_000L;

  private SlotReads() {}

  /** {@link #copyStable} result: the offset cannot name a slot of the segment. */
  public static final int OUT_OF_RANGE = -1;

  /** {@link #copyStable} result: a writer held the slot for the whole retry budget. */
  public static final int CONTENDED = -2;

  /**
   * Reads the slot at {@code offset} of {@code segment} into {@code out} and checks the copy.
   *
   * @param segmentBytes the valid size of the segment
   * @param maxFrameBytes the largest frame the caller accepts
   * @param deadlineNs when to stop retrying a slot that stays locked ({@link System#nanoTime()});
   *     never later than 20 ms from now
   * @return {@link ReadStatus#OK} with the frame in {@code out}, or why not
   */
  public static ReadStatus read(
      ByteBuffer segment,
      int segmentBytes,
      long offset,
      SnapshotCodec codec,
      long node,
      long object,
      int color,
      int maxFrameBytes,
      ReadBuffer out,
      long deadlineNs) {
    int copied = copyStable(segment, segmentBytes, offset, maxFrameBytes, out, deadlineNs);
    if (copied == OUT_OF_RANGE) {
      return ReadStatus.OUT_OF_RANGE;
    }
    if (copied == CONTENDED) {
      return ReadStatus.CONTENDED;
    }
    return check(codec, out.bytes(), copied, node, object, color);
  }

  /**
   * Copies one stable version of a slot's frame into {@code out}: the bytes between two equal even
   * sequence reads. Nothing about the frame is trusted except for bounds: a frame whose header
   * announces an impossible length is copied as its header only, so {@link #check} reports it. This
   * is what a remote reader's server does on the reader's behalf.
   *
   * @return the number of bytes copied (at least a frame header), or {@link #OUT_OF_RANGE} or
   *     {@link #CONTENDED}
   */
  public static int copyStable(
      ByteBuffer segment,
      int segmentBytes,
      long offset,
      int maxFrameBytes,
      ReadBuffer out,
      long deadlineNs) {
    if (!holdsSlot(segmentBytes, offset)) {
      return OUT_OF_RANGE;
    }
    int slot = (int) offset;
    long giveUpNs = 0;
    for (int attempt = 0; ; attempt++) {
      long before = (long) LONG.getAcquire(segment, slot + SEQUENCE_OFFSET);
      if ((before & 1) == 0) {
        int copy = bytesToCopy(segment, segmentBytes, slot, maxFrameBytes);
        byte[] dst = out.ensureCapacity(copy);
        segment.get(slot + SLOT_HEADER_BYTES, dst, 0, copy);
        VarHandle.loadLoadFence(); // the copy above completes before the sequence is re-read
        long after = (long) LONG.getAcquire(segment, slot + SEQUENCE_OFFSET);
        if (before == after) {
          out.length(copy);
          return copy;
        }
      }
      if (attempt >= SPIN_ATTEMPTS) {
        long now = System.nanoTime();
        if (giveUpNs == 0) {
          giveUpNs = giveUpAt(now, deadlineNs);
        }
        if (now - giveUpNs >= 0) {
          return CONTENDED;
        }
      }
      waitForWriter(attempt);
    }
  }

  /**
   * {@link #copyStable(ByteBuffer, int, long, int, ReadBuffer, long)} into a buffer that {@code
   * out} provides, at that buffer's position, which is then advanced past the copy: one copy from
   * the segment to where the bytes are sent from (a direct buffer, for the tcp read server).
   *
   * @return the number of bytes copied, or {@link #OUT_OF_RANGE} or {@link #CONTENDED} (nothing
   *     advanced)
   */
  static int copyStable(
      ByteBuffer segment,
      int segmentBytes,
      long offset,
      int maxFrameBytes,
      FrameSink out,
      long deadlineNs) {
    if (!holdsSlot(segmentBytes, offset)) {
      return OUT_OF_RANGE;
    }
    int slot = (int) offset;
    long giveUpNs = 0;
    for (int attempt = 0; ; attempt++) {
      long before = (long) LONG.getAcquire(segment, slot + SEQUENCE_OFFSET);
      if ((before & 1) == 0) {
        int copy = bytesToCopy(segment, segmentBytes, slot, maxFrameBytes);
        ByteBuffer dst = out.room(copy);
        int at = dst.position();
        dst.put(at, segment, slot + SLOT_HEADER_BYTES, copy);
        VarHandle.loadLoadFence(); // the copy above completes before the sequence is re-read
        long after = (long) LONG.getAcquire(segment, slot + SEQUENCE_OFFSET);
        if (before == after) {
          dst.position(at + copy);
          return copy;
        }
      }
      if (attempt >= SPIN_ATTEMPTS) {
        long now = System.nanoTime();
        if (giveUpNs == 0) {
          giveUpNs = giveUpAt(now, deadlineNs);
        }
        if (now - giveUpNs >= 0) {
          return CONTENDED;
        }
      }
      waitForWriter(attempt);
    }
  }

  /** Where {@link #copyStable(ByteBuffer, int, long, int, FrameSink, long)} copies a frame to. */
  interface FrameSink {
    /** A buffer with at least {@code bytes} remaining after its position. */
    ByteBuffer room(int bytes);
  }

  /** True if a slot header and a frame header at {@code offset} lie inside the segment. */
  private static boolean holdsSlot(int segmentBytes, long offset) {
    return offset >= FIRST_SLOT_OFFSET
        && offset % SLOT_ALIGNMENT == 0
        && offset + SLOT_HEADER_BYTES + SnapshotCodec.HEADER_BYTES <= segmentBytes;
  }

  /**
   * How many bytes of the slot's frame to copy: the whole frame if the slot's header and the
   * frame's length are plausible (read with plain loads, judged only once the copy proves stable),
   * else the frame header alone, so that {@link #check} reports it.
   */
  private static int bytesToCopy(
      ByteBuffer segment, int segmentBytes, int slot, int maxFrameBytes) {
    int capacity = (int) INT.get(segment, slot + CAPACITY_OFFSET);
    int length = (int) INT.get(segment, slot + SLOT_HEADER_BYTES + SnapshotCodec.LENGTH_OFFSET);
    long frameBytes = (long) SnapshotCodec.HEADER_BYTES + length;
    boolean plausible =
        capacity >= SLOT_ALIGNMENT
            && capacity % SLOT_ALIGNMENT == 0
            && (long) slot + capacity <= segmentBytes
            && length >= 0
            && frameBytes <= capacity - SLOT_HEADER_BYTES
            && frameBytes <= maxFrameBytes;
    return plausible ? (int) frameBytes : SnapshotCodec.HEADER_BYTES;
  }

  private static long giveUpAt(long now, long deadlineNs) {
    return deadlineNs - now < RETRY_BUDGET_NS ? deadlineNs : now + RETRY_BUDGET_NS;
  }

  /** A writer is in the slot: spin briefly, then back off. */
  private static void waitForWriter(int attempt) {
    if (attempt < SPIN_ATTEMPTS) {
      Thread.onSpinWait();
    } else {
      LockSupport.parkNanos(1_000);
    }
  }

  /**
   * The color (for an object republished in place, its version) of the frame of {@code (node,
   * object)} in the slot at {@code offset}, read under the seqlock without copying the frame: for a
   * reader that holds a decoded copy of some version and only needs to know whether it is still the
   * current one. Checks the magic, node and object; not the CRC, since nothing is decoded from this
   * read (a corrupt color only makes the caller read and check the whole frame).
   *
   * @return the color, {@code >= 0} as an unsigned int, or {@code -1} if the slot is out of range,
   *     contended past the deadline, freed, or holds another object: then read the frame
   */
  public static long peekColor(
      ByteBuffer segment, int segmentBytes, long offset, long node, long object, long deadlineNs) {
    if (!holdsSlot(segmentBytes, offset)) {
      return -1;
    }
    int frame = (int) offset + SLOT_HEADER_BYTES;
    long giveUpNs = 0;
    for (int attempt = 0; ; attempt++) {
      long before = (long) LONG.getAcquire(segment, (int) offset + SEQUENCE_OFFSET);
      if ((before & 1) == 0) {
        int magic = (int) INT.get(segment, frame + SnapshotCodec.MAGIC_OFFSET);
        long frameNode = (long) LONG.get(segment, frame + SnapshotCodec.NODE_OFFSET);
        long frameObject = (long) LONG.get(segment, frame + SnapshotCodec.OBJECT_OFFSET);
        int color = (int) INT.get(segment, frame + SnapshotCodec.COLOR_OFFSET);
        VarHandle.loadLoadFence(); // the header reads above complete before the sequence re-read
        long after = (long) LONG.getAcquire(segment, (int) offset + SEQUENCE_OFFSET);
        if (before == after) {
          boolean ours = magic == SnapshotCodec.MAGIC && frameNode == node && frameObject == object;
          return ours ? color & 0xffffffffL : -1;
        }
      }
      if (attempt >= SPIN_ATTEMPTS) {
        long now = System.nanoTime();
        if (giveUpNs == 0) {
          giveUpNs = giveUpAt(now, deadlineNs);
        }
        if (now - giveUpNs >= 0) {
          return -1;
        }
      }
      waitForWriter(attempt);
    }
  }

  /**
   * What a reader concludes from a stable copy of a frame: every transport applies exactly this
   * check before a byte is deserialized.
   */
  public static ReadStatus check(
      SnapshotCodec codec, byte[] frame, int length, long node, long object, int color) {
    return switch (codec.verify(frame, 0, length, node, object, color)) {
      case OK -> ReadStatus.OK;
      case BAD_MAGIC -> ReadStatus.FREED;
      case WRONG_OBJECT -> ReadStatus.STALE;
      default -> ReadStatus.CORRUPT;
    };
  }
}
