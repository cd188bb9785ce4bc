package dev.pekkodsm.coherence;

import dev.pekkodsm.coherence.BorrowState.Attempt;
import dev.pekkodsm.coherence.BorrowState.Kind;
import dev.pekkodsm.coherence.BorrowState.Phase;
import dev.pekkodsm.coherence.BorrowState.Waiter;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.LongConsumer;
import java.util.function.LongSupplier;
import java.util.function.Predicate;

/**
 * One object at its home: its value, its {@link BorrowState}, and the locator of its published
 * snapshot. This is what the node's object table holds, so the object survives its owner entity
 * being passivated.
 *
 * <p>Thread-safe: every state change happens under this object's monitor, which is held only for a
 * few field updates. Futures of waiting requests are completed after the monitor is released, so no
 * continuation ever runs under it. The value is guarded by the borrow protocol itself: it is read
 * only under a shared borrow and replaced only under the exclusive one, and the monitor hand-offs
 * in between order those accesses.
 */
public final class OwnedObject {

  /** The result of adopting a reference that was sent on from one node to another. */
  public enum Adoption {
    /** The weight is now attributed to the receiving node. */
    ACCEPTED,
    /** The object changed since the reference was lent: the receiver must treat it as stale. */
    STALE
  }

  private final NodeId home;
  private ObjectKind kind; // guarded by this; a box becomes an ARC when frozen
  private final Timing timing;
  private final LongConsumer freeSlot;
  private final BorrowState state;
  private long objectId;
  private Object value;
  private long locator;
  private int snapshotBytes;
  private NodeId boxHolder;
  private Runnable whenUnowned; // shared ownership: run once, when the last owner is gone

  /**
   * A box's object: see {@link #OwnedObject(ObjectKind, NodeId, long, int, Object, Timing,
   * LongConsumer)}.
   */
  public OwnedObject(
      NodeId home, long objectId, int color, Object value, Timing timing, LongConsumer freeSlot) {
    this(ObjectKind.BOX, home, objectId, color, value, timing, freeSlot);
  }

  /**
   * @param kind what the object is; a {@link ObjectKind#MUTEX}'s value is a {@link MutexCell}, an
   *     {@link ObjectKind#ATOMIC}'s an {@link AtomicCell}
   * @param home the node this object lives on
   * @param objectId its id within the home
   * @param color its first color
   * @param value its value
   * @param timing the clock and timer for deadlines
   * @param freeSlot frees a published snapshot slot once no address can reach it
   */
  public OwnedObject(
      ObjectKind kind,
      NodeId home,
      long objectId,
      int color,
      Object value,
      Timing timing,
      LongConsumer freeSlot) {
    if (kind == ObjectKind.MUTEX && !(value instanceof MutexCell)
        || kind == ObjectKind.ATOMIC && !(value instanceof AtomicCell)) {
      throw new IllegalArgumentException("a " + kind + " object needs its cell as the value");
    }
    this.kind = kind;
    this.home = home;
    this.objectId = objectId;
    this.value = value;
    this.timing = timing;
    this.freeSlot = freeSlot;
    this.state = new BorrowState(color);
    this.boxHolder = home;
  }

  /** The object's current address. */
  public synchronized GlobalAddress address() {
    return new GlobalAddress(home, objectId, state.color());
  }

  public synchronized long objectId() {
    return objectId;
  }

  public synchronized int color() {
    return state.color();
  }

  public synchronized Phase phase() {
    return state.phase();
  }

  /** What the object is. */
  public synchronized ObjectKind kind() {
    return kind;
  }

  /** The cell of a mutex. Call only under a borrow. */
  public MutexCell mutexCell() {
    if (kind() != ObjectKind.MUTEX) {
      throw new IllegalStateException(address() + " is not a mutex");
    }
    return (MutexCell) value;
  }

  /** The cell of an atomic. */
  public AtomicCell atomicCell() {
    if (kind() != ObjectKind.ATOMIC) {
      throw new IllegalStateException(address() + " is not an atomic");
    }
    return (AtomicCell) value;
  }

  /** The value. Call only under a borrow. */
  public Object value() {
    return value;
  }

  /** Replaces the value. Call only under the exclusive borrow. */
  public void value(Object newValue) {
    this.value = newValue;
  }

  /** The node whose {@code DBox} owns this object (this node while the box is local). */
  public synchronized NodeId boxHolder() {
    return boxHolder;
  }

  public synchronized void boxHolder(NodeId holder) {
    this.boxHolder = holder;
  }

  /** The published snapshot's locator at the current color, or 0 if none is published. */
  public synchronized long locator() {
    return locator;
  }

  /** The published snapshot's frame size, or 0. */
  public synchronized int snapshotBytes() {
    return snapshotBytes;
  }

  /**
   * Records the snapshot published for {@code color}. Ignored (and the slot freed) if the color
   * moved on meanwhile or one is already published.
   *
   * @return the locator in effect for the current color, or 0 if the color moved on
   */
  public long published(int color, long newLocator, int frameBytes) {
    long toFree = 0;
    long result;
    synchronized (this) {
      if (state.phase() != Phase.ACTIVE || state.color() != color) {
        toFree = newLocator;
        result = 0;
      } else if (locator != 0) {
        toFree = newLocator;
        result = locator;
      } else {
        locator = newLocator;
        snapshotBytes = frameBytes;
        result = newLocator;
      }
    }
    if (toFree != 0) {
      freeSlot.accept(toFree);
    }
    return result;
  }

  /**
   * Records that the snapshot now lives at {@code newLocator} (it outgrew its old slot), and frees
   * the old slot. For objects whose snapshot is rewritten in place, whatever the color.
   */
  public void relocate(long newLocator, int frameBytes) {
    long old;
    synchronized (this) {
      old = locator;
      locator = newLocator;
      snapshotBytes = frameBytes;
    }
    if (old != 0 && old != newLocator) {
      freeSlot.accept(old);
    }
  }

  /** Grants a request now if possible; never waits. */
  public synchronized Attempt tryAcquire(Kind kind, NodeId holder, long weight, String who) {
    return state.tryAcquire(kind, holder, weight, who);
  }

  /**
   * Grants a request now or when it becomes compatible, failing it with {@link
   * BorrowTimeoutException} at the deadline or {@link ObjectRetiredException} if the object leaves
   * first.
   */
  public CompletableFuture<Void> acquire(
      Kind kind, NodeId holder, long weight, String who, long timeoutNs) {
    Pending pending;
    synchronized (this) {
      Attempt attempt = state.tryAcquire(kind, holder, weight, who);
      if (attempt == Attempt.GRANTED) {
        return CompletableFuture.completedFuture(null);
      }
      if (attempt == Attempt.GONE) {
        return CompletableFuture.failedFuture(retired(state.phase()));
      }
      long now = timing.nanoTime();
      pending = new Pending(now);
      state.enqueue(kind, now + timeoutNs, holder, weight, who, pending);
    }
    pending.timeout = timing.schedule(timeoutNs, this::expire);
    return pending.future;
  }

  /** Ends a local shared borrow. */
  public void endShared() {
    List<Waiter> granted;
    Runnable unowned;
    synchronized (this) {
      state.endShared();
      granted = state.grantWaiting();
      unowned = unownedNow();
    }
    complete(granted);
    runIfSet(unowned);
  }

  /** Ends an exclusive borrow that did not write: the color stays. */
  public void endExclusive() {
    List<Waiter> granted;
    Runnable unowned;
    synchronized (this) {
      state.endExclusive(false);
      granted = state.grantWaiting();
      unowned = unownedNow();
    }
    complete(granted);
    runIfSet(unowned);
  }

  private static void runIfSet(Runnable r) {
    if (r != null) {
      r.run();
    }
  }

  /**
   * The address the object will have when the exclusive borrow the caller holds ends with a write:
   * the next color, or color 0 under {@code freshId} if the colors ran out. Lets a write's new
   * snapshot be made (and made safe) before anyone can see the new color.
   */
  public synchronized GlobalAddress addressAfterWrite(long freshId) {
    int color = state.color();
    return color == Integer.MAX_VALUE
        ? new GlobalAddress(home, freshId, 0)
        : new GlobalAddress(home, objectId, color + 1);
  }

  /**
   * {@link #endWrite(LongSupplier)} with the new color's snapshot already published at {@code
   * newLocator}, made for {@link #addressAfterWrite} with the same {@code freshId}: the object
   * never shows the new color without it.
   */
  public long endWrite(long freshId, long newLocator, int frameBytes) {
    List<Waiter> granted;
    long toFree;
    long previous = -1;
    synchronized (this) {
      if (state.endExclusive(true)) {
        previous = objectId;
        objectId = freshId;
        state.resetColor(0);
      }
      toFree = locator;
      locator = newLocator;
      snapshotBytes = frameBytes;
      granted = state.grantWaiting();
    }
    if (toFree != 0 && toFree != newLocator) {
      freeSlot.accept(toFree);
    }
    complete(granted);
    return previous;
  }

  /**
   * Ends the exclusive borrow of a write: the color advances and the old snapshot is freed, so no
   * address can reach it any more. If the color has run out, the object takes a new id from {@code
   * newIds} and color 0, in the same critical section, so nothing can be granted at the exhausted
   * address in between.
   *
   * @return the object's previous id if it was re-keyed (the caller re-files it), else -1
   */
  public long endWrite(LongSupplier newIds) {
    List<Waiter> granted;
    long toFree;
    long previous = -1;
    synchronized (this) {
      if (state.endExclusive(true)) {
        previous = objectId;
        objectId = newIds.getAsLong();
        state.resetColor(0);
      }
      toFree = locator;
      locator = 0;
      snapshotBytes = 0;
      granted = state.grantWaiting();
    }
    if (toFree != 0) {
      freeSlot.accept(toFree);
    }
    complete(granted);
    return previous;
  }

  /**
   * Puts the object in shared ownership ({@code Arc}): {@code owner} holds {@code weight}, and
   * {@code whenUnowned} runs once, outside any lock, when the last owner's weight has come back.
   * For a new object, or one whose exclusive borrow the caller holds (a {@code freeze}).
   */
  public void shareOwnership(NodeId owner, long weight, Runnable whenUnowned) {
    synchronized (this) {
      if (kind == ObjectKind.BOX) {
        kind = ObjectKind.ARC;
      }
      state.makeSharedOwnership();
      state.lends().grant(owner, weight);
      this.whenUnowned = whenUnowned;
    }
  }

  /** True if the object is in shared ownership. */
  public synchronized boolean sharedOwnership() {
    return state.sharedOwnership();
  }

  /**
   * The callback to run if the last owner is gone and no borrow is in progress (a read, a lock, a
   * task running on the value finishes first); null otherwise. Call under the lock.
   */
  private Runnable unownedNow() {
    if (whenUnowned != null
        && state.lends().isEmpty()
        && state.phase() == Phase.ACTIVE
        && state.readers() == 0
        && !state.hasWriter()) {
      Runnable r = whenUnowned;
      whenUnowned = null;
      return r;
    }
    return null;
  }

  /** A holder returns a lent reference of {@code color}; ignored for an older color. */
  public void returnLend(NodeId holder, long weight, int color) {
    List<Waiter> granted;
    Runnable unowned;
    synchronized (this) {
      if (state.phase() != Phase.ACTIVE || state.color() != color) {
        return;
      }
      state.lends().release(holder, weight);
      granted = state.grantWaiting();
      unowned = unownedNow();
    }
    complete(granted);
    if (unowned != null) {
      unowned.run();
    }
  }

  /** Adds weight to an existing lend of {@code color}; false if the color moved on. */
  public synchronized boolean topUp(NodeId holder, long weight, int color) {
    if (state.phase() != Phase.ACTIVE || state.color() != color) {
      return false;
    }
    state.lends().topUp(holder, weight);
    return true;
  }

  /**
   * Attributes a reference sent from {@code from} to {@code to} to its new node.
   *
   * @param departed tells whether a node has left the cluster; asked under this object's lock, so
   *     an adoption and the reclaim of the sender's balance are never interleaved (the node must be
   *     marked departed before its balances are reclaimed)
   */
  public synchronized Adoption adopt(
      NodeId from, NodeId to, long weight, int color, Predicate<NodeId> departed) {
    if (state.phase() != Phase.ACTIVE || state.color() != color) {
      return Adoption.STALE;
    }
    state.lends().adopt(from, to, weight, departed.test(from));
    return Adoption.ACCEPTED;
  }

  /**
   * True if {@code holder} holds weight lent at {@code color}: its references to that version are
   * counted here and protect it.
   */
  public synchronized boolean confirms(NodeId holder, int color) {
    return state.phase() == Phase.ACTIVE && state.color() == color && state.lends().holds(holder);
  }

  /**
   * Forgets the references lent to a node that left the cluster, letting a waiting writer proceed.
   *
   * @return how many references were reclaimed
   */
  public int reclaim(NodeId departed) {
    List<Waiter> granted;
    int reclaimed;
    Runnable unowned;
    synchronized (this) {
      reclaimed = state.lends().reclaim(departed);
      granted = state.grantWaiting();
      unowned = unownedNow();
    }
    complete(granted);
    if (unowned != null) {
      unowned.run();
    }
    return reclaimed;
  }

  /**
   * Ends the object's life here: moved away, dropped, or lost with its node. Frees the published
   * snapshot and fails every waiting request.
   */
  public void retire(Phase phase) {
    List<Waiter> left;
    long toFree;
    synchronized (this) {
      left = state.retire(phase);
      toFree = locator;
      locator = 0;
      snapshotBytes = 0;
      value = null;
    }
    if (toFree != 0) {
      freeSlot.accept(toFree);
    }
    for (Waiter w : left) {
      Pending p = (Pending) w.attachment();
      p.cancelTimeout();
      p.future.completeExceptionally(retired(phase));
    }
  }

  /** Who holds the object now. */
  public synchronized BorrowState.Holders holders() {
    return state.holders();
  }

  /** The outstanding lent weight; zero means no reference is out. */
  public synchronized long lentWeight() {
    return state.lends().totalWeight();
  }

  private void expire() {
    List<Waiter> expired;
    List<Waiter> granted;
    BorrowState.Holders holders;
    long now = timing.nanoTime();
    synchronized (this) {
      expired = state.expire(now);
      granted = state.grantWaiting();
      holders = state.holders();
    }
    for (Waiter w : expired) {
      Pending p = (Pending) w.attachment();
      p.future.completeExceptionally(
          new BorrowTimeoutException(w.kind(), holders, now - p.enqueuedNs));
    }
    complete(granted);
  }

  private void complete(List<Waiter> granted) {
    for (Waiter w : granted) {
      Pending p = (Pending) w.attachment();
      p.cancelTimeout();
      p.future.complete(null);
    }
  }

  private ObjectRetiredException retired(Phase phase) {
    return new ObjectRetiredException(
        phase, "object " + home.hex() + ":" + Long.toHexString(objectId) + " is " + phase);
  }

  private static final class Pending {
    final CompletableFuture<Void> future = new CompletableFuture<>();
    final long enqueuedNs;
    volatile Timing.Cancellable timeout;

    Pending(long enqueuedNs) {
      this.enqueuedNs = enqueuedNs;
    }

    void cancelTimeout() {
      Timing.Cancellable t = timeout;
      if (t != null) {
        t.cancel();
      }
    }
  }
}
