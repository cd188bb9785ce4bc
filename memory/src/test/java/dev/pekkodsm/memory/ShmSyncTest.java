package dev.pekkodsm.memory;

import static dev.pekkodsm.memory.Frames.CODEC;
import static dev.pekkodsm.memory.Frames.MAX_FRAME;

/**
 * The sync region's conformance suite over {@code shm}: atomic instructions on a shared mapping.
 */
class ShmSyncTest extends SyncConformanceTest {

  final ShmTransport shm = new ShmTransport(CODEC, MAX_FRAME);

  @Override
  PeerReader open(SnapshotArena arena, SyncRegion region) throws Exception {
    return shm.open(PeerEndpoint.shmOnly(arena.endpoint(), "test-host"));
  }
}
