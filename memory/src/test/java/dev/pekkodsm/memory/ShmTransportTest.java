package dev.pekkodsm.memory;

import static dev.pekkodsm.memory.Frames.CODEC;
import static dev.pekkodsm.memory.Frames.MAX_FRAME;
import static org.junit.jupiter.api.Assertions.assertEquals;
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
  void shouldTellTheCurrentColorWithoutCopyingTheFrame() throws Exception {
    try (SnapshotArena arena =
            SnapshotArena.create(Frames.settings(dir, 1 << 16, 1), Frames.NODE, CODEC);
        PeerReader reader = open(arena)) {
      byte[] first = Frames.frame("v1", 7, 1);
      long at = arena.publish(first, first.length);
      ReadBuffer buffer = new ReadBuffer(64);
      long deadline = System.nanoTime() + 1_000_000_000L;
      assertEquals(
          ReadStatus.OK,
          reader.read(
              at,
              7,
              dev.pekkodsm.serialization.internal.SnapshotCodec.ANY_COLOR,
              buffer,
              deadline));
      assertEquals(1, reader.peekColor(at, 7, deadline));
      assertEquals(1, arena.peekColor(at, 7));

      byte[] second = Frames.frame("v2", 7, 2);
      assertTrue(arena.rewrite(at, second, second.length), "republished in place");
      assertEquals(2, reader.peekColor(at, 7, deadline), "a new version is seen at once");
      assertEquals(-1, reader.peekColor(at, 8, deadline), "another object's slot");
      assertEquals(-1, reader.peekColor(at + 1, 7, deadline), "not a slot");
      assertEquals(-1, reader.peekColor(1L << 40, 7, deadline), "outside the arena");

      int seqAt = (int) SlotLayout.offset(at);
      tamper(arena, raw -> raw.putLong(seqAt, 5)); // a writer that never finishes
      long started = System.nanoTime();
      assertEquals(-1, reader.peekColor(at, 7, System.nanoTime() + 50_000_000L));
      assertTrue(System.nanoTime() - started < 1_000_000_000L, "gives up within its budget");
      tamper(arena, raw -> raw.putLong(seqAt, 6));
      arena.free(at);
      assertEquals(-1, reader.peekColor(at, 7, deadline), "freed");
    }
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
