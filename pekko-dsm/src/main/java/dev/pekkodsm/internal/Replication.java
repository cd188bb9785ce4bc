package dev.pekkodsm.internal;

import dev.pekkodsm.DsmException;
import dev.pekkodsm.coherence.GlobalAddress;
import dev.pekkodsm.coherence.NodeId;
import dev.pekkodsm.coherence.ObjectKind;
import dev.pekkodsm.coherence.ObjectTable;
import dev.pekkodsm.coherence.OwnedObject;
import dev.pekkodsm.coherence.Timing;
import dev.pekkodsm.coherence.mutex.LockWord;
import dev.pekkodsm.coherence.replication.BackupRing;
import dev.pekkodsm.coherence.replication.ReplicaRecord;
import dev.pekkodsm.coherence.replication.ReplicationStream;
import dev.pekkodsm.memory.ReadBuffer;
import dev.pekkodsm.memory.ReadStatus;
import dev.pekkodsm.memory.SlotLayout;
import dev.pekkodsm.memory.SnapshotArena;
import dev.pekkodsm.memory.SyncFailedException;
import dev.pekkodsm.memory.SyncLayout;
import dev.pekkodsm.memory.SyncRegion;
import dev.pekkodsm.memory.SyncStatus;
import dev.pekkodsm.memory.TcpTransport;
import dev.pekkodsm.serialization.internal.SnapshotCodec;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import org.apache.pekko.actor.typed.ActorRef;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This node as a primary: keeps its backup's mirror up to date through a {@link ReplicationStream}
 * (docs/DECISIONS.md, "Replication"). The backup is this node's successor in the {@link BackupRing}
 * of members; when that changes, a new epoch starts with a full copy.
 *
 * <p>What waits for the backup: an allocation, and the end of a box's local write, which publishes
 * the new color's snapshot, ships it, and ends the exclusive borrow only once the backup holds it.
 * What is shipped without waiting: a slot's free (before the slot can be reused) and an object's
 * departure.
 *
 * <p>Mutexes and atomics: the sync region reports each change its owner makes before making it
 * ({@link SyncRegion.Changes}); a change of a word (an atomic's value, a mutex's committed state)
 * waits for the backup, the rest (value frames, slot locators, allocations, frees, a lock taken
 * back) rides with the next batch that waits. A mutex's lock is not replicated, only what was
 * committed. A writer on this host, this node's own threads included, writes its commit to the
 * backup itself and then one-sided here, unreported, while the stream has nothing pending, which
 * the region's replication cell tells it ({@code MutexCore.viaBackup}); other commits and atomic
 * operations are made here, asked over the tcp server ({@link HomeSync}).
 *
 * <p>Thread-safe.
 */
final class Replication {

  /** The most bytes of a frame in one record; a batch is bounded at {@link #BATCH_BYTES}. */
  static final int PIECE_BYTES = 64 * 1024;

  static final int BATCH_BYTES = 192 * 1024; // under Artery's default maximum frame of 256 KiB

  private static final Logger log = LoggerFactory.getLogger(Replication.class);

  private final NodeId self;
  private final NodeId primary; // whose objects: this node's, or a promoted primary's
  private final ObjectTable table;
  private final SnapshotArena arena;
  private final SyncRegion region;
  private final SnapshotPublisher publisher;
  private final PeerDirectory peers;
  private final DsmSettings settings;
  private final ReplicaLink link;
  private final ReplicationStream stream;
  private final boolean backupCell; // the region's replication cell names the backup

  Replication(
      NodeId self,
      ObjectTable table,
      SnapshotArena arena,
      SnapshotPublisher publisher,
      PeerDirectory peers,
      TcpTransport tcp,
      Timing timing,
      DsmSettings settings) {
    this(self, self, table, arena, publisher, peers, tcp, timing, settings);
  }

  /**
   * The replication of {@code primary}'s objects kept on this node ({@code self}): its own, or
   * those of a primary it promoted, which are backed up where this node's are, on its successor
   * (which is where a request for them goes if this node leaves too).
   *
   * @param tcp sends the stream to the backup's tcp server, or null to send it over Artery
   */
  Replication(
      NodeId self,
      NodeId primary,
      ObjectTable table,
      SnapshotArena arena,
      SnapshotPublisher publisher,
      PeerDirectory peers,
      TcpTransport tcp,
      Timing timing,
      DsmSettings settings) {
    this.self = self;
    this.primary = primary;
    this.table = table;
    this.arena = arena;
    this.region = publisher.region();
    this.publisher = publisher;
    this.peers = peers;
    this.settings = settings;
    this.link =
        new ReplicaLink(
            self,
            primary,
            peers,
            settings.replicationFactor > 0 ? tcp : null,
            settings.replicationResendAfter,
            this::answered);
    this.stream =
        new ReplicationStream(
            link, timing, settings.replicationResendAfter.toNanos(), 1 << 14, BATCH_BYTES);
    if (enabled()) {
      // Writers of this node's mutexes write its backup themselves and find it in this cell; a
      // promoted primary's region has none (its mutexes are committed by this node).
      this.backupCell = primary.equals(self);
      if (backupCell) {
        region.reserveReplicationCell();
        stream.onProgress((epoch, last, acked) -> region.publishStream(last, acked));
      }
      region.replicateTo(new RegionChanges());
    } else {
      this.backupCell = false;
    }
  }

  /** What follows every epoch's copy (and the records the old backup had not acknowledged). */
  private static final List<ReplicaRecord> COPY_DONE = List.of(new ReplicaRecord.CopyDone());

  /** True if this node keeps a backup. */
  boolean enabled() {
    return settings.replicationFactor > 0;
  }

  /** Where the backup's answers go: this node's DSM actor. */
  void replyTo(ActorRef<Protocol.NodeCommand> nodeActor) {
    link.replyTo(nodeActor);
  }

  /** Whose objects this replicates. */
  NodeId primary() {
    return primary;
  }

  /** This node's DSM actor, or null before it started. */
  ActorRef<Protocol.NodeCommand> replyToRef() {
    return link.replyTo();
  }

  /** Stops the link's sender (the node is closing). */
  void close() {
    link.close();
  }

  /** The backup now, or null. */
  NodeId backup() {
    return stream.backup();
  }

  ReplicationStream stream() {
    return stream;
  }

  // ------------------------------------------------------------------ membership

  /**
   * Membership changed: points the stream at this node's successor among the members that are Up
   * (reachable or not: a member the failure detector doubts still holds its mirror until it is
   * removed).
   */
  void membersChanged(List<NodeId> members) {
    if (!enabled()) {
      return;
    }
    Optional<NodeId> next = BackupRing.of(members).backupOf(self);
    NodeId wanted = next.orElse(null);
    if (Objects.equals(wanted, stream.backup())) {
      return;
    }
    log.info(
        "{} backs up {} on {} now (was {})",
        self,
        primary.equals(self) ? "its objects" : "the objects of " + primary,
        wanted == null ? "no node" : wanted,
        stream.backup());
    stream.target(wanted, this::fullCopy, COPY_DONE);
    if (wanted == null && backupCell) {
      region.publishBackup(0, 0);
    }
  }

  /** A backup's answer to a batch. */
  void answered(Protocol.ReplicaAnswer answer) {
    NodeId from = NodeId.of(answer.backup());
    if (answer.lost()) {
      log.info("{} missed changes of epoch {}: copying everything again", from, answer.epoch());
      stream.lost(from, answer.epoch(), this::fullCopy, COPY_DONE);
    } else {
      stream.acked(from, answer.epoch(), answer.upTo());
    }
  }

  /**
   * Everything a new backup needs, made under the stream's lock: the arena's identity, then each
   * box and arc with a published snapshot (with replication on, every one has one, except an object
   * in the middle of the write that moved it here, whose end ships it).
   */
  private List<ReplicaRecord> fullCopy() {
    if (backupCell) {
      // Before the copy reads anything: a writer that commits at this node and then finds the
      // epoch it wrote the backup at still here knows the copy will read its commit.
      NodeId to = stream.backup();
      region.publishBackup(stream.epoch(), to == null ? 0 : to.value());
    }
    List<ReplicaRecord> copy = new ArrayList<>();
    copy.add(
        new ReplicaRecord.Begin(
            arena.endpoint().tokenHi(),
            arena.endpoint().tokenLo(),
            arena.settings().segmentBytes(),
            arena.settings().maxSegments(),
            region.cellCount()));
    ReadBuffer buffer = new ReadBuffer(4096);
    for (OwnedObject obj : table.objects()) {
      ObjectKind kind = obj.kind();
      if (kind.rewrittenInPlace()) {
        copyCell(obj, copy, buffer);
        continue;
      }
      GlobalAddress a = obj.address();
      long locator = obj.locator();
      if (locator == 0) {
        continue;
      }
      ReadStatus status = arena.read(locator, a.object(), a.color(), buffer);
      if (status != ReadStatus.OK) {
        continue; // it changed meanwhile: the change ships its own records
      }
      copy.addAll(
          ReplicaRecord.SlotWritten.pieces(
              locator,
              arena.frameCapacityOf(locator) + SlotLayout.SLOT_HEADER_BYTES,
              buffer.bytes(),
              buffer.length(),
              PIECE_BYTES));
      copy.add(filed(obj, a, locator, buffer.length()));
    }
    return copy;
  }

  /**
   * A mutex's or an atomic's cell as the records that made it: allocated, its fields (a mutex's
   * word in its committed state), a mutex's two value slots, and its catalog entry. A change being
   * made meanwhile was shipped before it is made, so it follows this copy (the stream replays it).
   */
  private void copyCell(OwnedObject obj, List<ReplicaRecord> copy, ReadBuffer buffer) {
    boolean mutex = obj.kind() == ObjectKind.MUTEX;
    long cell = mutex ? obj.mutexCell().cell() : obj.atomicCell().cell();
    long object = obj.objectId();
    try {
      copy.add(
          new ReplicaRecord.CellAllocated(
              cell, mutex ? SyncLayout.KIND_MUTEX : SyncLayout.KIND_ATOMIC, object));
      long word = region.load(cell, object, SyncLayout.WORD, 0);
      copy.add(
          new ReplicaRecord.CellField(
              cell, SyncLayout.WORD, mutex ? LockWord.committedState(word) : word));
      if (mutex) {
        for (int field : new int[] {SyncLayout.LOCATOR_A, SyncLayout.LOCATOR_B}) {
          long slot = region.load(cell, object, field, 0);
          copyValue(slot, object, copy, buffer);
          copy.add(new ReplicaRecord.CellField(cell, field, slot));
        }
      }
      copy.add(new ReplicaRecord.Filed(object, obj.kind(), obj.color(), cell, 0, 0));
    } catch (RuntimeException e) {
      // Freed meanwhile (its free follows), or a slot being written (its write follows): the
      // copy goes on without it rather than leave the stream without its epoch.
      log.debug("{} was left out of the copy: {}", obj.address(), e.toString());
    }
  }

  private void copyValue(long slot, long object, List<ReplicaRecord> copy, ReadBuffer buffer) {
    for (int attempt = 0; attempt < 100; attempt++) {
      ReadStatus status = region.readValue(slot, object, SnapshotCodec.ANY_COLOR, buffer, 0);
      if (status == ReadStatus.OK) {
        copy.addAll(
            ReplicaRecord.SlotWritten.pieces(
                ReplicaRecord.VALUES,
                slot,
                region.valueCapacity(slot) + SlotLayout.SLOT_HEADER_BYTES,
                buffer.bytes(),
                buffer.length(),
                PIECE_BYTES));
        return;
      }
      if (status != ReadStatus.CONTENDED) {
        break;
      }
      Thread.onSpinWait(); // a commit writes the slot; its record ships after this copy
    }
    // Being written (its write is reported once done, so it follows this copy), or freed with
    // its cell (the free follows): the copy goes on without it.
    log.debug("the value slot {} of {} is left out of the copy", slot, object);
  }

  /** What the sync region reports, shipped to the backup (see the class comment). */
  private final class RegionChanges implements SyncRegion.Changes {

    @Override
    public boolean holds(int kind, int field, long old, long update) {
      // Of a mutex's word, the backup holds the committed state only: a lock taken or given back
      // is not its business. A lock taken back from a node that left (the fence moves) is told,
      // without waiting: it follows the moves of the value that go with it, and so restores the
      // committed state at the backup over a commit the departed holder may have written there.
      return kind != SyncLayout.KIND_MUTEX
          || field != SyncLayout.WORD
          || LockWord.committedState(old) != LockWord.committedState(update)
          || LockWord.fence(old) != LockWord.fence(update);
    }

    @Override
    public boolean waits(int kind, int field, long old, long update) {
      // A slot's locator is seen only through the word; a fence, through nothing.
      return field == SyncLayout.WORD
          && (kind != SyncLayout.KIND_MUTEX
              || LockWord.committedState(old) != LockWord.committedState(update));
    }

    private long held(int kind, int field, long value) {
      return kind == SyncLayout.KIND_MUTEX && field == SyncLayout.WORD
          ? LockWord.committedState(value)
          : value;
    }

    @Override
    public long fieldChanging(long cell, int kind, long object, int field, long old, long update) {
      ReplicaRecord record = new ReplicaRecord.CellField(cell, field, held(kind, field, update));
      if (!waits(kind, field, old, update)) {
        return stream.postInEpoch(record);
      }
      long[] epoch = new long[1];
      CompletableFuture<Void> safe = stream.ship(List.of(record), epoch);
      try {
        Futures.await(
            safe,
            settings.replicationAckTimeout,
            new GlobalAddress(primary, object, 0),
            "have a change of " + Long.toHexString(object) + " held by its backup",
            ignored -> {});
      } catch (RuntimeException e) {
        // The change is not made here: the backup, which may get it late, is told so after it.
        stream.post(new ReplicaRecord.CellField(cell, field, held(kind, field, old)));
        throw new SyncFailedException(
            SyncStatus.CONTENDED,
            "the backup did not acknowledge the change, which was not made: " + e.getMessage());
      }
      return epoch[0];
    }

    @Override
    public void fieldChanged(long ticket, long cell, int kind, long object, int field, long value) {
      if (stream.epoch() != ticket) {
        // A new backup's copy may have been taken between the acknowledgement and the change.
        // Repeated without waiting: a writer's own commit may reach the backup first.
        stream.post(
            field == SyncLayout.WORD
                ? new ReplicaRecord.CellWordAgain(cell, held(kind, field, value))
                : new ReplicaRecord.CellField(cell, field, value));
      }
    }

    @Override
    public void fieldStands(long cell, int kind, long object, int field, long value) {
      // Not older than what the backup may hold: a writer that locked since may have written
      // its commit there before this arrives.
      stream.post(
          field == SyncLayout.WORD
              ? new ReplicaRecord.CellWordAgain(cell, held(kind, field, value))
              : new ReplicaRecord.CellField(cell, field, value));
    }

    @Override
    public void cellAllocated(long cell, int kind, long object) {
      stream.post(new ReplicaRecord.CellAllocated(cell, kind, object));
    }

    @Override
    public void cellFreeing(long cell) {
      stream.post(new ReplicaRecord.CellFreed(cell));
    }

    @Override
    public void valueWritten(long locator, int capacity, byte[] frame, int length) {
      for (ReplicaRecord piece :
          ReplicaRecord.SlotWritten.pieces(
              ReplicaRecord.VALUES, locator, capacity, frame, length, PIECE_BYTES)) {
        stream.post(piece);
      }
    }

    @Override
    public void valueFreeing(long locator) {
      stream.post(new ReplicaRecord.SlotFreed(ReplicaRecord.VALUES, locator));
    }
  }

  private static ReplicaRecord.Filed filed(
      OwnedObject obj, GlobalAddress a, long locator, int frameBytes) {
    NodeId holder = obj.boxHolder();
    return new ReplicaRecord.Filed(
        a.object(),
        obj.kind(),
        a.color(),
        locator,
        frameBytes,
        holder == null ? 0 : holder.value());
  }

  // ------------------------------------------------------------------ changes

  /**
   * A new box or arc homed here: publishes its snapshot and waits until the backup holds it.
   *
   * @throws DsmException if the backup does not acknowledge within the ack timeout (the object
   *     exists here but is not known to be safe)
   */
  void allocated(OwnedObject obj) {
    if (!enabled()) {
      return;
    }
    if (obj.kind().rewrittenInPlace()) {
      // Its cell's records were posted as it was made, but a backup that came since got a copy
      // made before the object was filed: the whole cell goes again (records repeat harmlessly).
      List<ReplicaRecord> records = new ArrayList<>();
      copyCell(obj, records, new ReadBuffer(256));
      await(
          stream.ship(records),
          obj.address(),
          "have the new object " + obj.address() + " held by its backup");
      return;
    }
    publisher.publish(obj);
    GlobalAddress a = obj.address();
    long locator = obj.locator();
    List<ReplicaRecord> records = new ArrayList<>(slotRecords(locator, a));
    records.add(filed(obj, a, locator, obj.snapshotBytes()));
    await(stream.ship(records), a, "have the new object " + a + " held by its backup");
  }

  /**
   * Ends the exclusive borrow of a local write, with replication on: the new color's snapshot is
   * published and shipped first, and the new color becomes visible only once the backup holds it.
   * If the backup does not answer within the ack timeout, the write still ends (it happened here)
   * and the caller is told it is not known to be safe.
   */
  void endWrite(OwnedObject obj) {
    long freshId = obj.color() == Integer.MAX_VALUE ? table.nextObjectId() : 0;
    GlobalAddress next = obj.addressAfterWrite(freshId);
    GlobalAddress before = obj.address();
    long locator = 0;
    int frameBytes = 0;
    try {
      long[] slot = publisher.publishAt(obj.value(), next.object(), next.color());
      locator = slot[0];
      frameBytes = (int) slot[1];
      List<ReplicaRecord> records = new ArrayList<>(slotRecords(locator, next));
      NodeId holder = obj.boxHolder();
      records.add(
          new ReplicaRecord.Filed(
              next.object(),
              obj.kind(),
              next.color(),
              locator,
              frameBytes,
              holder == null ? 0 : holder.value()));
      if (next.object() != before.object()) {
        records.add(new ReplicaRecord.Gone(before.object()));
      }
      await(stream.ship(records), next, "have the write of " + before + " held by its backup");
    } finally {
      // The write happened here whatever became of its copy: the borrow always ends.
      if (locator != 0) {
        table.endWrite(obj, freshId, locator, frameBytes);
      } else {
        table.endWrite(obj);
      }
    }
  }

  /**
   * Copies everything to the backup again, in an epoch after {@code seenEpoch}, and waits until the
   * backup holds it. A writer that wrote its commit to the backup, committed here and then saw the
   * epoch moved to {@code seenEpoch} asks for this: that epoch's copy may have read the mutex
   * before the commit. A copy of a later epoch began after the writer's commit (its epoch was
   * published before it read anything, and the writer saw the earlier one after committing), so
   * none is made then. Late, a copy does no harm: it is a copy like any other, and writers' commits
   * wait for its end.
   *
   * @throws DsmException if the backup does not acknowledge within the ack timeout
   */
  void recopy(long seenEpoch) {
    NodeId to = stream.backup();
    if (!enabled() || to == null) {
      return; // no backup: nothing is held anywhere else
    }
    if (stream.epoch() <= seenEpoch) {
      log.info("{} copies itself to {} again for a writer whose epoch moved", primary, to);
      stream.target(to, this::fullCopy, COPY_DONE);
    }
    await(
        stream.ship(List.of()),
        new GlobalAddress(primary, 0, 0),
        "have a new copy of " + primary + " held by its backup");
  }

  /** The box owning {@code obj} moved to another node (shipped without waiting). */
  void holderChanged(OwnedObject obj) {
    if (!enabled() || obj.kind() != ObjectKind.BOX) {
      return;
    }
    GlobalAddress a = obj.address();
    long locator = obj.locator();
    if (locator != 0) {
      stream.post(filed(obj, a, locator, obj.snapshotBytes()));
    }
  }

  /** The slot at {@code locator} is about to be freed (ships before it can be reused). */
  void freeing(long locator) {
    if (enabled()) {
      stream.post(new ReplicaRecord.SlotFreed(locator));
    }
  }

  /** An object left this node (moved, dropped or lost). */
  void gone(ObjectKind kind, long object) {
    if (enabled()) {
      stream.post(new ReplicaRecord.Gone(object));
    }
  }

  private List<ReplicaRecord> slotRecords(long locator, GlobalAddress a) {
    ReadBuffer buffer = new ReadBuffer(4096);
    ReadStatus status = arena.read(locator, a.object(), a.color(), buffer);
    if (status != ReadStatus.OK) {
      throw new IllegalStateException(
          "the snapshot of " + a + " just published reads back as " + status);
    }
    return ReplicaRecord.SlotWritten.pieces(
        locator,
        arena.frameCapacityOf(locator) + SlotLayout.SLOT_HEADER_BYTES,
        buffer.bytes(),
        buffer.length(),
        PIECE_BYTES);
  }

  private void await(CompletableFuture<Void> safe, GlobalAddress a, String what) {
    Futures.await(safe, settings.replicationAckTimeout, a, what, ignored -> {});
  }
}
