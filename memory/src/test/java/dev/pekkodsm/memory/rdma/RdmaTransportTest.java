package dev.pekkodsm.memory.rdma;

import static dev.pekkodsm.memory.rdma.RdmaFrames.CODEC;
import static dev.pekkodsm.memory.rdma.RdmaFrames.MAX_FRAME;
import static dev.pekkodsm.memory.rdma.RdmaFrames.decode;
import static dev.pekkodsm.memory.rdma.RdmaFrames.frame;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.pekkodsm.memory.ArenaEndpoint;
import dev.pekkodsm.memory.PeerEndpoint;
import dev.pekkodsm.memory.PeerReader;
import dev.pekkodsm.memory.ReadBuffer;
import dev.pekkodsm.memory.ReadStatus;
import dev.pekkodsm.memory.SlotLayout;
import dev.pekkodsm.memory.SnapshotArena;
import dev.pekkodsm.memory.TransportUnavailableException;
import java.io.IOException;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The rdma transport and listener: their fallback where RDMA is unavailable (every build machine of
 * this project), and a read over real RDMA where it is available. Set {@code
 * -Dpekko.dsm.rdma.test.host} to the IPv4 address of the RDMA interface to use.
 */
@Timeout(60)
class RdmaTransportTest {

  @TempDir Path dir;

  private static PeerEndpoint peer(SnapshotArena arena, String rdmaHost, int rdmaPort) {
    return PeerEndpoint.shmOnly(arena.endpoint(), "another-host").withRdma(rdmaHost, rdmaPort);
  }

  @Test
  void shouldBeNamedRdmaAndTouchNothingUntilOpened() {
    RdmaTransport transport =
        new RdmaTransport(CODEC, MAX_FRAME, RdmaSettings.defaults("127.0.0.1"));
    assertEquals("rdma", transport.name());
    assertEquals(0, transport.connectionsOpened());
    transport.close();
    transport.close();
  }

  @Test
  void shouldRefuseToOpenWithTheProbesCauseWhereRdmaIsUnavailable() {
    assumeFalse(Rdma.isAvailable(), "RDMA is available on this machine");
    try (SnapshotArena arena = RdmaFrames.arena(dir, 0xA, 1 << 16, 1);
        RdmaTransport transport =
            new RdmaTransport(CODEC, MAX_FRAME, RdmaSettings.defaults("127.0.0.1"))) {
      TransportUnavailableException e =
          assertThrows(
              TransportUnavailableException.class,
              () -> transport.open(peer(arena, "10.0.0.7", 7471)));
      assertSame(Rdma.unavailabilityCause(), e.getCause());
      assertTrue(e.getMessage().contains(Rdma.unavailabilityCause().getMessage()), e.getMessage());
      // A peer without an RDMA endpoint is refused just the same, without touching DiSNI.
      TransportUnavailableException none =
          assertThrows(
              TransportUnavailableException.class,
              () -> transport.open(PeerEndpoint.shmOnly(arena.endpoint(), "h")));
      assertSame(Rdma.unavailabilityCause(), none.getCause());
    }
  }

  @Test
  void shouldRefuseToStartTheListenerWithTheProbesCauseWhereRdmaIsUnavailable() {
    assumeFalse(Rdma.isAvailable(), "RDMA is available on this machine");
    try (SnapshotArena arena = RdmaFrames.arena(dir, 0xA, 1 << 16, 1)) {
      IOException e =
          assertThrows(
              IOException.class,
              () -> RdmaArenaServer.start(arena, RdmaSettings.defaults("127.0.0.1")));
      assertSame(Rdma.unavailabilityCause(), e.getCause());
      assertTrue(e.getMessage().contains(Rdma.unavailabilityCause().getMessage()), e.getMessage());
    }
  }

  // ---- On RDMA hardware (or SoftRoCE) only. ----

  private static String rdmaHost() throws SocketException {
    String configured = System.getProperty("pekko.dsm.rdma.test.host");
    if (configured != null && !configured.isBlank()) {
      return configured.trim();
    }
    for (NetworkInterface nic : Collections.list(NetworkInterface.getNetworkInterfaces())) {
      if (nic.isUp() && !nic.isLoopback()) {
        for (InetAddress address : Collections.list(nic.getInetAddresses())) {
          if (address instanceof Inet4Address) {
            return address.getHostAddress();
          }
        }
      }
    }
    return "127.0.0.1";
  }

  private static void assumeRdma() {
    assumeTrue(Rdma.isAvailable(), () -> "RDMA is unavailable: " + Rdma.unavailabilityCause());
  }

  private static long inFiveSeconds() {
    return System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
  }

  @Test
  void shouldReadFramesPublishedInAnotherArenaOverRdma() throws Exception {
    assumeRdma();
    RdmaSettings settings = RdmaSettings.defaults(rdmaHost()).withReadBuffers(4, 16 * 1024, 256);
    try (SnapshotArena owner = RdmaFrames.arena(dir.resolve("owner"), 0xA, 1 << 20, 4);
        SnapshotArena reader = RdmaFrames.arena(dir.resolve("reader"), 0xB, 1 << 20, 4);
        RdmaArenaServer readerServer = RdmaArenaServer.start(reader, settings);
        RdmaTransport transport = new RdmaTransport(CODEC, MAX_FRAME, settings)) {
      RdmaArenaServer ownerServer = RdmaArenaServer.start(owner, settings);
      try {
        readEverythingThenLoseTheListener(owner, reader, ownerServer, readerServer, transport);
      } finally {
        ownerServer.close(); // idempotent: the test closes it already
      }
    }
  }

  private static void readEverythingThenLoseTheListener(
      SnapshotArena owner,
      SnapshotArena reader,
      RdmaArenaServer ownerServer,
      RdmaArenaServer readerServer,
      RdmaTransport transport)
      throws Exception {
    int[] sizes = {0, 1, 200, 5000, 100_000};
    List<Long> locators = new ArrayList<>();
    List<byte[]> values = new ArrayList<>();
    for (int i = 0; i < sizes.length; i++) {
      byte[] value = new byte[sizes[i]];
      Arrays.fill(value, (byte) (i + 1));
      byte[] f = frame(0xA, value, 100 + i, i);
      locators.add(owner.publish(f, f.length));
      values.add(value);
    }
    byte[] back = frame(0xB, "from B", 1, 0);
    long backLocator = reader.publish(back, back.length);

    String host = ownerServer.address().getAddress().getHostAddress();
    try (PeerReader ofOwner = transport.open(peer(owner, host, ownerServer.address().getPort()));
        PeerReader ofReader =
            transport.open(
                peer(
                    reader,
                    readerServer.address().getAddress().getHostAddress(),
                    readerServer.address().getPort()))) {
      assertEquals("rdma", ofOwner.transport());
      ReadBuffer out = new ReadBuffer(8);
      for (int i = 0; i < sizes.length; i++) {
        assertEquals(
            ReadStatus.OK, ofOwner.read(locators.get(i), 100 + i, i, out, inFiveSeconds()));
        assertArrayEquals(values.get(i), (byte[]) decode(out), "size " + sizes[i]);
      }
      assertEquals(ReadStatus.OK, ofReader.read(backLocator, 1, 0, out, inFiveSeconds()));
      assertEquals("from B", decode(out));

      // Freed, reused, and outside the arena.
      assertEquals(ReadStatus.STALE, ofOwner.read(locators.get(0), 100, 9, out, inFiveSeconds()));
      owner.free(locators.get(1));
      assertEquals(ReadStatus.FREED, ofOwner.read(locators.get(1), 101, 1, out, inFiveSeconds()));
      assertEquals(
          ReadStatus.OUT_OF_RANGE,
          ofOwner.read(SlotLayout.locator(3, 4096), 1, 0, out, inFiveSeconds()));
      assertEquals(
          ReadStatus.OUT_OF_RANGE,
          ofOwner.read(SlotLayout.locator(9, 4096), 1, 0, out, inFiveSeconds()));
      assertEquals(
          ReadStatus.OUT_OF_RANGE,
          ofOwner.read(SlotLayout.locator(0, 1 << 20), 1, 0, out, inFiveSeconds()));

      // A segment the owner adds after the reader connected.
      byte[] big = frame(0xA, new byte[300_000], 7, 0);
      long later = -1;
      while (owner.segmentCount() < 2) {
        later = owner.publish(big, big.length);
      }
      assertEquals(1, SlotLayout.segment(later));
      assertEquals(ReadStatus.OK, ofOwner.read(later, 7, 0, out, inFiveSeconds()));
      assertEquals(big.length, out.length());
    }

    // The listener going away is seen as UNAVAILABLE, not as a hang.
    PeerReader lost = transport.open(peer(owner, host, ownerServer.address().getPort()));
    ownerServer.close();
    ReadStatus status = ReadStatus.OK;
    long giveUp = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (status == ReadStatus.OK && System.nanoTime() - giveUp < 0) {
      status = lost.read(locators.get(2), 102, 2, new ReadBuffer(8), inFiveSeconds());
    }
    assertTrue(
        status == ReadStatus.UNAVAILABLE || status == ReadStatus.TIMED_OUT, "status " + status);
    lost.close();
  }

  @Test
  void shouldRefuseAListenerThatServesAnotherArena() throws Exception {
    assumeRdma();
    RdmaSettings settings = RdmaSettings.defaults(rdmaHost());
    try (SnapshotArena owner = RdmaFrames.arena(dir, 0xA, 1 << 20, 1);
        RdmaArenaServer server = RdmaArenaServer.start(owner, settings);
        RdmaTransport transport = new RdmaTransport(CODEC, MAX_FRAME, settings)) {
      ArenaEndpoint real = owner.endpoint();
      ArenaEndpoint impostor =
          new ArenaEndpoint(
              real.node(),
              real.directory(),
              real.tokenHi() + 1,
              real.tokenLo(),
              real.segmentBytes(),
              real.maxSegments());
      PeerEndpoint wrong =
          PeerEndpoint.shmOnly(impostor, "h")
              .withRdma(server.address().getAddress().getHostAddress(), server.address().getPort());
      TransportUnavailableException e =
          assertThrows(TransportUnavailableException.class, () -> transport.open(wrong));
      assertTrue(e.getMessage().contains("another arena"), e.getMessage());
      assertThrows(
          TransportUnavailableException.class,
          () -> transport.open(PeerEndpoint.shmOnly(real, "h")),
          "a peer without an RDMA endpoint");
    }
  }
}
