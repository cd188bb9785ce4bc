package dev.pekkodsm.internal;

import dev.pekkodsm.DsmCounters;
import dev.pekkodsm.memory.PeerReader;
import dev.pekkodsm.memory.SyncAccess;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.LongSupplier;

/** One node's counters. Thread-safe; increments are contention-free adders. */
public final class Metrics {
  final LongAdder localReads = new LongAdder();
  final LongAdder localWrites = new LongAdder();
  final LongAdder cacheHits = new LongAdder();
  final LongAdder oneSidedReads = new LongAdder();
  final LongAdder bytesRead = new LongAdder();
  final LongAdder movesIn = new LongAdder();
  final LongAdder movesOut = new LongAdder();
  final LongAdder messagesSent = new LongAdder();
  final LongAdder snapshotsPublished = new LongAdder();
  final LongAdder lends = new LongAdder();
  final LongAdder borrowConflicts = new LongAdder();
  final LongAdder staleRejections = new LongAdder();
  final LongAdder shmReads = new LongAdder();
  final LongAdder tcpReads = new LongAdder();
  final LongAdder rdmaReads = new LongAdder();
  final LongAdder oneSidedAtomics = new LongAdder();
  final LongAdder oneSidedWrites = new LongAdder();
  private final LongSupplier liveObjects;
  private final LongSupplier arenaSlots;
  private final LongSupplier tcpRequests;

  Metrics(LongSupplier liveObjects, LongSupplier arenaSlots, LongSupplier tcpRequests) {
    this.liveObjects = liveObjects;
    this.arenaSlots = arenaSlots;
    this.tcpRequests = tcpRequests;
  }

  /** Counts one protocol message put on the wire (called by the serializer). */
  public void messageSent() {
    messagesSent.increment();
  }

  /** Counts one successful one-sided read of {@code bytes} through {@code reader}. */
  void oneSidedRead(PeerReader reader, int bytes) {
    oneSidedReads.increment();
    bytesRead.add(bytes);
    switch (reader.transport()) {
      case "shm" -> shmReads.increment();
      case "tcp" -> tcpReads.increment();
      case "rdma" -> rdmaReads.increment();
      default -> {}
    }
  }

  /** Counts a one-sided operation on {@code sync} if it is another node's region. */
  void oneSided(SyncAccess sync, boolean write, boolean read, int bytes) {
    if (sync instanceof PeerReader reader) {
      if (read) {
        oneSidedRead(reader, bytes);
      } else {
        oneSidedAtomics.increment();
      }
      if (write) {
        oneSidedWrites.increment();
      }
    }
  }

  public void localRead() {
    localReads.increment();
  }

  public void moveIn() {
    movesIn.increment();
  }

  public void lend() {
    lends.increment();
  }

  public void staleRejection() {
    staleRejections.increment();
  }

  public DsmCounters snapshot() {
    return new DsmCounters(
        localReads.sum(),
        localWrites.sum(),
        cacheHits.sum(),
        oneSidedReads.sum(),
        bytesRead.sum(),
        movesIn.sum(),
        movesOut.sum(),
        messagesSent.sum(),
        snapshotsPublished.sum(),
        lends.sum(),
        borrowConflicts.sum(),
        staleRejections.sum(),
        liveObjects.getAsLong(),
        arenaSlots.getAsLong(),
        shmReads.sum(),
        tcpReads.sum(),
        rdmaReads.sum(),
        oneSidedAtomics.sum(),
        oneSidedWrites.sum(),
        tcpRequests.getAsLong());
  }
}
