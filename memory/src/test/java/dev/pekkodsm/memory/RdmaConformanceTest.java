package dev.pekkodsm.memory;

import static dev.pekkodsm.memory.Frames.CODEC;
import static dev.pekkodsm.memory.Frames.MAX_FRAME;

import dev.pekkodsm.memory.rdma.Rdma;
import dev.pekkodsm.memory.rdma.RdmaArenaServer;
import dev.pekkodsm.memory.rdma.RdmaSettings;
import dev.pekkodsm.memory.rdma.RdmaTransport;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;

/**
 * The conformance suite over {@code rdma}. Where RDMA is unavailable (as on the machines this
 * project is built on: no InfiniBand in the kernel, no {@code libdisni}) every test is reported
 * skipped with the probe's cause. Set {@code -Dpekko.dsm.rdma.test.host} to the IPv4 address of the
 * RDMA interface to run it on hardware.
 */
class RdmaConformanceTest extends TransportConformanceTest {

  @BeforeEach
  void requireRdma() {
    Assumptions.assumeTrue(
        Rdma.isAvailable(), () -> "RDMA is unavailable: " + Rdma.unavailabilityCause());
  }

  static RdmaSettings settings() {
    return RdmaSettings.defaults(System.getProperty("pekko.dsm.rdma.test.host", "127.0.0.1"));
  }

  @Override
  PeerReader open(SnapshotArena arena) throws Exception {
    RdmaArenaServer server = closeLater(RdmaArenaServer.start(arena, settings()));
    RdmaTransport transport = closeLater(new RdmaTransport(CODEC, MAX_FRAME, settings()));
    return transport.open(
        PeerEndpoint.shmOnly(arena.endpoint(), "elsewhere")
            .withRdma(server.address().getAddress().getHostAddress(), server.address().getPort()));
  }

  /** RDMA reads involve no CPU at the owner: the unresponsive peer is a writer stuck mid-write. */
  @Override
  PeerReader unresponsive(SnapshotArena arena, long locator) throws Exception {
    int seqAt = (int) SlotLayout.offset(locator);
    tamper(arena, raw -> raw.putLong(seqAt, 3));
    return open(arena);
  }
}
