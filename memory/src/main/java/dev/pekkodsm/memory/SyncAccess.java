package dev.pekkodsm.memory;

import dev.pekkodsm.serialization.internal.SnapshotCodec;

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

  /**
   * The color of the frame of {@code object} in a value slot, read under the slot's seqlock without
   * copying the frame (see {@link PeerReader#peekColor}); -1 if it cannot be told.
   */
  long peekValueColor(long locator, long object, long deadlineNs);

  /**
   * Reads the value a two-slot cell (a mutex's) names, as one operation where the transport can
   * (over tcp one round trip instead of four): loads the cell's word, takes the slot locator {@link
   * SyncLayout#LOCATOR_A} or {@link SyncLayout#LOCATOR_B} as bit {@code selectorBit} of the word is
   * 0 or 1, and reads that slot, unless its frame's color is {@code knownColor} (a version the
   * reader has decoded). The caller judges whether the word names the color it got.
   *
   * @param knownColor the reader's version, or {@link Long#MIN_VALUE} for none
   */
  default ActiveValue readActive(
      long cell, long object, int selectorBit, long knownColor, ReadBuffer out, long deadlineNs) {
    return readActiveStepwise(this, cell, object, selectorBit, knownColor, out, deadlineNs);
  }

  /** {@link #readActive} made of a load, a load, a peek and a read of {@code sync}. */
  static ActiveValue readActiveStepwise(
      SyncAccess sync,
      long cell,
      long object,
      int selectorBit,
      long knownColor,
      ReadBuffer out,
      long deadlineNs) {
    long word = sync.load(cell, object, SyncLayout.WORD, deadlineNs);
    int field = ((word >>> selectorBit) & 1) == 0 ? SyncLayout.LOCATOR_A : SyncLayout.LOCATOR_B;
    long slot = sync.load(cell, object, field, deadlineNs);
    long color = sync.peekValueColor(slot, object, deadlineNs);
    if (color >= 0 && color == knownColor) {
      return new ActiveValue(word, color, true, ReadStatus.OK);
    }
    ReadStatus status = sync.readValue(slot, object, SnapshotCodec.ANY_COLOR, out, deadlineNs);
    long copied = status == ReadStatus.OK ? SnapshotCodec.color(out.bytes(), 0) & 0xFFFF_FFFFL : -1;
    return new ActiveValue(word, copied, false, status);
  }

  /**
   * Compare-and-exchanges a two-slot cell's word from {@code expected} to {@code update}, then
   * reads the value slot bit {@code selectorBit} of {@code expected} selects, unless its frame's
   * color is {@code knownColor}, as one operation where the transport can (over tcp one round trip
   * instead of four): a lock taken together with the value it guards. The slot is chosen by {@code
   * expected}, never by the witness, so a transport may chain the read after the exchange without
   * waiting for it (RDMA work requests); it is the slot the word names exactly when the exchange
   * happened, and only then is its frame reported.
   *
   * @param knownColor the reader's version, or {@link Long#MIN_VALUE} for none
   * @return the word's witness as {@link ActiveValue#word()} ({@code expected} if the exchange
   *     happened) and what was read as for {@link #readActive}; if the exchange did not happen,
   *     nothing was read: color -1 and {@link ReadStatus#STALE} (the expected word is out of date).
   *     A read that fails after the exchange happened is reported in the status, never thrown, so
   *     the caller always learns that it holds the word
   * @throws SyncFailedException as {@link #compareAndExchange} (nothing read)
   */
  default ActiveValue exchangeThenRead(
      long cell,
      long object,
      int selectorBit,
      long expected,
      long update,
      long knownColor,
      ReadBuffer out,
      long deadlineNs) {
    return exchangeThenReadStepwise(
        this, cell, object, selectorBit, expected, update, knownColor, out, deadlineNs);
  }

  /** {@link #exchangeThenRead} made of an exchange, a load, a peek and a read of {@code sync}. */
  static ActiveValue exchangeThenReadStepwise(
      SyncAccess sync,
      long cell,
      long object,
      int selectorBit,
      long expected,
      long update,
      long knownColor,
      ReadBuffer out,
      long deadlineNs) {
    if (selectorBit < 0 || selectorBit > 63) {
      throw new SyncFailedException(SyncStatus.OUT_OF_RANGE, "bit " + selectorBit + " is no bit");
    }
    long witness =
        sync.compareAndExchange(cell, object, SyncLayout.WORD, expected, update, deadlineNs);
    if (witness != expected) {
      return new ActiveValue(witness, -1, false, ReadStatus.STALE);
    }
    // The exchange happened: from here every failure is a status, so the caller knows it.
    int field = ((expected >>> selectorBit) & 1) == 0 ? SyncLayout.LOCATOR_A : SyncLayout.LOCATOR_B;
    try {
      long slot = sync.load(cell, object, field, deadlineNs);
      long color = sync.peekValueColor(slot, object, deadlineNs);
      if (color >= 0 && color == knownColor) {
        return new ActiveValue(witness, color, true, ReadStatus.OK);
      }
      ReadStatus status = sync.readValue(slot, object, SnapshotCodec.ANY_COLOR, out, deadlineNs);
      long copied =
          status == ReadStatus.OK ? SnapshotCodec.color(out.bytes(), 0) & 0xFFFF_FFFFL : -1;
      return new ActiveValue(witness, copied, false, status);
    } catch (SyncFailedException e) {
      return new ActiveValue(witness, -1, false, readStatus(e.status()));
    }
  }

  /** The read status that stands for a sync operation's failure. */
  private static ReadStatus readStatus(SyncStatus status) {
    return switch (status) {
      case OUT_OF_RANGE -> ReadStatus.OUT_OF_RANGE;
      case NOT_THIS_OBJECT -> ReadStatus.FREED;
      case CONTENDED -> ReadStatus.CONTENDED;
      case TIMED_OUT -> ReadStatus.TIMED_OUT;
      case TOO_LARGE -> ReadStatus.CORRUPT;
      case UNAVAILABLE -> ReadStatus.UNAVAILABLE;
    };
  }

  /**
   * Writes a frame into the value slot whose locator is in field {@code slotField} of a cell, then
   * compare-and-exchanges the cell's word from {@code expected} to {@code update}, as one operation
   * where the transport can (over tcp one round trip instead of three): a commit. If the word does
   * not hold {@code expected} once the slot is located, nothing is written (a holder whose lock was
   * taken back must not overwrite a slot a later holder has committed into since); if the write
   * fails, the word is not touched.
   *
   * @return the word's witness, as {@link #compareAndExchange}
   * @throws SyncFailedException as {@link #writeValue} (nothing exchanged) or as {@link
   *     #compareAndExchange}
   */
  default long writeThenExchange(
      long cell,
      long object,
      int slotField,
      byte[] frame,
      int length,
      long expected,
      long update,
      long deadlineNs) {
    return writeThenExchangeStepwise(
        this, cell, object, slotField, frame, length, expected, update, deadlineNs);
  }

  /** {@link #writeThenExchange} made of two loads, a write and an exchange of {@code sync}. */
  static long writeThenExchangeStepwise(
      SyncAccess sync,
      long cell,
      long object,
      int slotField,
      byte[] frame,
      int length,
      long expected,
      long update,
      long deadlineNs) {
    if (slotField != SyncLayout.LOCATOR_A && slotField != SyncLayout.LOCATOR_B) {
      throw new SyncFailedException(SyncStatus.OUT_OF_RANGE, "field " + slotField + " is no slot");
    }
    long slot = sync.load(cell, object, slotField, deadlineNs);
    // A writer whose lock was taken back (the word moved on) writes nothing: it cannot overwrite
    // a slot a later holder has committed into. Only one that pauses between this load and its
    // write still can (see the README's limits).
    long word = sync.load(cell, object, SyncLayout.WORD, deadlineNs);
    if (word != expected) {
      return word;
    }
    sync.writeValue(slot, frame, length, deadlineNs);
    return sync.compareAndExchange(cell, object, SyncLayout.WORD, expected, update, deadlineNs);
  }
}
