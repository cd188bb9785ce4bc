package dev.pekkodsm.memory.rdma;

import static dev.pekkodsm.memory.SlotLayout.CAPACITY_OFFSET;
import static dev.pekkodsm.memory.SlotLayout.FIRST_SLOT_OFFSET;
import static dev.pekkodsm.memory.SlotLayout.SLOT_ALIGNMENT;
import static dev.pekkodsm.memory.SlotLayout.SLOT_HEADER_BYTES;

import dev.pekkodsm.memory.ReadBuffer;
import dev.pekkodsm.memory.ReadStatus;
import dev.pekkodsm.memory.SlotReads;
import dev.pekkodsm.serialization.internal.SnapshotCodec;
import java.nio.ByteBuffer;

/**
 * The seqlock read of one slot of a peer's arena over one-sided reads, with the same checks as
 * {@link SlotReads#copyStable} and {@link SlotReads#check}.
 *
 * <p>A shared-memory reader orders its loads with fences; a remote reader orders its RDMA reads
 * instead. The reads of one attempt are: the sequence word; then the slot body (capacity word,
 * frame header and as much of the payload as {@code firstReadBytes} allows); then the sequence word
 * again. Each starts only after the previous one has completed ({@code IBV_SEND_FENCE}), because
 * the bytes of a single RDMA read may be fetched by the NIC in any order: the sequence words must
 * be read strictly before and after the frame. Equal even sequence words mean the copy is of one
 * stable version. A frame longer than the first read is fetched in further reads of at most the
 * local buffer's size, copied out after each, and the sequence word is read once more after the
 * last one; it must still equal the first. Only then are the frame's magic, length, CRC, object and
 * color checked, exactly as for every other transport.
 *
 * <p>Nothing outside the segment's registered range is ever read: the slot offset is checked
 * against it, and the capacity and length found in the slot are checked before the rest of the
 * frame is fetched. Stateless; thread-safe.
 */
final class RemoteSlotRead {

  /** Local offset of the sequence word read before the frame. */
  static final int SEQ_BEFORE = 0;

  /** Local offset of the sequence word read after the frame. */
  static final int SEQ_AFTER = 8;

  /**
   * Local offset of the value an RDMA atomic returns (the word before the operation), in the
   * requester's byte order; 8-byte aligned, as the verbs require of an atomic's local buffer.
   */
  static final int RESULT = 16;

  /** Local offset of the data. */
  static final int DATA = 32;

  /** Local bytes of a read buffer besides its data. */
  static final int SLOT_OVERHEAD_BYTES = DATA;

  /** Where the first read's data starts in the slot: the capacity word. */
  static final int BODY_OFFSET = CAPACITY_OFFSET;

  /** Where the frame starts in the first read's data. */
  static final int FRAME_IN_BODY = SLOT_HEADER_BYTES - BODY_OFFSET;

  /** How long a slot that stays locked is retried, as for local reads. */
  static final long RETRY_BUDGET_NS = 20_000_000L;

  private RemoteSlotRead() {}

  /**
   * True if a slot at {@code offset} can exist in a segment of {@code segmentBytes}: the same test
   * as a local reader's.
   */
  static boolean inRange(long offset, long segmentBytes) {
    return offset >= FIRST_SLOT_OFFSET
        && offset % SLOT_ALIGNMENT == 0
        && offset + SLOT_HEADER_BYTES + SnapshotCodec.HEADER_BYTES <= segmentBytes;
  }

  /** The bytes the first read fetches after the sequence word of an {@link #inRange} slot. */
  static int bodyBytes(long offset, long segmentBytes, int firstReadBytes) {
    return (int) Math.min(firstReadBytes, segmentBytes - offset - BODY_OFFSET);
  }

  /**
   * How many bytes of the frame to copy, given the capacity and length found in a stable read of
   * the slot at {@code offset}: the whole frame if both are plausible, otherwise the frame header
   * alone so that {@link SlotReads#check} reports it. The same rule as {@link
   * SlotReads#copyStable}.
   */
  static int frameCopyBytes(
      int capacity, int length, long offset, long segmentBytes, int maxFrameBytes) {
    long frameBytes = (long) SnapshotCodec.HEADER_BYTES + length;
    boolean plausible =
        capacity >= SLOT_ALIGNMENT
            && capacity % SLOT_ALIGNMENT == 0
            && offset + capacity <= segmentBytes
            && length >= 0
            && frameBytes <= capacity - SLOT_HEADER_BYTES
            && frameBytes <= maxFrameBytes;
    return plausible ? (int) frameBytes : SnapshotCodec.HEADER_BYTES;
  }

  /**
   * Reads the slot at {@code offset} of the segment {@code key} names into {@code out} and checks
   * it.
   *
   * @param node the peer's node id, which a valid frame names
   * @param maxFrameBytes the largest frame the caller accepts
   * @param firstReadBytes the bytes the first read fetches after the sequence word
   * @return {@link ReadStatus#OK} with the frame in {@code out}, or why not
   */
  static ReadStatus read(
      ReadChannel channel,
      SegmentKey key,
      long offset,
      SnapshotCodec codec,
      long node,
      long object,
      int color,
      int maxFrameBytes,
      int firstReadBytes,
      ReadBuffer out,
      long deadlineNs) {
    if (!inRange(offset, key.length())) {
      return ReadStatus.OUT_OF_RANGE;
    }
    int body = bodyBytes(offset, key.length(), Math.min(firstReadBytes, channel.dataBytes()));
    ByteBuffer local = channel.local();
    long giveUpNs = 0;
    while (true) {
      ReadStatus status = channel.readFirst(key, offset, body, deadlineNs);
      if (status != ReadStatus.OK) {
        return status;
      }
      long before = local.getLong(SEQ_BEFORE);
      if ((before & 1) == 0 && before == local.getLong(SEQ_AFTER)) {
        int capacity = local.getInt(DATA);
        int length = local.getInt(DATA + FRAME_IN_BODY + SnapshotCodec.LENGTH_OFFSET);
        int copy = frameCopyBytes(capacity, length, offset, key.length(), maxFrameBytes);
        byte[] dst = out.ensureCapacity(copy);
        int copied = Math.min(copy, body - FRAME_IN_BODY);
        local.get(DATA + FRAME_IN_BODY, dst, 0, copied);
        boolean stable = true;
        while (copied < copy) {
          int bytes = Math.min(copy - copied, channel.dataBytes());
          boolean last = copied + bytes == copy;
          status =
              channel.readMore(
                  key, offset + SLOT_HEADER_BYTES + copied, bytes, last, offset, deadlineNs);
          if (status != ReadStatus.OK) {
            return status;
          }
          local.get(DATA, dst, copied, bytes);
          copied += bytes;
          if (last) {
            stable = local.getLong(SEQ_AFTER) == before;
          }
        }
        if (stable) {
          out.length(copy);
          return SlotReads.check(codec, dst, copy, node, object, color);
        }
      }
      // A writer is in the slot: retry within the same budget a local reader has.
      long now = System.nanoTime();
      if (giveUpNs == 0) {
        giveUpNs = deadlineNs - now < RETRY_BUDGET_NS ? deadlineNs : now + RETRY_BUDGET_NS;
      }
      if (now - giveUpNs >= 0) {
        return ReadStatus.CONTENDED;
      }
      Thread.onSpinWait();
    }
  }
}
