package dev.pekkodsm;

/**
 * A snapshot of one node's DSM counters. Counts are cumulative since the node started; use {@link
 * #minus(DsmCounters)} for the activity between two snapshots.
 *
 * @param localReads shared borrows of objects homed on this node (no message, no copy)
 * @param localWrites mutable borrows of objects homed on this node, written in place
 * @param cacheHits references whose first read was served from this node's read cache
 * @param oneSidedReads snapshots read from another node's arena
 * @param bytesRead bytes copied by one-sided reads
 * @param movesIn objects moved to this node by a mutable borrow here
 * @param movesOut objects that left this node for a writer elsewhere
 * @param messagesSent DSM protocol messages this node put on the wire
 * @param snapshotsPublished snapshots serialized into this node's arena
 * @param lends shared references lent by objects homed here
 * @param borrowConflicts borrows that gave up waiting for a conflicting holder
 * @param staleRejections uses of released or outdated references that were refused
 * @param liveObjects objects homed on this node now
 * @param arenaSlots snapshots published in this node's arena now
 * @param shmReads one-sided reads served by mapping a same-host peer's arena
 * @param tcpReads one-sided reads served by a peer's tcp read server
 * @param rdmaReads one-sided reads served by RDMA
 * @param oneSidedAtomics atomic operations on another node's sync region (lock words, atomics)
 * @param oneSidedWrites values written into another node's sync region (mutex commits)
 * @param tcpRequests requests this node sent to peers' tcp read servers (reads, and operations on
 *     their sync regions), each answered by one reply: the messages one-sided access costs over tcp
 */
public record DsmCounters(
    long localReads,
    long localWrites,
    long cacheHits,
    long oneSidedReads,
    long bytesRead,
    long movesIn,
    long movesOut,
    long messagesSent,
    long snapshotsPublished,
    long lends,
    long borrowConflicts,
    long staleRejections,
    long liveObjects,
    long arenaSlots,
    long shmReads,
    long tcpReads,
    long rdmaReads,
    long oneSidedAtomics,
    long oneSidedWrites,
    long tcpRequests) {

  /** The difference between this snapshot and an earlier one (gauges are taken as they are). */
  public DsmCounters minus(DsmCounters earlier) {
    return new DsmCounters(
        localReads - earlier.localReads,
        localWrites - earlier.localWrites,
        cacheHits - earlier.cacheHits,
        oneSidedReads - earlier.oneSidedReads,
        bytesRead - earlier.bytesRead,
        movesIn - earlier.movesIn,
        movesOut - earlier.movesOut,
        messagesSent - earlier.messagesSent,
        snapshotsPublished - earlier.snapshotsPublished,
        lends - earlier.lends,
        borrowConflicts - earlier.borrowConflicts,
        staleRejections - earlier.staleRejections,
        liveObjects,
        arenaSlots,
        shmReads - earlier.shmReads,
        tcpReads - earlier.tcpReads,
        rdmaReads - earlier.rdmaReads,
        oneSidedAtomics - earlier.oneSidedAtomics,
        oneSidedWrites - earlier.oneSidedWrites,
        tcpRequests - earlier.tcpRequests);
  }
}
