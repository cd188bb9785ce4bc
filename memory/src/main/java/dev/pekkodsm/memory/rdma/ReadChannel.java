package dev.pekkodsm.memory.rdma;

import dev.pekkodsm.memory.ReadStatus;
import java.nio.ByteBuffer;

/**
 * The one-sided reads a single slot read is made of, into one registered local buffer. Implemented
 * over DiSNI by {@link ReaderConnection}, and over a plain buffer by tests, so that {@link
 * RemoteSlotRead} (the protocol) is the same code in both.
 *
 * <p>Owned by one reading thread from acquisition to release. Every method blocks until the reads
 * have completed, the deadline has passed ({@link ReadStatus#TIMED_OUT}) or the connection is lost
 * ({@link ReadStatus#UNAVAILABLE}); after anything but {@link ReadStatus#OK} the channel must not
 * be used again before it is released.
 */
interface ReadChannel {

  /**
   * The local buffer, little-endian: the sequence word read before the frame at {@link
   * RemoteSlotRead#SEQ_BEFORE}, the one read after it at {@link RemoteSlotRead#SEQ_AFTER}, data
   * from {@link RemoteSlotRead#DATA} on ({@link #dataBytes()} of it).
   */
  ByteBuffer local();

  /** How many bytes one read can land at {@link RemoteSlotRead#DATA}. */
  int dataBytes();

  /**
   * Reads, in this order and each only after the previous one has completed: the slot's sequence
   * word into {@code SEQ_BEFORE}; {@code bodyBytes} starting at the slot's capacity word ({@code
   * slotOffset + 8}) into {@code DATA}; the sequence word again into {@code SEQ_AFTER}.
   */
  ReadStatus readFirst(SegmentKey key, long slotOffset, int bodyBytes, long deadlineNs);

  /**
   * Reads {@code bytes} at {@code offset} of the segment into {@code DATA}; then, if {@code
   * thenSequence} and only after that read has completed, the sequence word of the slot at {@code
   * slotOffset} into {@code SEQ_AFTER}.
   */
  ReadStatus readMore(
      SegmentKey key,
      long offset,
      int bytes,
      boolean thenSequence,
      long slotOffset,
      long deadlineNs);
}
