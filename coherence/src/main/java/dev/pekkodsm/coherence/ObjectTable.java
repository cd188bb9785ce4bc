package dev.pekkodsm.coherence;

import java.time.Duration;
import java.util.Collection;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongConsumer;

/**
 * The objects homed on one node, by id, and what became of those that left (tombstones). Objects
 * live here rather than in actors, so the entity that answers for an object can be passivated
 * without losing anything.
 *
 * <p>Ids are never reused while the node lives, so an id names one object forever; an object whose
 * colors run out is filed again under a fresh id ({@link #endWrite}).
 *
 * <p>Thread-safe.
 */
public final class ObjectTable {

  private final NodeId self;
  private final Timing timing;
  private final LongConsumer freeSlot;
  private final Retired retired;
  private final Tombstones tombstones;
  private final ConcurrentHashMap<Long, OwnedObject> objects = new ConcurrentHashMap<>();
  private final AtomicLong nextObjectId = new AtomicLong(1);

  /** What the node does when an object's life here ends, beyond freeing its snapshot. */
  public interface Retired {
    /** {@code value} was the value of {@code objectId}, of {@code kind} (a cell, for some). */
    void retired(ObjectKind kind, long objectId, Object value);
  }

  /** A table whose objects need nothing freed when they retire but their snapshots. */
  public ObjectTable(
      NodeId self,
      Timing timing,
      LongConsumer freeSlot,
      long tombstoneEntries,
      Duration tombstoneTtl) {
    this(self, timing, freeSlot, (kind, id, value) -> {}, tombstoneEntries, tombstoneTtl);
  }

  /**
   * @param self the node whose objects these are
   * @param timing the clock and timer for the objects' borrow deadlines
   * @param freeSlot frees a published snapshot's arena slot
   * @param retired frees what else an object held (a mutex's or an atomic's cell)
   * @param tombstoneEntries how many tombstones are kept at most
   * @param tombstoneTtl how long a tombstone is kept
   */
  public ObjectTable(
      NodeId self,
      Timing timing,
      LongConsumer freeSlot,
      Retired retired,
      long tombstoneEntries,
      Duration tombstoneTtl) {
    this.self = self;
    this.timing = timing;
    this.freeSlot = freeSlot;
    this.retired = retired;
    this.tombstones = new Tombstones(tombstoneEntries, tombstoneTtl);
  }

  /** The node whose objects these are. */
  public NodeId self() {
    return self;
  }

  /** The clock and timer the objects run on. */
  public Timing timing() {
    return timing;
  }

  /** A fresh object id; id 0 is never handed out. */
  public long nextObjectId() {
    return nextObjectId.getAndIncrement();
  }

  /** Registers a new box's object, at color 0, owned by a box on this node. */
  public OwnedObject allocate(Object value) {
    return put(new OwnedObject(self, nextObjectId(), 0, value, timing, freeSlot));
  }

  /**
   * Registers an object that just moved here under {@code objectId} (chosen by the writer before it
   * asked), already exclusively borrowed for the write that moved it, so nothing can slip in before
   * that write.
   */
  public OwnedObject allocateMoved(long objectId, Object value) {
    OwnedObject obj = new OwnedObject(self, objectId, 0, value, timing, freeSlot);
    obj.tryAcquire(BorrowState.Kind.EXCLUSIVE, null, 0, "the write that moved it here");
    return put(obj);
  }

  /**
   * Registers a new object with shared ownership ({@link ObjectKind#ARC}, {@link ObjectKind#MUTEX}
   * with a {@link MutexCell}, {@link ObjectKind#ATOMIC} with an {@link AtomicCell}), whose first
   * owner is this node with {@code weight}. It is dropped when the last owner's weight comes back.
   */
  public OwnedObject allocateShared(ObjectKind kind, Object value, long weight) {
    return allocateShared(kind, nextObjectId(), value, weight);
  }

  /**
   * {@link #allocateShared(ObjectKind, Object, long)} under an id taken with {@link #nextObjectId}
   * (a cell in the sync region is made for that id first).
   */
  public OwnedObject allocateShared(ObjectKind kind, long objectId, Object value, long weight) {
    if (!kind.sharedOwnership()) {
      throw new IllegalArgumentException(kind + " is not owned by shares");
    }
    OwnedObject obj = new OwnedObject(kind, self, objectId, 0, value, timing, freeSlot);
    shareOwnership(obj, self, weight);
    return put(obj);
  }

  /**
   * Puts an object in shared ownership: for a new object, or a box's whose exclusive borrow the
   * caller holds (a freeze). {@code owner} becomes its first owner, with {@code weight}.
   */
  public void shareOwnership(OwnedObject obj, NodeId owner, long weight) {
    obj.boxHolder(null); // no box owns it any more: a departing node cannot orphan it
    obj.shareOwnership(owner, weight, () -> retire(obj, BorrowState.Phase.DROPPED, null));
  }

  /**
   * A record that only orders the borrows made through one box whose object lives on another node:
   * it is not in the table, and its value is never used.
   */
  public OwnedObject guardFor(GlobalAddress remote) {
    return new OwnedObject(
        remote.node(), remote.object(), remote.color(), null, timing, locator -> {});
  }

  private OwnedObject put(OwnedObject obj) {
    objects.put(obj.objectId(), obj);
    return obj;
  }

  /** The object homed here with this id, or null. */
  public OwnedObject get(long objectId) {
    return objects.get(objectId);
  }

  /** Objects homed here now. */
  public int size() {
    return objects.size();
  }

  /** A live view of the objects homed here. */
  public Collection<OwnedObject> objects() {
    return objects.values();
  }

  /**
   * Ends an object's life here (the caller holds its exclusive borrow, or it is lost or unowned)
   * and leaves a tombstone so that late requests get a precise answer.
   *
   * @param movedTo its new address, for {@link BorrowState.Phase#MOVED}; otherwise null
   */
  public void retire(OwnedObject obj, BorrowState.Phase phase, GlobalAddress movedTo) {
    GlobalAddress last = obj.address();
    ObjectKind kind = obj.kind();
    Object value = obj.value();
    obj.retire(phase);
    objects.remove(last.object(), obj);
    tombstones.record(last.object(), new Tombstones.Tombstone(phase, last, movedTo));
    retired.retired(kind, last.object(), value);
  }

  /** What became of an object no longer here, or null if nothing is remembered. */
  public Tombstones.Tombstone tombstone(long objectId) {
    return tombstones.find(objectId);
  }

  /**
   * Ends the exclusive borrow of a write: the color advances. If the colors ran out, the object is
   * filed again under a new id, so that no cached copy can ever match its new address.
   */
  public void endWrite(OwnedObject obj) {
    long previous = obj.endWrite(this::nextObjectId);
    if (previous >= 0) {
      objects.put(obj.objectId(), obj);
      objects.remove(previous, obj);
    }
  }

  /**
   * {@link #endWrite(OwnedObject)} with the new color's snapshot already published (see {@link
   * OwnedObject#addressAfterWrite}); {@code freshId} is used only if the colors ran out.
   */
  public void endWrite(OwnedObject obj, long freshId, long newLocator, int frameBytes) {
    long previous = obj.endWrite(freshId, newLocator, frameBytes);
    if (previous >= 0) {
      objects.put(obj.objectId(), obj);
      objects.remove(previous, obj);
    }
  }

  /**
   * Files an object recovered from a backup's mirror: homed on this table's node under its old id,
   * at its old color, with its snapshot at {@code locator}, and with no owner or lend yet (those
   * come from the nodes that hold its handles). Ids up to {@code objectId} are never handed out
   * again.
   *
   * @throws IllegalArgumentException for a mutex or an atomic (see {@link #restoreCell}) or an id
   *     already filed
   */
  public OwnedObject restore(
      ObjectKind kind, long objectId, int color, Object value, long locator, int frameBytes) {
    if (kind.rewrittenInPlace()) {
      throw new IllegalArgumentException("a " + kind + " is recovered with restoreCell");
    }
    OwnedObject obj = new OwnedObject(kind, self, objectId, color, value, timing, freeSlot);
    obj.published(color, locator, frameBytes);
    return file(obj, objectId);
  }

  /**
   * Files a mutex or an atomic recovered from a backup's mirror, as {@link #restore} does: {@code
   * cell} is its {@link MutexCell} or {@link AtomicCell} in the promoted sync region, whose cell
   * and value slots hold what the primary had committed.
   *
   * @throws IllegalArgumentException for another kind, a cell of the wrong type, or an id already
   *     filed
   */
  public OwnedObject restoreCell(ObjectKind kind, long objectId, int color, Object cell) {
    if (!kind.rewrittenInPlace()) {
      throw new IllegalArgumentException("a " + kind + " is recovered with restore");
    }
    return file(new OwnedObject(kind, self, objectId, color, cell, timing, freeSlot), objectId);
  }

  private OwnedObject file(OwnedObject obj, long objectId) {
    if (objects.putIfAbsent(objectId, obj) != null) {
      throw new IllegalArgumentException("object " + Long.toHexString(objectId) + " is filed");
    }
    reserveIdsUpTo(objectId);
    return obj;
  }

  /** Ids up to {@code objectId} are never handed out (they were used before a promotion). */
  public void reserveIdsUpTo(long objectId) {
    nextObjectId.accumulateAndGet(objectId + 1, Math::max);
  }
}
