package dev.pekkodsm.memory;

import static dev.pekkodsm.memory.Frames.CODEC;
import static dev.pekkodsm.memory.Frames.NODE;
import static dev.pekkodsm.memory.Frames.decode;
import static dev.pekkodsm.memory.Frames.frame;
import static dev.pekkodsm.memory.Frames.settings;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SnapshotArenaTest {

  @TempDir Path dir;

  @Test
  void shouldReadBackWhatWasPublished() {
    try (SnapshotArena arena = SnapshotArena.create(settings(dir, 1 << 20, 4), NODE, CODEC)) {
      byte[] f = frame("hello", 7, 0);
      long locator = arena.publish(f, f.length);
      ReadBuffer out = new ReadBuffer(16);
      assertEquals(ReadStatus.OK, arena.read(locator, 7, 0, out));
      assertEquals("hello", decode(out));
      assertEquals(1, arena.liveSlots());
    }
  }

  @Test
  void shouldReportAFreedSlotAndThenItsReuse() {
    try (SnapshotArena arena = SnapshotArena.create(settings(dir, 1 << 20, 4), NODE, CODEC)) {
      byte[] f = frame("first", 1, 0);
      long locator = arena.publish(f, f.length);
      arena.free(locator);
      ReadBuffer out = new ReadBuffer(16);
      assertEquals(ReadStatus.FREED, arena.read(locator, 1, 0, out));
      byte[] g = frame("other", 2, 0);
      long reused = arena.publish(g, g.length);
      assertEquals(locator, reused, "a freed slot of the same class is reused");
      assertEquals(ReadStatus.STALE, arena.read(locator, 1, 0, out));
      assertEquals(ReadStatus.OK, arena.read(reused, 2, 0, out));
      assertEquals(ReadStatus.STALE, arena.read(reused, 2, 1, out), "another color is stale");
      assertEquals(0, arena.liveSlots() - 1);
    }
  }

  @Test
  void shouldReportANeverWrittenSlotAsFreedAndAWildLocatorAsOutOfRange() {
    try (SnapshotArena arena = SnapshotArena.create(settings(dir, 1 << 20, 4), NODE, CODEC)) {
      ReadBuffer out = new ReadBuffer(16);
      assertEquals(ReadStatus.FREED, arena.read(SlotLayout.locator(0, 8192), 1, 0, out));
      assertEquals(ReadStatus.OUT_OF_RANGE, arena.read(SlotLayout.locator(0, 100), 1, 0, out));
      assertEquals(ReadStatus.OUT_OF_RANGE, arena.read(SlotLayout.locator(0, 1 << 20), 1, 0, out));
      assertEquals(ReadStatus.OUT_OF_RANGE, arena.read(SlotLayout.locator(3, 8192), 1, 0, out));
      assertEquals(ReadStatus.OUT_OF_RANGE, arena.read(-1L, 1, 0, out));
    }
  }

  @Test
  void shouldUseSizeClassesThatWasteAtMostAQuarter() {
    int previous = 0;
    for (int size = 32; size < 20_000_000; size += 1 + size / 7) {
      int capacity = SlotLayout.capacityFor(size);
      int needed = size + SlotLayout.SLOT_HEADER_BYTES;
      assertTrue(capacity >= needed, "size " + size);
      assertEquals(0, capacity % SlotLayout.SLOT_ALIGNMENT, "alignment of " + size);
      if (needed > 256) {
        assertTrue(capacity - needed <= needed / 4, "waste for " + size + ": " + capacity);
      }
      assertTrue(capacity >= previous);
      previous = capacity;
    }
  }

  @Test
  void shouldGrowSegmentsAndThenRefuseWithAClearError() {
    try (SnapshotArena arena = SnapshotArena.create(settings(dir, 1 << 16, 2), NODE, CODEC)) {
      byte[] f = frame(new byte[4000], 1, 0);
      Set<Long> locators = new HashSet<>();
      var e =
          assertThrows(
              ArenaFullException.class,
              () -> {
                for (int i = 0; i < 1000; i++) {
                  locators.add(arena.publish(f, f.length));
                }
              });
      assertTrue(e.getMessage().contains("max-segments"), e.getMessage());
      assertEquals(2, arena.segmentCount());
      assertTrue(locators.size() >= 2 * 14, "both segments were used: " + locators.size());
      // Freeing one makes room again.
      long some = locators.iterator().next();
      arena.free(some);
      assertEquals(some, arena.publish(f, f.length));
    }
  }

  @Test
  void shouldRewriteInPlaceOnlyWhenTheFrameFits() {
    try (SnapshotArena arena = SnapshotArena.create(settings(dir, 1 << 20, 4), NODE, CODEC)) {
      byte[] f = frame("aaaa", 1, 0);
      long locator = arena.publish(f, f.length);
      byte[] g = frame("bbbb", 1, 0);
      assertTrue(arena.rewrite(locator, g, g.length));
      ReadBuffer out = new ReadBuffer(16);
      assertEquals(ReadStatus.OK, arena.read(locator, 1, 0, out));
      assertEquals("bbbb", decode(out));
      byte[] big = frame("x".repeat(5000), 1, 0);
      assertFalse(arena.rewrite(locator, big, big.length));
    }
  }

  @Test
  void shouldDeleteItsFilesOnClose() throws IOException {
    SnapshotArena arena = SnapshotArena.create(settings(dir, 1 << 16, 2), NODE, CODEC);
    Path folder = arena.folder();
    assertTrue(Files.exists(SnapshotArena.segmentPath(folder, 0)));
    arena.close();
    assertFalse(Files.exists(folder));
    arena.close();
    byte[] f = frame("late", 1, 0);
    assertThrows(IllegalStateException.class, () -> arena.publish(f, f.length));
  }

  @Test
  void shouldDeleteFoldersOfDeadProcessesOnly() throws Exception {
    Process dead = new ProcessBuilder("true").start();
    dead.waitFor();
    String namespace = Files.readSymbolicLink(Path.of("/proc/self/ns/pid")).toString();
    Path deadFolder = Files.createDirectory(dir.resolve("pekko-dsm-dead"));
    Files.writeString(
        deadFolder.resolve("owner"),
        "pid=" + dead.pid() + "\npidns=" + namespace + "\n",
        StandardCharsets.UTF_8);
    Path liveFolder = Files.createDirectory(dir.resolve("pekko-dsm-live"));
    Files.writeString(
        liveFolder.resolve("owner"),
        "pid=" + ProcessHandle.current().pid() + "\npidns=" + namespace + "\n");
    Path foreignFolder = Files.createDirectory(dir.resolve("pekko-dsm-foreign"));
    Files.writeString(foreignFolder.resolve("owner"), "pid=" + dead.pid() + "\npidns=pid:[1]\n");
    Path unrelated = Files.createDirectory(dir.resolve("something-else"));

    assertEquals(1, ArenaFolders.deleteStale(dir));
    assertFalse(Files.exists(deadFolder));
    assertTrue(Files.exists(liveFolder));
    assertTrue(Files.exists(foreignFolder), "another pid namespace is not judged");
    assertTrue(Files.exists(unrelated));
  }

  @Test
  void shouldGiveEachArenaItsOwnToken() {
    try (SnapshotArena a = SnapshotArena.create(settings(dir, 1 << 16, 1), NODE, CODEC);
        SnapshotArena b = SnapshotArena.create(settings(dir, 1 << 16, 1), NODE, CODEC)) {
      assertNotEquals(a.endpoint().tokenHi(), b.endpoint().tokenHi());
      assertNotEquals(a.folder(), b.folder());
    }
  }
}
