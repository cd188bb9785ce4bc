package dev.pekkodsm.memory.rdma;

import dev.pekkodsm.memory.ReadStatus;

/**
 * The one-sided work requests the sync operations are made of, into and out of one registered local
 * buffer ({@link #local()}): besides the reads of {@link ReadChannel}, RDMA writes from {@code
 * DATA}, and the two RDMA atomics, whose result (the remote word before the operation) lands at
 * {@link RemoteSlotRead#RESULT} in this host's byte order. Implemented over DiSNI by {@link
 * WorkBuffer}, and by tests over plain mapped files, so that {@link RemoteSync} (the protocol) is
 * the same code in both.
 *
 * <p>Remote places are a segment's keys and a byte offset in it; an atomic's target must be 8-byte
 * aligned (the caller checks it). Every method blocks until its work requests have completed, the
 * deadline has passed ({@link ReadStatus#TIMED_OUT}) or the connection is lost ({@link
 * ReadStatus#UNAVAILABLE}); after anything but {@link ReadStatus#OK} the channel must not be used
 * again before it is released.
 */
interface SyncChannel extends ReadChannel {

  /** Reads {@code bytes} at {@code offset} of the segment into {@code DATA}. */
  ReadStatus read(SegmentKey key, long offset, int bytes, long deadlineNs);

  /** Writes {@code bytes} from {@code DATA} to {@code offset} of the segment. */
  ReadStatus write(SegmentKey key, long offset, int bytes, long deadlineNs);

  /** {@code IBV_WR_ATOMIC_CMP_AND_SWP} on the word at {@code offset}; the old word to RESULT. */
  ReadStatus compareAndSwap(SegmentKey key, long offset, long expected, long swap, long deadlineNs);

  /** {@code IBV_WR_ATOMIC_FETCH_AND_ADD} on the word at {@code offset}; the old word to RESULT. */
  ReadStatus fetchAndAdd(SegmentKey key, long offset, long delta, long deadlineNs);

  /**
   * In one post: the compare-and-swap of {@link #compareAndSwap}, then, each only after the
   * previous one has completed, the three reads of {@link ReadChannel#readFirst} of the slot at
   * {@code slotOffset} of {@code slots}.
   */
  ReadStatus compareAndSwapThenReadFirst(
      SegmentKey key,
      long offset,
      long expected,
      long swap,
      SegmentKey slots,
      long slotOffset,
      int bodyBytes,
      long deadlineNs);
}
