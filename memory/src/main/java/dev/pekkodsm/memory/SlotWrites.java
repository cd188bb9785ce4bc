package dev.pekkodsm.memory;

import static dev.pekkodsm.memory.SlotLayout.CAPACITY_OFFSET;
import static dev.pekkodsm.memory.SlotLayout.FIRST_SLOT_OFFSET;
import static dev.pekkodsm.memory.SlotLayout.INT;
import static dev.pekkodsm.memory.SlotLayout.LONG;
import static dev.pekkodsm.memory.SlotLayout.SEQUENCE_OFFSET;
import static dev.pekkodsm.memory.SlotLayout.SLOT_ALIGNMENT;
import static dev.pekkodsm.memory.SlotLayout.SLOT_HEADER_BYTES;

import java.nio.ByteBuffer;
import java.util.concurrent.locks.LockSupport;

/**
 * The seqlock write of a frame into a slot whose capacity its owner fixed: by the owner of a
 * writable value arena or by a peer holding the value's lock. The writer takes the slot by moving
 * its sequence from even to odd with a compare-and-set, so a second writer (one that lost its lock
 * without knowing) is refused instead of interleaving its bytes; readers ({@link SlotReads}) retry
 * while the sequence is odd and check the frame they copy.
 */
public final class SlotWrites {

  private static final int SPIN_ATTEMPTS = 128;
  private static final long RETRY_BUDGET_NS = 20_000_000L;

  private SlotWrites() {}

  /**
   * Writes {@code frame} into the slot at {@code offset}.
   *
   * @throws SyncFailedException with {@link SyncStatus#OUT_OF_RANGE} if the offset cannot name a
   *     slot, {@link SyncStatus#TOO_LARGE} if the frame does not fit its capacity, {@link
   *     SyncStatus#CONTENDED} if another writer held it until the deadline
   */
  public static void write(
      ByteBuffer segment,
      int segmentBytes,
      long offset,
      byte[] frame,
      int length,
      long deadlineNs) {
    if (offset < FIRST_SLOT_OFFSET
        || offset % SLOT_ALIGNMENT != 0
        || offset + SLOT_HEADER_BYTES > segmentBytes) {
      throw new SyncFailedException(SyncStatus.OUT_OF_RANGE, "no slot at offset " + offset);
    }
    int slot = (int) offset;
    int capacity = (int) INT.getVolatile(segment, slot + CAPACITY_OFFSET);
    if (capacity < SLOT_ALIGNMENT
        || (long) slot + capacity > segmentBytes
        || length + SLOT_HEADER_BYTES > capacity) {
      throw new SyncFailedException(
          SyncStatus.TOO_LARGE,
          "a frame of " + length + " bytes does not fit the slot's " + capacity + " bytes");
    }
    long sequence = take(segment, slot, deadlineNs);
    segment.put(slot + SLOT_HEADER_BYTES, frame, 0, length);
    LONG.setRelease(segment, slot + SEQUENCE_OFFSET, sequence + 2); // frame bytes before even
  }

  /** Moves the slot's sequence from even to odd; returns the even value it held. */
  private static long take(ByteBuffer segment, int slot, long deadlineNs) {
    long giveUpNs = 0;
    for (int attempt = 0; ; attempt++) {
      long sequence = (long) LONG.getAcquire(segment, slot + SEQUENCE_OFFSET);
      if ((sequence & 1) == 0
          && LONG.compareAndSet(segment, slot + SEQUENCE_OFFSET, sequence, sequence + 1)) {
        // The CAS is a full fence: the odd sequence is visible before any byte of the frame.
        return sequence;
      }
      if (attempt >= SPIN_ATTEMPTS) {
        long now = System.nanoTime();
        if (giveUpNs == 0) {
          giveUpNs = deadlineNs - now < RETRY_BUDGET_NS ? deadlineNs : now + RETRY_BUDGET_NS;
        }
        if (now - giveUpNs >= 0) {
          throw new SyncFailedException(
              SyncStatus.CONTENDED, "another writer held the value slot at " + slot);
        }
        LockSupport.parkNanos(1_000);
      } else {
        Thread.onSpinWait();
      }
    }
  }
}
