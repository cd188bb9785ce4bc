package dev.pekkodsm.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pekkodsm.coherence.NodeId;
import dev.pekkodsm.coherence.mutex.LockWord;
import dev.pekkodsm.coherence.replication.ReplicaRecord;
import dev.pekkodsm.memory.ArenaSettings;
import dev.pekkodsm.memory.ReadBuffer;
import dev.pekkodsm.memory.ReadStatus;
import dev.pekkodsm.memory.SlotLayout;
import dev.pekkodsm.memory.SnapshotArena;
import dev.pekkodsm.memory.SyncLayout;
import dev.pekkodsm.memory.SyncRegion;
import dev.pekkodsm.serialization.ClassRegistry;
import dev.pekkodsm.serialization.SerializationSettings;
import dev.pekkodsm.serialization.internal.KryoPool;
import dev.pekkodsm.serialization.internal.Purpose;
import dev.pekkodsm.serialization.internal.SnapshotCodec;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A backup's mirror taking writers' own commits (docs/DECISIONS.md, "Writers write the backup"),
 * fed with the records a primary's region ships, without a cluster: which commits it takes, and
 * that a repeated older word of the stream never overwrites one it took.
 */
class ReplicaHostTest {

  static final NodeId PRIMARY = NodeId.of(0xA11CEL);
  static final NodeId BACKUP = NodeId.of(0xB0BL);
  static final NodeId WRITER = NodeId.of(0xC0DEL);
  static final long OBJECT = 42;
  static final int CELLS = 16;

  static final SnapshotCodec CODEC =
      new SnapshotCodec(
          new KryoPool(
              ClassRegistry.empty(),
              new SerializationSettings(1 << 20, 64, true, 8),
              k -> {},
              "-"));

  @TempDir Path dir;

  SnapshotArena arena;
  SyncRegion primary;
  ReplicaHost host;
  final Set<NodeId> departed = new HashSet<>();
  long cell;
  long epoch = 1;
  long seq = 1;

  static ArenaSettings settings(Path dir) {
    return new ArenaSettings(dir, 1 << 16, 4, 1 << 14, false);
  }

  static byte[] frame(Object value, long object, int color) {
    return CODEC.encode(value, PRIMARY.value(), object, color, Purpose.SNAPSHOT);
  }

  @BeforeEach
  void start() throws Exception {
    arena =
        SnapshotArena.create(settings(Files.createDirectory(dir.resolve("p"))), 0xA11CEL, CODEC);
    primary = SyncRegion.create(arena, CELLS);
    host =
        new ReplicaHost(
            BACKUP, settings(Files.createDirectory(dir.resolve("b"))), CODEC, departed::contains);
    cell = primary.allocateCell(SyncLayout.KIND_MUTEX, OBJECT);
    List<ReplicaRecord> copy = new ArrayList<>();
    copy.add(
        new ReplicaRecord.Begin(
            arena.endpoint().tokenHi(), arena.endpoint().tokenLo(), 1 << 16, 4, CELLS));
    copy.add(new ReplicaRecord.CellAllocated(cell, SyncLayout.KIND_MUTEX, OBJECT));
    for (int field : new int[] {SyncLayout.LOCATOR_A, SyncLayout.LOCATOR_B}) {
      byte[] f = frame("v0", OBJECT, 0);
      long slot = primary.allocateValue(f, f.length, 64);
      copy.addAll(
          ReplicaRecord.SlotWritten.pieces(
              ReplicaRecord.VALUES,
              slot,
              primary.valueCapacity(slot) + SlotLayout.SLOT_HEADER_BYTES,
              f,
              f.length,
              1 << 16));
      copy.add(new ReplicaRecord.CellField(cell, field, slot));
    }
    copy.add(new ReplicaRecord.CellField(cell, SyncLayout.WORD, LockWord.initial()));
    ship(copy);
  }

  @AfterEach
  void stop() {
    host.close();
    primary.close();
    arena.close();
  }

  void ship(List<ReplicaRecord> records) {
    Protocol.ReplicaAnswer answer =
        host.receive(
            new Protocol.Replicate(PRIMARY.value(), PRIMARY.value(), epoch, seq, records, null));
    assertNotNull(answer, "the batch was applied");
    seq += records.size();
  }

  void copyDone() {
    ship(List.of(new ReplicaRecord.CopyDone()));
  }

  /** The word the holder of {@code committed} held, by an acquisition of the writer. */
  static long held(long committed) {
    return LockWord.heldBy(committed, LockWord.token(WRITER, 1));
  }

  ReplicaHost.Direct commit(long heldWord, int color, Object value) {
    return host.directCommit(
        WRITER, PRIMARY, epoch, cell, OBJECT, heldWord, color, frame(value, OBJECT, color));
  }

  long mirrorWord() {
    return host.mirror(PRIMARY).region.load(cell, OBJECT, SyncLayout.WORD, 0);
  }

  /** The mirror's committed value: the frame in the slot its word names, checked. */
  int mirrorColor() {
    SyncRegion region = host.mirror(PRIMARY).region;
    long word = mirrorWord();
    long slot =
        region.load(
            cell,
            OBJECT,
            LockWord.activeSlot(word) == 0 ? SyncLayout.LOCATOR_A : SyncLayout.LOCATOR_B,
            0);
    ReadBuffer out = new ReadBuffer(64);
    assertEquals(ReadStatus.OK, region.readValue(slot, OBJECT, SnapshotCodec.ANY_COLOR, out, 0));
    int color = SnapshotCodec.color(out.bytes(), 0);
    assertTrue(LockWord.names(word, color), "the word names the frame in its slot");
    return color;
  }

  @Test
  void shouldTakeACommitOnlyOnceTheEpochsCopyIsDone() {
    long v0 = held(LockWord.initial());
    assertEquals(ReplicaHost.Direct.NOT_BACKUP, commit(v0, 1, "v1"), "before the copy's end");
    assertEquals(0, LockWord.version(mirrorWord()));
    copyDone();
    assertEquals(ReplicaHost.Direct.APPLIED, commit(v0, 1, "v1"));
    assertEquals(1, mirrorColor());
    assertTrue(LockWord.isFree(mirrorWord()), "the mirror holds no lock");
    long v1 = held(LockWord.committed(v0, 1));
    assertEquals(ReplicaHost.Direct.APPLIED, commit(v1, 2, "v2"));
    assertEquals(2, mirrorColor());
    assertEquals(2, host.directCommits.sum());
  }

  @Test
  void shouldChangeNothingForACommitItMustNotTake() {
    copyDone();
    long v0 = held(LockWord.initial());
    epoch = 2;
    assertEquals(ReplicaHost.Direct.NOT_BACKUP, commit(v0, 1, "v1"), "another epoch");
    epoch = 1;
    assertEquals(
        ReplicaHost.Direct.NOT_BACKUP,
        host.directCommit(WRITER, WRITER, epoch, cell, OBJECT, v0, 1, frame("v1", OBJECT, 1)),
        "a primary it does not back up");
    assertEquals(
        ReplicaHost.Direct.REFUSED,
        host.directCommit(WRITER, PRIMARY, epoch, cell, OBJECT, v0, 1, frame("v1", 7, 1)),
        "another object's frame");
    assertEquals(
        ReplicaHost.Direct.REFUSED,
        host.directCommit(WRITER, PRIMARY, epoch, cell, OBJECT, v0, 2, frame("v1", OBJECT, 1)),
        "a frame of another version than the commit's");
    assertEquals(
        ReplicaHost.Direct.REFUSED, commit(v0, 5, "v5"), "not the version after the one locked");
    assertEquals(
        ReplicaHost.Direct.REFUSED, commit(v0, 1, "x".repeat(500)), "a frame its slot cannot hold");
    assertEquals(
        ReplicaHost.Direct.REFUSED,
        host.directCommit(WRITER, PRIMARY, epoch, cell + 64, OBJECT, v0, 1, frame("v1", OBJECT, 1)),
        "a cell of no mutex");
    long v5 = held(LockWord.committed(LockWord.initial(), 5));
    assertEquals(
        ReplicaHost.Direct.OTHER_VERSION, commit(v5, 6, "v6"), "locked at another version");
    departed.add(WRITER);
    assertEquals(ReplicaHost.Direct.DEPARTED, commit(v0, 1, "v1"), "a removed writer");
    assertEquals(0, mirrorColor(), "nothing changed");
    assertEquals(0, host.directCommits.sum());
  }

  @Test
  void shouldNotLetARepeatedOlderWordOverwriteACommitItTook() {
    long v0 = LockWord.initial();
    long v1 = LockWord.committed(v0, 1);
    // Before the copy's end the stream's records are applied as they come, older or not.
    ship(List.of(new ReplicaRecord.CellField(cell, SyncLayout.WORD, v1)));
    ship(List.of(new ReplicaRecord.CellField(cell, SyncLayout.WORD, v0)));
    assertEquals(0, LockWord.version(mirrorWord()));
    copyDone();
    assertEquals(ReplicaHost.Direct.APPLIED, commit(held(v0), 1, "v1"));
    // The primary repeats a change of version 0 (its epoch moved after it was made).
    ship(List.of(new ReplicaRecord.CellWordAgain(cell, v0)));
    assertEquals(1, mirrorColor(), "the commit taken stands");
    assertEquals(1, host.olderWords.sum());
    // What the primary says stands after a change it reported was not made is applied as it
    // comes (it is acknowledged before the lock is given back, so no commit overtakes it).
    ship(List.of(new ReplicaRecord.CellField(cell, SyncLayout.WORD, v0)));
    assertEquals(0, mirrorColor());
    ship(List.of(new ReplicaRecord.CellField(cell, SyncLayout.WORD, v1)));
    // A newer change of the stream is applied.
    byte[] f2 = frame("v2", OBJECT, 2);
    long slotA = host.mirror(PRIMARY).region.load(cell, OBJECT, SyncLayout.LOCATOR_A, 0);
    List<ReplicaRecord> change =
        new ArrayList<>(
            ReplicaRecord.SlotWritten.pieces(
                ReplicaRecord.VALUES,
                slotA,
                primary.valueCapacity(slotA) + SlotLayout.SLOT_HEADER_BYTES,
                f2,
                f2.length,
                1 << 16));
    change.add(new ReplicaRecord.CellField(cell, SyncLayout.WORD, LockWord.committed(v1, 2)));
    ship(change);
    assertEquals(2, mirrorColor());
  }
}
