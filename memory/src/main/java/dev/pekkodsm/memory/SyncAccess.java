package dev.pekkodsm.memory;

/**
 * One-sided operations on one node's sync region: atomic operations on the 8-byte fields of its
 * cells, and seqlock writes and reads of its writable value slots. The region's owner uses them on
 * its own mapping ({@link SyncRegion}); peers through their transport ({@link PeerReader}), on the
 * same host with the same atomic instructions on a shared mapping, across hosts through the peer's
 * read server (one round trip each) or RDMA atomics.
 *
 * <p>Every operation names the object the cell belongs to, and fails with {@link
 * SyncFailedException} ({@link SyncStatus#NOT_THIS_OBJECT}) if it does not; nothing else is checked
 * or interpreted. All accesses are sequentially consistent (volatile). Thread-safe.
 */
public interface SyncAccess {

  /** Reads a field of a cell. */
  long load(long cell, long object, int field, long deadlineNs);

  /**
   * Sets a field to {@code update} if it holds {@code expected}.
   *
   * @return the value the field held (the witness): {@code expected} if the exchange happened
   */
  long compareAndExchange(
      long cell, long object, int field, long expected, long update, long deadlineNs);

  /** Adds {@code delta} to a field; returns the value it held before. */
  long getAndAdd(long cell, long object, int field, long delta, long deadlineNs);

  /**
   * Writes a frame into a value slot under the slot's seqlock: readers see the old frame or the new
   * one, never a mix. The slot's capacity is fixed by the owner; a concurrent writer of the same
   * slot is refused ({@link SyncStatus#CONTENDED}) rather than interleaved.
   *
   * @throws SyncFailedException with {@link SyncStatus#TOO_LARGE} if the frame does not fit
   */
  void writeValue(long locator, byte[] frame, int length, long deadlineNs);

  /**
   * Copies the frame of a value slot into {@code out} and checks it as any snapshot read: magic,
   * node, {@code object}, {@code color} (or any color, with {@code SnapshotCodec.ANY_COLOR}),
   * length and CRC.
   */
  ReadStatus readValue(long locator, long object, int color, ReadBuffer out, long deadlineNs);
}
