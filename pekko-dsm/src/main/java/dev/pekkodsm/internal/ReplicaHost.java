package dev.pekkodsm.internal;

import dev.pekkodsm.coherence.NodeId;
import dev.pekkodsm.coherence.mutex.LockWord;
import dev.pekkodsm.coherence.replication.ReplicaCatalog;
import dev.pekkodsm.coherence.replication.ReplicaInbox;
import dev.pekkodsm.coherence.replication.ReplicaRecord;
import dev.pekkodsm.memory.ArenaSettings;
import dev.pekkodsm.memory.SlotLayout;
import dev.pekkodsm.memory.SnapshotArena;
import dev.pekkodsm.memory.SyncLayout;
import dev.pekkodsm.memory.SyncRegion;
import dev.pekkodsm.serialization.DecodeStatus;
import dev.pekkodsm.serialization.internal.SnapshotCodec;
import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This node as a backup: the mirrors of the primaries that back up here, kept by applying their
 * streams' records in order ({@link ReplicaInbox}): slot records to a mirror arena laid out as the
 * primary's, cell and value-slot records to a mirror of its sync region, object records to a {@link
 * ReplicaCatalog}.
 *
 * <p>A batch from a node removed from the cluster is refused: a node that was paused past the
 * failure detector and resumed cannot have a change acknowledged once its backup knows it left
 * (Artery's quarantine drops its messages too; its tcp connections are not quarantined).
 *
 * <p>Thread-safe: batches are applied one at a time, and a mirror is taken (promoted) between two.
 */
final class ReplicaHost implements ReplicaInbox.Applier, AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(ReplicaHost.class);

  /** One primary's mirror. */
  static final class Mirror {
    final NodeId primary;
    final SnapshotArena arena;
    final SyncRegion region; // null if the primary sent no sync region
    final ReplicaCatalog catalog = new ReplicaCatalog();
    private final ByteArrayOutputStream piece = new ByteArrayOutputStream();
    private long pieceLocator;
    private int pieceSpace;
    volatile NodeId sender;
    volatile boolean copied; // the epoch's copy has been applied (ReplicaRecord.CopyDone)

    Mirror(NodeId primary, SnapshotArena arena, SyncRegion region) {
      this.primary = primary;
      this.arena = arena;
      this.region = region;
    }

    void close() {
      if (region != null) {
        region.close();
      }
      arena.close();
    }

    SyncRegion region() {
      if (region == null) {
        throw new IllegalArgumentException(
            "a sync region record of " + primary + ", which has none");
      }
      return region;
    }
  }

  private final NodeId self;
  private final ArenaSettings ownSettings;
  private final SnapshotCodec codec;
  private final ReplicaInbox inbox = new ReplicaInbox(this);
  private final Map<NodeId, Mirror> mirrors = new ConcurrentHashMap<>();
  final LongAdder recordsApplied = new LongAdder();
  final LongAdder unknownFrees = new LongAdder();
  final LongAdder unknownCells = new LongAdder();
  final LongAdder refusedBatches = new LongAdder();
  final LongAdder directCommits = new LongAdder();
  final LongAdder refusedCommits = new LongAdder();
  final LongAdder olderWords = new LongAdder();
  private final Predicate<NodeId> departed;

  /**
   * @param departed true of a node removed from the cluster, whose batches are refused
   */
  ReplicaHost(
      NodeId self, ArenaSettings ownSettings, SnapshotCodec codec, Predicate<NodeId> departed) {
    this.self = self;
    this.ownSettings = ownSettings;
    this.codec = codec;
    this.departed = departed;
  }

  /**
   * Applies a batch and says how far this backup got. Null: say nothing (a refused record, or a
   * batch of a node that left).
   */
  synchronized Protocol.ReplicaAnswer receive(Protocol.Replicate m) {
    NodeId primary = NodeId.of(m.primary());
    if (primary.equals(self)) {
      return null;
    }
    if (departed.test(NodeId.of(m.sender()))) {
      refusedBatches.increment();
      return null;
    }
    ReplicaInbox.Answer answer;
    try {
      answer = inbox.receive(primary, m.epoch(), m.firstSeq(), m.records());
      Mirror mirror = mirrors.get(primary);
      if (mirror != null) {
        mirror.sender = NodeId.of(m.sender());
      }
    } catch (RuntimeException e) {
      log.warn("refused a replication batch of {}: {}", primary, e.toString());
      return null;
    }
    if (answer instanceof ReplicaInbox.Ack ack) {
      return new Protocol.ReplicaAnswer(
          primary.value(), self.value(), ack.epoch(), ack.upTo(), false);
    }
    if (answer instanceof ReplicaInbox.Lost lost) {
      return new Protocol.ReplicaAnswer(primary.value(), self.value(), lost.epoch(), 0, true);
    }
    return null;
  }

  @Override
  public void reset(NodeId primary) {
    Mirror old = mirrors.remove(primary);
    if (old != null) {
      old.close();
    }
  }

  @Override
  public void apply(NodeId primary, ReplicaRecord record) {
    recordsApplied.increment();
    if (record instanceof ReplicaRecord.Begin begin) {
      reset(primary);
      ArenaSettings settings =
          new ArenaSettings(
              ownSettings.directory(),
              begin.segmentBytes(),
              begin.maxSegments(),
              ownSettings.maxFrameBytes(),
              ownSettings.cleanStale());
      SnapshotArena arena =
          SnapshotArena.mirror(settings, primary.value(), begin.tokenHi(), begin.tokenLo(), codec);
      SyncRegion region;
      try {
        region = begin.syncCells() == 0 ? null : SyncRegion.mirror(arena, begin.syncCells());
      } catch (RuntimeException e) {
        arena.close();
        throw e;
      }
      mirrors.put(primary, new Mirror(primary, arena, region));
      return;
    }
    Mirror mirror = mirrors.get(primary);
    if (mirror == null) {
      throw new IllegalArgumentException("a record of " + primary + " before its epoch's Begin");
    }
    if (record instanceof ReplicaRecord.SlotWritten w) {
      written(mirror, w);
    } else if (record instanceof ReplicaRecord.SlotFreed f) {
      try {
        if (f.space() == ReplicaRecord.ARENA) {
          mirror.arena.applyFree(f.locator());
        } else {
          mirror.region().applyValueFree(f.locator());
        }
      } catch (IllegalArgumentException e) {
        unknownFrees.increment(); // a slot the copy never named (a move's): nothing to free
      }
    } else if (record instanceof ReplicaRecord.CellAllocated c) {
      mirror.region().applyCellAllocated(c.cell(), c.kind(), c.object());
    } else if (record instanceof ReplicaRecord.CellFreed c) {
      mirror.region().applyCellFreed(c.cell());
    } else if (record instanceof ReplicaRecord.CopyDone) {
      mirror.copied = true;
    } else if (record instanceof ReplicaRecord.CellField c) {
      SyncRegion region = mirror.region();
      if (!region.isAllocated(c.cell())) {
        // A cell made before this epoch's copy but filed after it: the copy did not name it, and
        // its object's filing ships the whole cell again.
        unknownCells.increment();
        return;
      }
      region.applyCellField(c.cell(), c.field(), c.value());
    } else if (record instanceof ReplicaRecord.CellWordAgain c) {
      SyncRegion region = mirror.region();
      if (!region.isAllocated(c.cell())) {
        unknownCells.increment();
        return;
      }
      if (region.kindOf(c.cell()) == SyncLayout.KIND_MUTEX
          && LockWord.olderVersion(c.value(), region.mirrorField(c.cell(), SyncLayout.WORD))) {
        // A writer's own commit here overtook this repeat of an older change: it stands.
        olderWords.increment();
        return;
      }
      region.applyCellField(c.cell(), SyncLayout.WORD, c.value());
    } else {
      mirror.catalog.apply(record);
    }
  }

  private void written(Mirror mirror, ReplicaRecord.SlotWritten w) {
    if (w.length() > ownSettings.maxFrameBytes() || w.length() > w.capacity()) {
      throw new IllegalArgumentException(
          "a frame of "
              + w.length()
              + " bytes in a slot of "
              + w.capacity()
              + " is larger than any this node takes ("
              + ownSettings.maxFrameBytes()
              + ")");
    }
    if (w.offset() == 0 && w.last()) {
      applyWrite(mirror, w.space(), w.locator(), w.capacity(), w.bytes());
      return;
    }
    if (w.offset() == 0) {
      mirror.piece.reset();
      mirror.pieceLocator = w.locator();
      mirror.pieceSpace = w.space();
    } else if (w.locator() != mirror.pieceLocator
        || w.space() != mirror.pieceSpace
        || w.offset() != mirror.piece.size()) {
      throw new IllegalArgumentException(
          "piece at "
              + w.offset()
              + " of slot "
              + Long.toHexString(w.locator())
              + " does not continue the frame being assembled");
    }
    mirror.piece.write(w.bytes(), 0, w.bytes().length);
    if (w.last()) {
      byte[] frame = mirror.piece.toByteArray();
      mirror.piece.reset();
      applyWrite(mirror, w.space(), w.locator(), w.capacity(), frame);
    }
  }

  private static void applyWrite(
      Mirror mirror, int space, long locator, int capacity, byte[] frame) {
    if (space == ReplicaRecord.ARENA) {
      mirror.arena.applyWrite(locator, capacity, frame, frame.length);
    } else {
      mirror.region().applyValueWrite(locator, capacity, frame, frame.length);
    }
  }

  /** What a backup answers a writer's own commit ({@link #directCommit}). */
  enum Direct {
    /** This backup holds the commit now. */
    APPLIED,
    /** This backup does not follow the primary at that epoch, or has not applied its copy yet. */
    NOT_BACKUP,
    /** The writer was removed from the cluster. */
    DEPARTED,
    /** The mirror's mutex is not at the version the writer locked: the primary must commit. */
    OTHER_VERSION,
    /** The frame is not the object's, or does not fit its slot, or names no mutex here. */
    REFUSED
  }

  /**
   * A writer's commit of a mutex homed on {@code primary}, sent here before the writer commits it
   * one-sided at the primary (docs/DECISIONS.md, "Writers write the backup"): the frame goes into
   * the mirror's slot that {@code held} does not name, and the mirror's word becomes the committed
   * state, if this node backs {@code primary} up at {@code epoch}, has applied that epoch's copy,
   * and its mirror's mutex is at exactly the version and slot {@code held} names. Any other answer
   * changed nothing: the writer has the primary commit instead.
   */
  synchronized Direct directCommit(
      NodeId writer,
      NodeId primary,
      long epoch,
      long cell,
      long object,
      long held,
      int color,
      byte[] frame) {
    if (departed.test(writer)) {
      refusedCommits.increment();
      return Direct.DEPARTED;
    }
    Mirror mirror = mirrors.get(primary);
    if (mirror == null
        || departed.test(primary) // its mirror is promoted, or about to be
        || !mirror.copied
        || mirror.region == null
        || epoch == 0
        || inbox.epoch(primary) != epoch) {
      return Direct.NOT_BACKUP;
    }
    SyncRegion region = mirror.region;
    try {
      if (region.kindOf(cell) != SyncLayout.KIND_MUTEX) {
        return Direct.REFUSED;
      }
      long word = region.load(cell, object, SyncLayout.WORD, 0);
      if (LockWord.version(word) != LockWord.version(held)
          || LockWord.activeSlot(word) != LockWord.activeSlot(held)) {
        return Direct.OTHER_VERSION;
      }
      if (LockWord.version(LockWord.committed(held, color))
          != ((LockWord.version(held) + 1) & 0xFF_FFFF)) {
        return Direct.REFUSED; // not the version after the one locked
      }
      if (codec.verify(frame, 0, frame.length, primary.value(), object, color) != DecodeStatus.OK) {
        return Direct.REFUSED;
      }
      int slotField = LockWord.activeSlot(held) == 0 ? SyncLayout.LOCATOR_B : SyncLayout.LOCATOR_A;
      long locator = region.load(cell, object, slotField, 0);
      int capacity = region.valueCapacity(locator);
      if (frame.length > capacity) {
        return Direct.REFUSED;
      }
      region.applyValueWrite(locator, capacity + SlotLayout.SLOT_HEADER_BYTES, frame, frame.length);
      region.applyCellField(
          cell, SyncLayout.WORD, LockWord.committedState(LockWord.committed(held, color)));
      directCommits.increment();
      return Direct.APPLIED;
    } catch (RuntimeException e) {
      log.debug("refused a commit of {} to {}'s mirror: {}", writer, primary, e.toString());
      return Direct.REFUSED;
    }
  }

  /** The mirror of {@code primary}, or null. */
  Mirror mirror(NodeId primary) {
    return mirrors.get(primary);
  }

  /** Stops following {@code primary} and hands its mirror over (promotion), or null. */
  synchronized Mirror take(NodeId primary) {
    inbox.forget(primary);
    return mirrors.remove(primary);
  }

  /** Drops the mirror of {@code primary} (it backs up elsewhere, or it left unpromoted here). */
  synchronized void drop(NodeId primary) {
    inbox.forget(primary);
    reset(primary);
  }

  /**
   * The primaries whose mirrors {@code sender} keeps here: itself, and the primaries it had
   * promoted.
   */
  List<NodeId> primariesSentBy(NodeId sender) {
    List<NodeId> out = new ArrayList<>();
    for (Mirror m : mirrors.values()) {
      if (sender.equals(m.sender) || (m.sender == null && sender.equals(m.primary))) {
        out.add(m.primary);
      }
    }
    return out;
  }

  /**
   * Drops the mirrors whose sender no longer backs up here ({@code keep} says no): the primary
   * moved to another backup, so this copy would only go stale.
   */
  void dropUnless(Predicate<NodeId> keep) {
    for (Mirror m : List.copyOf(mirrors.values())) {
      NodeId sender = m.sender;
      if (sender != null && !keep.test(sender)) {
        log.info("{} no longer backs up {}: its mirror is dropped", self, m.primary);
        drop(m.primary);
      }
    }
  }

  @Override
  public void close() {
    mirrors.values().forEach(Mirror::close);
    mirrors.clear();
  }
}
