package dev.pekkodsm.memory;

import static dev.pekkodsm.memory.Frames.CODEC;
import static dev.pekkodsm.memory.Frames.MAX_FRAME;

import dev.pekkodsm.memory.rdma.Rdma;
import dev.pekkodsm.memory.rdma.RdmaArenaServer;
import dev.pekkodsm.memory.rdma.RdmaTransport;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;

/**
 * The sync region's conformance suite over {@code rdma}: RDMA atomics, reads and writes through
 * DiSNI. Where RDMA is unavailable (as on the machines this project is built on: no InfiniBand in
 * the kernel, no {@code libdisni}) every test is reported skipped with the probe's cause. Set
 * {@code -Dpekko.dsm.rdma.test.host} to the IPv4 address of the RDMA interface to run it on
 * hardware; the NIC's atomics must be atomic with the CPU's ({@code ATOMIC_GLOB}), since the suite
 * mixes both on one cell.
 */
class RdmaSyncTest extends SyncConformanceTest {

  @BeforeEach
  void requireRdma() {
    Assumptions.assumeTrue(
        Rdma.isAvailable(), () -> "RDMA is unavailable: " + Rdma.unavailabilityCause());
  }

  @Override
  PeerReader open(SnapshotArena arena, SyncRegion region) throws Exception {
    RdmaArenaServer server =
        closeLater(RdmaArenaServer.start(arena, region, RdmaConformanceTest.settings()));
    RdmaTransport transport =
        closeLater(new RdmaTransport(CODEC, MAX_FRAME, RdmaConformanceTest.settings()));
    return transport.open(
        PeerEndpoint.shmOnly(arena.endpoint(), "elsewhere")
            .withRdma(server.address().getAddress().getHostAddress(), server.address().getPort()));
  }
}
