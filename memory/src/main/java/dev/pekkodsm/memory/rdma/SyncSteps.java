package dev.pekkodsm.memory.rdma;

import dev.pekkodsm.memory.ReadStatus;
import dev.pekkodsm.memory.SyncFailedException;
import dev.pekkodsm.memory.SyncStatus;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/** What the steps of the rdma sync operations share: alignment, byte orders and failures. */
final class SyncSteps {

  private static final boolean HOST_IS_LITTLE_ENDIAN =
      ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN;

  private SyncSteps() {}

  /**
   * {@code offset} if the word there is 8-byte aligned in the peer's memory, as an RDMA atomic
   * requires.
   *
   * @throws SyncFailedException {@link SyncStatus#OUT_OF_RANGE} otherwise, before anything is
   *     posted
   */
  static long aligned(SegmentKey key, long offset) {
    long address = key.address() + offset;
    if ((address & (SyncWorkRequests.ATOMIC_BYTES - 1)) != 0) {
      throw new SyncFailedException(
          SyncStatus.OUT_OF_RANGE,
          "an RDMA atomic needs an 8-byte aligned word, and the word at offset "
              + offset
              + " of segment "
              + key.segment()
              + " is at address 0x"
              + Long.toHexString(address));
    }
    return offset;
  }

  /** The channel's buffer, which is little-endian: the region's bytes as an RDMA READ got them. */
  static ByteBuffer data(SyncChannel channel) {
    ByteBuffer local = channel.local();
    assert local.order() == ByteOrder.LITTLE_ENDIAN;
    return local;
  }

  /** The word an atomic returned, which arrives in this host's order (see {@link RemoteSync}). */
  static long result(SyncChannel channel) {
    long raw = data(channel).getLong(RemoteSlotRead.RESULT);
    return HOST_IS_LITTLE_ENDIAN ? raw : Long.reverseBytes(raw);
  }

  /** Throws the failure {@code status} of a step stands for; nothing if it is OK. */
  static void check(ReadStatus status, String what, RemoteSync.Port port) {
    switch (status) {
      case OK -> {}
      case TIMED_OUT ->
          throw new SyncFailedException(
              SyncStatus.TIMED_OUT, what + " did not complete before the deadline");
      case OUT_OF_RANGE ->
          throw new SyncFailedException(SyncStatus.OUT_OF_RANGE, what + " was out of range");
      default -> {
        String failure = port.failure();
        throw new SyncFailedException(
            SyncStatus.UNAVAILABLE,
            what
                + " failed"
                + (failure != null ? ": " + failure : "")
                + "; an exchange or an add may or may not have happened");
      }
    }
  }

  static ReadStatus readStatus(SyncStatus status) {
    return switch (status) {
      case OUT_OF_RANGE -> ReadStatus.OUT_OF_RANGE;
      case NOT_THIS_OBJECT -> ReadStatus.FREED;
      case CONTENDED -> ReadStatus.CONTENDED;
      case TIMED_OUT -> ReadStatus.TIMED_OUT;
      case TOO_LARGE -> ReadStatus.CORRUPT;
      case UNAVAILABLE -> ReadStatus.UNAVAILABLE;
    };
  }
}
