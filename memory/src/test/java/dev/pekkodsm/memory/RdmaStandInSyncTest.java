package dev.pekkodsm.memory;

import dev.pekkodsm.memory.rdma.NicStandIn;

/**
 * The sync region's conformance suite over the rdma protocol, with a stand-in for the NIC that
 * performs each work request on the region's mapped files (reads and writes as copies, atomics with
 * the CPU's instructions in this host's byte order). It runs everywhere; {@link RdmaSyncTest} runs
 * the same suite over DiSNI and a real NIC where one exists.
 */
class RdmaStandInSyncTest extends SyncConformanceTest {

  @Override
  PeerReader open(SnapshotArena arena, SyncRegion region) {
    return NicStandIn.peer(arena, region);
  }
}
