package dev.pekkodsm.coherence;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * The ownership and borrow state of one object: Rust's rules as a run-time state machine.
 *
 * <p>At any moment an object is either shared (any number of local shared borrows and lent
 * references) or exclusively borrowed (one writer, or an owner moving or dropping it), never both.
 * Requests that cannot be granted wait in one FIFO queue, each with a deadline; a release grants
 * the waiters at the head that have become compatible. Local shared borrows may pass a writer that
 * waits for lent references (see {@link #tryAcquire}).
 *
 * <p>Plain Java, no clocks or threads of its own: time comes in as {@code nowNs} arguments and
 * decisions come out as return values, so every sequence can be replayed in a unit test. Not
 * thread-safe; {@link OwnedObject} serializes access to it.
 */
public final class BorrowState {

  /** Where an object is in its life. Exported as a metric. */
  public enum Phase {
    /** Owned here and usable. */
    ACTIVE,
    /** Handed over to a writer on another node; lives on under a new address. */
    MOVED,
    /** Freed by its owner. */
    DROPPED,
    /** Its owner's node left the cluster; nothing remains. */
    LOST
  }

  /** What a request wants. */
  public enum Kind {
    /** A local shared borrow for the duration of a read. */
    SHARED,
    /** A shared reference lent to a holder, possibly on another node. */
    LEND,
    /** A mutable borrow, a transfer check, a hand-over or a drop. */
    EXCLUSIVE
  }

  /** The answer to an immediate request. */
  public enum Attempt {
    GRANTED,
    MUST_WAIT,
    GONE
  }

  /** A queued request. The attachment is the caller's (a future, a reply address). */
  public static final class Waiter {
    final Kind kind;
    final long deadlineNs;
    final NodeId holder;
    final long weight;
    final String who;
    final Object attachment;

    Waiter(Kind kind, long deadlineNs, NodeId holder, long weight, String who, Object attachment) {
      this.kind = kind;
      this.deadlineNs = deadlineNs;
      this.holder = holder;
      this.weight = weight;
      this.who = who;
      this.attachment = attachment;
    }

    public Kind kind() {
      return kind;
    }

    public long deadlineNs() {
      return deadlineNs;
    }

    public Object attachment() {
      return attachment;
    }
  }

  /**
   * Who holds an object, for a {@code BorrowConflictException}'s message.
   *
   * @param readers local shared borrows in progress
   * @param writer the exclusive holder's description, or null
   * @param lentRefs references lent, by holder node
   * @param queued requests waiting
   */
  public record Holders(int readers, String writer, Map<NodeId, Integer> lentRefs, int queued) {
    /** The number of lent references. */
    public int lentCount() {
      return lentRefs.values().stream().mapToInt(Integer::intValue).sum();
    }
  }

  private Phase phase = Phase.ACTIVE;
  private int color;
  private int readers;
  private String writer;
  private final LendLedger lends = new LendLedger();
  private final ArrayDeque<Waiter> queue = new ArrayDeque<>(2);
  private boolean sharedOwnership;

  public BorrowState(int color) {
    this.color = color;
  }

  public Phase phase() {
    return phase;
  }

  public int color() {
    return color;
  }

  public int readers() {
    return readers;
  }

  public boolean hasWriter() {
    return writer != null;
  }

  public LendLedger lends() {
    return lends;
  }

  public int queued() {
    return queue.size();
  }

  /**
   * Switches the object to shared ownership ({@code Arc}): from now on the weight in the ledger
   * counts owners, not borrowers, so it no longer blocks an exclusive borrow (a mutex lock), and
   * the object is dropped when the last owner's weight comes back.
   */
  public void makeSharedOwnership() {
    sharedOwnership = true;
  }

  /** True once the ledger counts owners ({@link #makeSharedOwnership()}). */
  public boolean sharedOwnership() {
    return sharedOwnership;
  }

  private boolean compatible(Kind kind) {
    return switch (kind) {
      case SHARED, LEND -> writer == null;
      case EXCLUSIVE -> writer == null && readers == 0 && (sharedOwnership || lends.isEmpty());
    };
  }

  private void take(Kind kind, NodeId holder, long weight, String who) {
    switch (kind) {
      case SHARED -> readers++;
      case LEND -> lends.grant(holder, weight);
      case EXCLUSIVE -> writer = who != null ? who : "an exclusive borrow";
    }
  }

  /**
   * Grants {@code kind} now if it is compatible and nobody is queued ahead. One exception to the
   * queue order: while references are lent, a local shared borrow does not wait behind a queued
   * writer, which cannot proceed before those references come back anyway; once they are back, new
   * shared borrows queue, so the writer is not starved.
   *
   * @param holder for {@link Kind#LEND}, who gets the reference
   * @param weight for {@link Kind#LEND}, its weight
   * @param who for {@link Kind#EXCLUSIVE}, a description of the holder for diagnostics
   */
  public Attempt tryAcquire(Kind kind, NodeId holder, long weight, String who) {
    if (phase != Phase.ACTIVE) {
      return Attempt.GONE;
    }
    boolean mayPass =
        queue.isEmpty() || (kind == Kind.SHARED && !sharedOwnership && !lends.isEmpty());
    if (!mayPass || !compatible(kind)) {
      return Attempt.MUST_WAIT;
    }
    take(kind, holder, weight, who);
    return Attempt.GRANTED;
  }

  /** Queues a request that {@link #tryAcquire} could not grant. */
  public Waiter enqueue(
      Kind kind, long deadlineNs, NodeId holder, long weight, String who, Object attachment) {
    if (phase != Phase.ACTIVE) {
      throw new IllegalStateException("cannot queue on a " + phase + " object");
    }
    Waiter w = new Waiter(kind, deadlineNs, holder, weight, who, attachment);
    queue.addLast(w);
    return w;
  }

  /** Ends a local shared borrow. */
  public void endShared() {
    if (readers <= 0) {
      throw new IllegalStateException("endShared without a shared borrow");
    }
    readers--;
  }

  /**
   * Ends the exclusive borrow.
   *
   * @param recolor true after a write: the color advances so that every copy of the old version is
   *     unreachable
   * @return true if the color has run out and the object must be re-addressed (a new object id,
   *     color 0) before it is lent again
   */
  public boolean endExclusive(boolean recolor) {
    if (writer == null) {
      throw new IllegalStateException("endExclusive without an exclusive borrow");
    }
    writer = null;
    if (!recolor) {
      return false;
    }
    if (color == Integer.MAX_VALUE) {
      return true;
    }
    color++;
    return false;
  }

  /** Gives the object a fresh color after it was re-addressed. */
  public void resetColor(int newColor) {
    this.color = newColor;
  }

  /**
   * Grants the waiters at the head of the queue that have become compatible, in order: a run of
   * shared requests together, or one exclusive request.
   *
   * @return the granted waiters, to be completed by the caller outside any lock
   */
  public List<Waiter> grantWaiting() {
    List<Waiter> granted = null;
    while (phase == Phase.ACTIVE && !queue.isEmpty() && compatible(queue.peekFirst().kind)) {
      Waiter w = queue.pollFirst();
      take(w.kind, w.holder, w.weight, w.who);
      if (granted == null) {
        granted = new ArrayList<>(2);
      }
      granted.add(w);
    }
    return granted == null ? List.of() : granted;
  }

  /**
   * Removes the waiters whose deadline has passed. Call {@link #grantWaiting()} afterwards: an
   * expired head may have been blocking compatible requests behind it.
   */
  public List<Waiter> expire(long nowNs) {
    List<Waiter> expired = null;
    for (Iterator<Waiter> it = queue.iterator(); it.hasNext(); ) {
      Waiter w = it.next();
      if (nowNs - w.deadlineNs >= 0) {
        it.remove();
        if (expired == null) {
          expired = new ArrayList<>(2);
        }
        expired.add(w);
      }
    }
    return expired == null ? List.of() : expired;
  }

  /** Removes one waiter (its caller gave up); true if it was still queued. */
  public boolean cancel(Waiter waiter) {
    return queue.remove(waiter);
  }

  /**
   * Ends the object's life here. Requires the exclusive borrow unless {@code phase} is {@link
   * Phase#LOST} or the object is in shared ownership and has no owner left.
   *
   * @return the waiters still queued, to be failed by the caller
   */
  public List<Waiter> retire(Phase newPhase) {
    if (newPhase == Phase.ACTIVE) {
      throw new IllegalArgumentException("retire to ACTIVE");
    }
    boolean unowned = sharedOwnership && lends.isEmpty();
    if (newPhase != Phase.LOST && writer == null && !unowned) {
      throw new IllegalStateException("retire to " + newPhase + " without the exclusive borrow");
    }
    phase = newPhase;
    writer = null;
    List<Waiter> left = new ArrayList<>(queue);
    queue.clear();
    return left;
  }

  /** Who holds the object now. */
  public Holders holders() {
    return new Holders(readers, writer, lends.refsByHolder(), queue.size());
  }

  /** The earliest deadline among queued waiters, or {@code Long.MAX_VALUE}. */
  public long nextDeadlineNs() {
    long next = Long.MAX_VALUE;
    boolean any = false;
    for (Waiter w : queue) {
      if (!any || w.deadlineNs - next < 0) {
        next = w.deadlineNs;
        any = true;
      }
    }
    return next;
  }
}
