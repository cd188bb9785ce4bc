package dev.pekkodsm.memory;

import static dev.pekkodsm.memory.Frames.CODEC;
import static dev.pekkodsm.memory.Frames.MAX_FRAME;
import static dev.pekkodsm.memory.Frames.NODE;
import static dev.pekkodsm.memory.Frames.decode;
import static dev.pekkodsm.memory.Frames.frame;
import static dev.pekkodsm.memory.Frames.settings;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SnapshotArenaMirrorTest {

  @TempDir Path dir;

  /** One record of what the primary wrote: a slot's new frame, or its free. */
  record Record(long locator, int capacity, byte[] frame, int length) {
    static Record free(long locator) {
      return new Record(locator, 0, null, 0);
    }

    void applyTo(SnapshotArena mirror) {
      if (frame == null) {
        mirror.applyFree(locator);
      } else {
        mirror.applyWrite(locator, capacity, frame, length);
      }
    }
  }

  /** Drives a primary with a random mix of publish, reserve, rewrite and free, logging records. */
  static final class Workload {
    final SnapshotArena primary;
    final Random random;
    final List<Record> records = new ArrayList<>();
    final Map<Long, long[]> live = new LinkedHashMap<>(); // locator -> {object, color}
    final Set<Long> everUsed = new HashSet<>();
    final Set<Long> objects = new HashSet<>();
    int step;

    Workload(SnapshotArena primary, long seed) {
      this.primary = primary;
      this.random = new Random(seed);
    }

    void run(int steps) {
      for (int i = 0; i < steps; i++) {
        int op = random.nextInt(10);
        long any = live.isEmpty() ? -1 : pick();
        if (any != -1 && (op < 3 || primary.liveBytes() > 180_000)) {
          free(any);
        } else if (any != -1 && op < 5) {
          rewrite(any);
        } else {
          publish(op == 9);
        }
      }
    }

    private long pick() {
      List<Long> locators = new ArrayList<>(live.keySet());
      return locators.get(random.nextInt(locators.size()));
    }

    private byte[] nextFrame(long object, int color) {
      int size = random.nextInt(8) == 0 ? 200 + random.nextInt(9000) : 4 + random.nextInt(300);
      byte[] payload = new byte[size];
      random.nextBytes(payload);
      ByteBuffer.wrap(payload).putInt(++step); // no two frames alike
      objects.add(object);
      return frame(payload, object, color);
    }

    private void publish(boolean reserve) {
      long object = 1 + random.nextInt(40);
      int color = random.nextInt(3);
      byte[] f = nextFrame(object, color);
      long locator;
      try {
        locator =
            reserve
                ? primary.reserve(f, f.length, f.length + random.nextInt(2000))
                : primary.publish(f, f.length);
      } catch (ArenaFullException e) {
        return;
      }
      records.add(new Record(locator, capacityOf(primary, locator), f, f.length));
      live.put(locator, new long[] {object, color});
      everUsed.add(locator);
    }

    private void rewrite(long locator) {
      long[] owner = live.get(locator);
      int color = random.nextInt(3);
      byte[] f = nextFrame(owner[0], color);
      if (primary.rewrite(locator, f, f.length)) {
        records.add(new Record(locator, capacityOf(primary, locator), f, f.length));
        live.put(locator, new long[] {owner[0], color});
      }
    }

    private void free(long locator) {
      primary.free(locator);
      records.add(Record.free(locator));
      live.remove(locator);
    }
  }

  static int capacityOf(SnapshotArena arena, long locator) {
    return arena.frameCapacityOf(locator) + SlotLayout.SLOT_HEADER_BYTES;
  }

  ArenaSettings arenaSettings() {
    return settings(dir, 1 << 16, 16);
  }

  SnapshotArena mirrorOf(SnapshotArena primary) {
    ArenaEndpoint endpoint = primary.endpoint();
    return SnapshotArena.mirror(
        primary.settings(), endpoint.node(), endpoint.tokenHi(), endpoint.tokenLo(), CODEC);
  }

  /** Asserts that every segment of the two arenas holds the same bytes. */
  static void assertSameSegments(SnapshotArena primary, SnapshotArena mirror) {
    assertEquals(primary.segmentCount(), mirror.segmentCount(), "segments");
    for (int i = 0; i < primary.segmentCount(); i++) {
      ByteBuffer a = primary.segment(i);
      ByteBuffer b = mirror.segment(i);
      int at = a.mismatch(b);
      assertEquals(-1, at, "segment " + i + " differs at byte " + at);
    }
  }

  /** Asserts that every read of every slot the workload used gives the same status and bytes. */
  static void assertSameReads(Workload workload, SnapshotArena mirror) {
    ReadBuffer a = new ReadBuffer(64);
    ReadBuffer b = new ReadBuffer(64);
    Set<Long> objects = new HashSet<>(workload.objects);
    objects.add(999L);
    int ok = 0;
    for (long locator : workload.everUsed) {
      for (long object : objects) {
        for (int color = 0; color < 3; color++) {
          ReadStatus expected = workload.primary.read(locator, object, color, a);
          assertEquals(expected, mirror.read(locator, object, color, b), "read of " + locator);
          if (expected == ReadStatus.OK) {
            ok++;
            assertArrayEquals(
                Arrays.copyOf(a.bytes(), a.length()), Arrays.copyOf(b.bytes(), b.length()));
          }
        }
      }
    }
    assertEquals(workload.live.size(), ok, "each live slot reads OK once");
  }

  @Test
  void shouldHoldTheSameBytesAndReadsAsThePrimaryAfterItsRecords() {
    for (long seed = 1; seed <= 4; seed++) {
      try (SnapshotArena primary = SnapshotArena.create(arenaSettings(), NODE, CODEC);
          SnapshotArena mirror = mirrorOf(primary)) {
        Workload workload = new Workload(primary, seed);
        workload.run(600);
        assertTrue(primary.segmentCount() > 2, "the workload spans segments");
        assertTrue(
            workload.records.stream()
                .anyMatch(r -> r.frame() != null && !workload.live.containsKey(r.locator())),
            "some slot was freed");
        workload.records.forEach(r -> r.applyTo(mirror));
        assertSameSegments(primary, mirror);
        assertSameReads(workload, mirror);
        assertEquals(primary.liveSlots(), mirror.liveSlots());
        assertEquals(primary.liveBytes(), mirror.liveBytes());
      }
    }
  }

  @Test
  void shouldChangeNothingWhenARecordIsRepeated() {
    try (SnapshotArena primary = SnapshotArena.create(arenaSettings(), NODE, CODEC);
        SnapshotArena mirror = mirrorOf(primary)) {
      Workload workload = new Workload(primary, 7);
      workload.run(400);
      for (Record record : workload.records) {
        record.applyTo(mirror);
        record.applyTo(mirror);
      }
      // Equal sequences too: a repeated record does not even take the slot's seqlock.
      assertSameSegments(primary, mirror);
      assertSameReads(workload, mirror);
      assertEquals(primary.liveSlots(), mirror.liveSlots());
      assertEquals(primary.liveBytes(), mirror.liveBytes());
    }
  }

  @Test
  void shouldRefuseHostileRecordsAndChangeNothing() {
    ArenaSettings settings = arenaSettings();
    try (SnapshotArena mirror = SnapshotArena.mirror(settings, NODE, 1, 2, CODEC)) {
      byte[] small = frame("x", 1, 0);
      assertTrue(small.length <= 48, "a frame for a 64-byte slot: " + small.length);
      byte[] f = frame(new byte[60], 2, 0);
      assertEquals(128, SlotLayout.capacityFor(f.length));
      long first = SlotLayout.locator(0, 4096);
      long second = SlotLayout.locator(0, 8192);
      mirror.applyWrite(first, 128, f, f.length);
      mirror.applyWrite(second, 64, small, small.length);
      mirror.applyFree(second);
      byte[] before = copy(mirror.segment(0));
      int largest = SlotLayout.capacityFor(settings.maxFrameBytes());
      int end = settings.segmentBytes();

      refused(mirror, "max-segments", SlotLayout.locator(16, 4096), 128, f, f.length);
      refused(mirror, "aligned", SlotLayout.locator(0, 0), 128, f, f.length);
      refused(mirror, "aligned", SlotLayout.locator(0, 4096 + 4096 + 32), 128, f, f.length);
      refused(mirror, "size class", SlotLayout.locator(0, 16384), 100, f, f.length);
      refused(mirror, "size class", SlotLayout.locator(0, 16384), 288, f, f.length);
      refused(mirror, "size class", SlotLayout.locator(0, 16384), 0, f, f.length);
      refused(mirror, "size class", SlotLayout.locator(0, 4096), 2 * largest, f, f.length);
      refused(mirror, "ends past", SlotLayout.locator(0, end - 64), 128, f, f.length);
      refused(mirror, "frame of", SlotLayout.locator(0, 16384), 128, f, 10);
      refused(mirror, "frame of", SlotLayout.locator(0, 16384), 128, f, f.length + 1);
      refused(mirror, "frame of", SlotLayout.locator(0, 16384), 128, null, 40);
      refused(mirror, "cannot hold", SlotLayout.locator(0, 16384), 64, f, f.length);
      refused(mirror, "has capacity", first, 256, f, f.length);
      refused(mirror, "has capacity", second, 128, f, f.length);
      refused(mirror, "overlaps", SlotLayout.locator(0, 4096 + 64), 64, small, small.length);
      refused(mirror, "overlaps", SlotLayout.locator(0, 8192 - 128), 256, f, f.length);
      refused(mirror, "cannot hold", SlotLayout.locator(2, 4096), 64, f, f.length);
      var e =
          assertThrows(
              IllegalArgumentException.class, () -> mirror.applyFree(SlotLayout.locator(0, 12288)));
      assertTrue(e.getMessage().contains("never written"), e.getMessage());

      assertArrayEquals(before, copy(mirror.segment(0)), "no byte changed");
      assertEquals(1, mirror.segmentCount(), "no segment was created");
      assertEquals(1, mirror.liveSlots());
      assertEquals(128, mirror.liveBytes());
      // Nothing was learnt either: the freed 64-byte slot is the one a promoted mirror reuses.
      mirror.promote();
      assertEquals(second, mirror.publish(small, small.length));
    }
  }

  private static void refused(
      SnapshotArena mirror, String problem, long locator, int capacity, byte[] f, int length) {
    var e =
        assertThrows(
            IllegalArgumentException.class, () -> mirror.applyWrite(locator, capacity, f, length));
    assertTrue(e.getMessage().contains(problem), problem + " in: " + e.getMessage());
  }

  private static byte[] copy(ByteBuffer segment) {
    byte[] bytes = new byte[segment.remaining()];
    segment.get(bytes);
    return bytes;
  }

  @Test
  void shouldAllocateAroundLiveSlotsAndReuseFreedOnesOncePromoted() {
    try (SnapshotArena primary = SnapshotArena.create(arenaSettings(), NODE, CODEC);
        SnapshotArena mirror = mirrorOf(primary)) {
      Workload workload = new Workload(primary, 11);
      workload.run(600);
      workload.records.forEach(r -> r.applyTo(mirror));
      Map<Long, Integer> liveAtPromotion = new TreeMap<>();
      workload.live.keySet().forEach(l -> liveAtPromotion.put(l, capacityOf(primary, l)));
      int lastSegment = primary.segmentCount() - 1;
      assertTrue(
          liveAtPromotion.keySet().stream().anyMatch(l -> SlotLayout.segment(l) == lastSegment),
          "the last segment holds live slots, so a bump pointer reset would overlap them");
      Map<Integer, Set<Long>> freedByCapacity = new HashMap<>();
      for (long locator : workload.everUsed) {
        if (!workload.live.containsKey(locator)) {
          freedByCapacity
              .computeIfAbsent(capacityOf(primary, locator), c -> new HashSet<>())
              .add(locator);
        }
      }
      assertFalse(freedByCapacity.isEmpty(), "some slots were freed");

      mirror.promote();
      assertFalse(mirror.isMirror());
      assertEquals(workload.live.size(), mirror.liveSlots());
      assertEquals(primary.liveBytes(), mirror.liveBytes());

      // A frame of each freed class takes a freed slot of that class.
      Map<Long, Integer> added = new TreeMap<>();
      for (Map.Entry<Integer, Set<Long>> freed : freedByCapacity.entrySet()) {
        byte[] f = frameForCapacity(freed.getKey(), 500 + added.size());
        long locator = mirror.publish(f, f.length);
        assertTrue(freed.getValue().contains(locator), "slot of " + freed.getKey() + " reused");
        added.put(locator, freed.getKey());
      }
      // Then fill the arena.
      Random random = new Random(3);
      try {
        for (int i = 0; i < 5000; i++) {
          byte[] f = frame(new byte[random.nextInt(3000)], 600 + i, 0);
          long locator = mirror.publish(f, f.length);
          added.put(locator, capacityOf(mirror, locator));
        }
      } catch (ArenaFullException expected) {
        // full: every slot it could give is in `added`
      }
      assertEquals(workload.live.size() + added.size(), mirror.liveSlots());
      TreeMap<Long, Integer> all = new TreeMap<>(liveAtPromotion);
      for (Map.Entry<Long, Integer> slot : added.entrySet()) {
        assertEquals(null, all.put(slot.getKey(), slot.getValue()), "handed out twice");
      }
      long previousEnd = -1;
      for (Map.Entry<Long, Integer> slot : all.entrySet()) {
        assertTrue(slot.getKey() >= previousEnd, "slot " + slot.getKey() + " overlaps");
        previousEnd = slot.getKey() + slot.getValue();
      }
      // The slots live at promotion still hold what they held on the primary.
      ReadBuffer a = new ReadBuffer(64);
      ReadBuffer b = new ReadBuffer(64);
      for (long locator : liveAtPromotion.keySet()) {
        long[] owner = workload.live.get(locator);
        assertEquals(ReadStatus.OK, primary.read(locator, owner[0], (int) owner[1], a));
        assertEquals(ReadStatus.OK, mirror.read(locator, owner[0], (int) owner[1], b));
        assertArrayEquals(
            Arrays.copyOf(a.bytes(), a.length()), Arrays.copyOf(b.bytes(), b.length()));
      }
    }
  }

  /** A frame whose slot is exactly {@code capacity} bytes. */
  private static byte[] frameForCapacity(int capacity, long object) {
    for (int size = Math.max(0, capacity - 200); ; size++) {
      byte[] f = frame(new byte[size], object, 0);
      if (SlotLayout.capacityFor(f.length) == capacity) {
        return f;
      }
    }
  }

  @Test
  void shouldRefuseTheAllocatingApiBeforePromotionAndRecordsAfter() {
    try (SnapshotArena primary = SnapshotArena.create(arenaSettings(), NODE, CODEC);
        SnapshotArena mirror = mirrorOf(primary)) {
      byte[] f = frame("v", 1, 0);
      long locator = primary.publish(f, f.length);
      assertThrows(IllegalStateException.class, () -> primary.applyWrite(locator, 64, f, f.length));
      assertThrows(IllegalStateException.class, () -> primary.applyFree(locator));
      assertThrows(IllegalStateException.class, primary::promote);

      assertTrue(mirror.isMirror());
      mirror.applyWrite(locator, 64, f, f.length);
      assertThrows(IllegalStateException.class, () -> mirror.publish(f, f.length));
      assertThrows(IllegalStateException.class, () -> mirror.reserve(f, f.length, 100));
      assertThrows(IllegalStateException.class, () -> mirror.rewrite(locator, f, f.length));
      var e = assertThrows(IllegalStateException.class, () -> mirror.free(locator));
      assertTrue(e.getMessage().contains("promote()"), e.getMessage());
      ReadBuffer out = new ReadBuffer(16);
      assertEquals(ReadStatus.OK, mirror.read(locator, 1, 0, out), "the slot was kept");

      mirror.promote();
      assertFalse(mirror.isMirror());
      assertThrows(IllegalStateException.class, () -> mirror.applyWrite(locator, 64, f, f.length));
      assertThrows(IllegalStateException.class, () -> mirror.applyFree(locator));
      assertThrows(IllegalStateException.class, mirror::promote);
      byte[] g = frame("w", 1, 1);
      assertTrue(mirror.rewrite(locator, g, g.length));
      assertEquals(ReadStatus.OK, mirror.read(locator, 1, 1, out));
      assertEquals("w", decode(out));
      mirror.free(locator);
      assertEquals(0, mirror.liveSlots());
      assertEquals(locator, mirror.publish(f, f.length), "the slot freed after promotion");
    }
  }

  @Test
  void shouldLiveInARecognisableFolderThatStaleCleanupJudges() throws Exception {
    try (SnapshotArena primary = SnapshotArena.create(arenaSettings(), NODE, CODEC);
        SnapshotArena mirror = mirrorOf(primary)) {
      String name = mirror.folder().getFileName().toString();
      assertTrue(name.startsWith("pekko-dsm-" + Long.toHexString(NODE) + "-mirror-"), name);
      assertNotEquals(primary.folder(), mirror.folder());
      ArenaEndpoint a = primary.endpoint();
      ArenaEndpoint b = mirror.endpoint();
      assertEquals(
          List.of(a.node(), a.tokenHi(), a.tokenLo()), List.of(b.node(), b.tokenHi(), b.tokenLo()));
      assertEquals(0, ArenaFolders.deleteStale(dir), "this process owns both");

      Process dead = new ProcessBuilder("true").start();
      dead.waitFor();
      String owner = Files.readString(mirror.folder().resolve("owner"), StandardCharsets.UTF_8);
      Files.writeString(
          mirror.folder().resolve("owner"),
          owner.replace("pid=" + ProcessHandle.current().pid(), "pid=" + dead.pid()));
      assertEquals(1, ArenaFolders.deleteStale(dir));
      assertFalse(Files.exists(mirror.folder()));
      assertTrue(Files.exists(primary.folder()));
    }
  }

  @Test
  void shouldBeReadableThroughShmAsThePrimaryIs() throws Exception {
    try (SnapshotArena primary = SnapshotArena.create(arenaSettings(), NODE, CODEC);
        SnapshotArena mirror = mirrorOf(primary);
        ShmTransport shm = new ShmTransport(CODEC, MAX_FRAME)) {
      byte[] f = frame("mirrored", 5, 2);
      long near = SlotLayout.locator(0, 4096);
      long far = SlotLayout.locator(3, 8192); // segments 1 to 3 are created for it
      mirror.applyWrite(near, SlotLayout.capacityFor(f.length), f, f.length);
      mirror.applyWrite(far, SlotLayout.capacityFor(f.length), f, f.length);
      assertEquals(4, mirror.segmentCount());
      try (PeerReader reader = shm.open(PeerEndpoint.shmOnly(mirror.endpoint(), "test-host"))) {
        ReadBuffer out = new ReadBuffer(16);
        long deadline = System.nanoTime() + 1_000_000_000L;
        for (long locator : new long[] {near, far}) {
          assertEquals(ReadStatus.OK, reader.read(locator, 5, 2, out, deadline));
          assertEquals("mirrored", decode(out));
          assertEquals(2, reader.peekColor(locator, 5, deadline));
        }
        mirror.applyFree(far);
        assertEquals(ReadStatus.FREED, reader.read(far, 5, 2, out, deadline));
        assertEquals(
            ReadStatus.OUT_OF_RANGE, reader.read(SlotLayout.locator(4, 4096), 5, 2, out, deadline));
      }
    }
  }
}
