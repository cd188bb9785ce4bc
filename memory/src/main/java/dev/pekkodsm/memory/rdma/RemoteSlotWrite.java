package dev.pekkodsm.memory.rdma;

import static dev.pekkodsm.memory.SlotLayout.CAPACITY_OFFSET;
import static dev.pekkodsm.memory.SlotLayout.FIRST_SLOT_OFFSET;
import static dev.pekkodsm.memory.SlotLayout.SEQUENCE_OFFSET;
import static dev.pekkodsm.memory.SlotLayout.SLOT_ALIGNMENT;
import static dev.pekkodsm.memory.SlotLayout.SLOT_HEADER_BYTES;
import static dev.pekkodsm.memory.rdma.SyncSteps.aligned;
import static dev.pekkodsm.memory.rdma.SyncSteps.check;
import static dev.pekkodsm.memory.rdma.SyncSteps.data;
import static dev.pekkodsm.memory.rdma.SyncSteps.result;

import dev.pekkodsm.memory.SlotWrites;
import dev.pekkodsm.memory.SyncFailedException;
import dev.pekkodsm.memory.SyncStatus;
import dev.pekkodsm.serialization.internal.SnapshotCodec;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.concurrent.locks.LockSupport;

/**
 * The seqlock write of a frame into a value slot of a peer's sync region, over RDMA work requests,
 * with the meaning and checks of {@link SlotWrites#write}: the writer takes the slot with a
 * compare-and-swap of its sequence word from even to odd (a second writer is refused, not
 * interleaved), checks that the slot holds a value of the object the frame names (read while it
 * holds the slot: the reads are chained after the compare-and-swap, fenced), writes the frame with
 * RDMA WRITEs, waits for all of them to complete, and only then releases the slot with a
 * compare-and-swap to the next even value. Waiting for the writes, rather than chaining the release
 * behind them, is what keeps a reader from seeing the new sequence before the new bytes: the verbs
 * do not promise that another process's CPU observes an atomic after earlier writes of the same
 * queue pair.
 *
 * <p>Stateless; thread-safe (each call owns its channel).
 */
final class RemoteSlotWrite {

  private static final int SPIN_ATTEMPTS = 128;
  private static final long RETRY_BUDGET_NS = 20_000_000L;

  /** What a write reads of a slot first: its header and the header of the frame it holds. */
  static final int SLOT_PROBE_BYTES = SLOT_HEADER_BYTES + SnapshotCodec.HEADER_BYTES;

  private RemoteSlotWrite() {}

  /**
   * Writes {@code frame} into the slot at {@code offset} of the value segment {@code slots}.
   *
   * @throws SyncFailedException as {@link SlotWrites#write}, or as a failed step ({@link
   *     SyncStatus#TIMED_OUT}, {@link SyncStatus#UNAVAILABLE})
   */
  static void write(
      SyncChannel channel,
      SegmentKey slots,
      long offset,
      byte[] frame,
      int length,
      RemoteSync.Port port,
      long deadlineNs) {
    if (offset < FIRST_SLOT_OFFSET
        || offset % SLOT_ALIGNMENT != 0
        || offset + SLOT_PROBE_BYTES > slots.length()) {
      throw new SyncFailedException(SyncStatus.OUT_OF_RANGE, "no slot at offset " + offset);
    }
    long sequenceAt = aligned(slots, offset + SEQUENCE_OFFSET);
    check(
        channel.read(slots, offset, SLOT_PROBE_BYTES, deadlineNs), "an RDMA read of a slot", port);
    ByteBuffer data = data(channel);
    int capacity = data.getInt(RemoteSlotRead.DATA + CAPACITY_OFFSET);
    if (capacity < SLOT_ALIGNMENT
        || offset + capacity > slots.length()
        || length + SLOT_HEADER_BYTES > capacity) {
      throw new SyncFailedException(
          SyncStatus.TOO_LARGE,
          "a frame of " + length + " bytes does not fit the slot's " + capacity + " bytes");
    }
    long sequence = take(channel, slots, offset, sequenceAt, data, port, deadlineNs);
    if (!sameOwner(channel.local(), frame, length)) {
      release(channel, slots, sequenceAt, sequence + 1, sequence, port, deadlineNs); // untouched
      throw new SyncFailedException(
          SyncStatus.NOT_THIS_OBJECT, "the slot at " + offset + " holds another object's value");
    }
    // A write that fails from here leaves the slot held (odd): the channel cannot be used again,
    // and a late write must not land under an even sequence. See the README's limits.
    ByteBuffer local = channel.local();
    for (int written = 0; written < length; ) {
      int bytes = Math.min(length - written, channel.dataBytes());
      local.put(RemoteSlotRead.DATA, frame, written, bytes);
      long at = offset + SLOT_HEADER_BYTES + written;
      check(channel.write(slots, at, bytes, deadlineNs), "an RDMA write of a value", port);
      written += bytes;
    }
    // Every write has completed: the frame is in place before the sequence turns even.
    release(channel, slots, sequenceAt, sequence + 1, sequence + 2, port, deadlineNs);
  }

  /**
   * Moves the slot's sequence from even to odd, the frame header read (fenced) right after each
   * attempt; returns the even value it held. {@code data} holds a probe of the slot.
   */
  private static long take(
      SyncChannel channel,
      SegmentKey slots,
      long offset,
      long sequenceAt,
      ByteBuffer data,
      RemoteSync.Port port,
      long deadlineNs) {
    long giveUpNs = 0;
    long sequence = data.getLong(RemoteSlotRead.DATA + SEQUENCE_OFFSET);
    int body = RemoteSlotRead.FRAME_IN_BODY + SnapshotCodec.HEADER_BYTES;
    for (int attempt = 0; ; attempt++) {
      if ((sequence & 1) == 0) {
        check(
            channel.compareAndSwapThenReadFirst(
                slots, sequenceAt, sequence, sequence + 1, slots, offset, body, deadlineNs),
            "an RDMA compare-and-swap",
            port);
        long witness = result(channel);
        if (witness == sequence) {
          return sequence;
        }
        sequence = witness;
      } else {
        check(channel.read(slots, offset, 8, deadlineNs), "an RDMA read of a slot", port);
        sequence = data.getLong(RemoteSlotRead.DATA + SEQUENCE_OFFSET);
      }
      if (attempt >= SPIN_ATTEMPTS) {
        long now = System.nanoTime();
        if (giveUpNs == 0) {
          giveUpNs = deadlineNs - now < RETRY_BUDGET_NS ? deadlineNs : now + RETRY_BUDGET_NS;
        }
        if (now - giveUpNs >= 0) {
          throw new SyncFailedException(
              SyncStatus.CONTENDED, "another writer held the value slot at " + offset);
        }
        LockSupport.parkNanos(1_000);
      } else {
        Thread.onSpinWait();
      }
    }
  }

  private static void release(
      SyncChannel channel,
      SegmentKey slots,
      long sequenceAt,
      long held,
      long next,
      RemoteSync.Port port,
      long deadlineNs) {
    check(
        channel.compareAndSwap(slots, sequenceAt, held, next, deadlineNs),
        "an RDMA compare-and-swap",
        port);
    long witness = result(channel);
    if (witness != held) {
      throw new SyncFailedException(
          SyncStatus.CONTENDED,
          "the value slot's sequence moved from " + held + " to " + witness + " while held");
    }
  }

  /**
   * Whether the frame header read while the slot is held (at {@code DATA + FRAME_IN_BODY}, after
   * {@link SyncChannel#compareAndSwapThenReadFirst}) names the node and object {@code frame} names.
   */
  static boolean sameOwner(ByteBuffer local, byte[] frame, int length) {
    ByteBuffer held = local.duplicate().order(ByteOrder.LITTLE_ENDIAN);
    ByteBuffer fresh = ByteBuffer.wrap(frame).order(ByteOrder.LITTLE_ENDIAN);
    int at = RemoteSlotRead.DATA + RemoteSlotRead.FRAME_IN_BODY;
    return length >= SnapshotCodec.HEADER_BYTES
        && held.getInt(at + SnapshotCodec.MAGIC_OFFSET) == SnapshotCodec.MAGIC
        && held.getLong(at + SnapshotCodec.NODE_OFFSET) == fresh.getLong(SnapshotCodec.NODE_OFFSET)
        && held.getLong(at + SnapshotCodec.OBJECT_OFFSET)
            == fresh.getLong(SnapshotCodec.OBJECT_OFFSET);
  }
}
