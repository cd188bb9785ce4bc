package dev.pekkodsm.memory;

import static dev.pekkodsm.memory.Frames.CODEC;
import static dev.pekkodsm.memory.Frames.MAX_FRAME;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The conformance suite over {@code shm}, plus what only a mapping transport has. */
class ShmTransportTest extends TransportConformanceTest {

  final ShmTransport shm = new ShmTransport(CODEC, MAX_FRAME);

  @Override
  PeerReader open(SnapshotArena arena) throws Exception {
    return shm.open(PeerEndpoint.shmOnly(arena.endpoint(), "test-host"));
  }

  /** A slot whose writer stopped mid-write: odd forever. */
  @Override
  PeerReader unresponsive(SnapshotArena arena, long locator) throws Exception {
    int seqAt = (int) SlotLayout.offset(locator);
    tamper(arena, raw -> raw.putLong(seqAt, 3));
    return open(arena);
  }

  @Test
  void shouldRefuseAnArenaWhoseTokenDoesNotMatch() {
    try (SnapshotArena arena =
        SnapshotArena.create(Frames.settings(dir, 1 << 16, 1), Frames.NODE, CODEC)) {
      ArenaEndpoint real = arena.endpoint();
      ArenaEndpoint impostor =
          new ArenaEndpoint(
              real.node(),
              real.directory(),
              real.tokenHi() + 1,
              real.tokenLo(),
              real.segmentBytes(),
              real.maxSegments());
      var e =
          assertThrows(
              TransportUnavailableException.class,
              () -> shm.open(PeerEndpoint.shmOnly(impostor, "h")));
      assertTrue(e.getMessage().contains("another arena"), e.getMessage());
      ArenaEndpoint elsewhere =
          new ArenaEndpoint(
              real.node(),
              dir.resolve("nope").toString(),
              real.tokenHi(),
              real.tokenLo(),
              real.segmentBytes(),
              real.maxSegments());
      var e2 =
          assertThrows(
              TransportUnavailableException.class,
              () -> shm.open(PeerEndpoint.shmOnly(elsewhere, "h")));
      assertTrue(e2.getMessage().contains("cannot map"), e2.getMessage());
    }
  }
}
