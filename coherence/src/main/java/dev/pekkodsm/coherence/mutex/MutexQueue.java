package dev.pekkodsm.coherence.mutex;

import dev.pekkodsm.coherence.NodeId;
import dev.pekkodsm.coherence.Timing;
import dev.pekkodsm.memory.SyncAccess;
import dev.pekkodsm.memory.SyncLayout;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;

/**
 * The lockers of one mutex that wait, at its home. A locker that finds the lock held (or others
 * already waiting) asks the home, which queues it here, sets the waiters flag in the {@link
 * LockWord} so that the holder's release hands the lock to the home instead of freeing it, and
 * grants the lock to the head of the queue whenever it is free or handed over. Waiting is FIFO from
 * then on (lockers that see the flag queue too), every wait has a deadline, a locker that gives up
 * is removed (or its grant released), and a node that leaves loses its place and its lock.
 *
 * <p>The only bound on unfairness is the moment between the home seeing the lock held and setting
 * the flag, in which a locker arriving at a free lock may take it once.
 *
 * <p>Thread-safe: changes are made under this queue's monitor, and the listeners are called after
 * it is released.
 */
public final class MutexQueue {

  /** What a waiting locker is told, once. */
  public interface Listener {
    /** The lock is the locker's: {@code word} is the lock word as granted. */
    void granted(long word);

    /** The lock was not granted before the deadline; {@code word} is the word then. */
    void timedOut(long word, long waitedNs);
  }

  private final class Waiter {
    final NodeId holder;
    final long lockId;
    final long enqueuedNs;
    Listener listener; // more than one if the same attempt was asked again
    Timing.Cancellable deadline;

    Waiter(NodeId holder, long lockId, long enqueuedNs, Listener listener) {
      this.holder = holder;
      this.lockId = lockId;
      this.enqueuedNs = enqueuedNs;
      this.listener = listener;
    }
  }

  /** The last grant, so a locker that gave up after it can have it released. */
  private record Grant(NodeId holder, long lockId, long word) {}

  private final SyncAccess home;
  private final long cell;
  private final long object;
  private final Timing timing;
  private final long timeoutNs;
  private final ArrayDeque<Waiter> waiting = new ArrayDeque<>(2);
  private Grant lastGrant;

  /**
   * @param home the home's own access to its sync region
   * @param timeoutNs how long a locker waits before it is refused
   */
  public MutexQueue(SyncAccess home, long cell, long object, Timing timing, long timeoutNs) {
    this.home = home;
    this.cell = cell;
    this.object = object;
    this.timing = timing;
    this.timeoutNs = timeoutNs;
  }

  /** Lockers waiting now. */
  public synchronized int waiting() {
    return waiting.size();
  }

  /**
   * Queues a locker and grants the lock at once if it is free. {@code lockId} names this attempt,
   * for {@link #cancel}.
   *
   * <p>The same attempt asked again (a request delivered twice, or sent again after its answer was
   * lost) takes no second place: while it waits, both listeners are told of its outcome; once
   * granted, the new listener is told of the grant again while the attempt still holds the lock,
   * and that it timed out if the lock has moved on since (the attempt used it, so nobody waits for
   * this answer, and a second grant would never be released).
   */
  public void lock(NodeId holder, long lockId, Listener listener) {
    List<Runnable> calls = new ArrayList<>(1);
    Waiter w = new Waiter(holder, lockId, timing.nanoTime(), listener);
    synchronized (this) {
      if (askedAgain(holder, lockId, listener, calls)) {
        calls.forEach(Runnable::run);
        return;
      }
      waiting.addLast(w);
      pump(calls);
      if (waiting.contains(w)) {
        w.deadline = timing.schedule(timeoutNs, () -> expire(w));
      }
    }
    calls.forEach(Runnable::run);
  }

  /** Handles {@code lockId} of {@code holder} if it was asked before; call under the monitor. */
  private boolean askedAgain(NodeId holder, long lockId, Listener listener, List<Runnable> calls) {
    for (Waiter w : waiting) {
      if (w.holder.equals(holder) && w.lockId == lockId) {
        w.listener = both(w.listener, listener);
        return true;
      }
    }
    Grant g = lastGrant;
    if (g == null || !g.holder.equals(holder) || g.lockId != lockId) {
      return false;
    }
    long word = home.load(cell, object, SyncLayout.WORD, Long.MAX_VALUE);
    if (LockWord.withWaiters(word, false) == LockWord.withWaiters(g.word, false)) {
      calls.add(() -> listener.granted(word));
    } else {
      calls.add(() -> listener.timedOut(word, 0));
    }
    return true;
  }

  private static Listener both(Listener first, Listener second) {
    return new Listener() {
      @Override
      public void granted(long word) {
        first.granted(word);
        second.granted(word);
      }

      @Override
      public void timedOut(long word, long waitedNs) {
        first.timedOut(word, waitedNs);
        second.timedOut(word, waitedNs);
      }
    };
  }

  /** The lock's releaser handed it to the home: pass it on. */
  public void handedOff() {
    List<Runnable> calls = new ArrayList<>(1);
    synchronized (this) {
      pump(calls);
    }
    calls.forEach(Runnable::run);
  }

  /**
   * A locker gave up on attempt {@code lockId}: it leaves the queue, or, if it was granted the lock
   * and has not used it, the lock is released for it.
   *
   * @return true if it was waiting or its grant was released
   */
  public boolean cancel(NodeId holder, long lockId) {
    List<Runnable> calls = new ArrayList<>(1);
    boolean found = false;
    synchronized (this) {
      for (Iterator<Waiter> it = waiting.iterator(); it.hasNext(); ) {
        Waiter w = it.next();
        if (w.holder.equals(holder) && w.lockId == lockId) {
          it.remove();
          cancelDeadline(w);
          found = true;
        }
      }
      Grant g = lastGrant;
      if (!found && g != null && g.holder.equals(holder) && g.lockId == lockId) {
        long word = home.load(cell, object, SyncLayout.WORD, Long.MAX_VALUE);
        if (LockWord.withWaiters(word, false) == LockWord.withWaiters(g.word, false)) {
          MutexSteps.release(home, cell, object, word, Long.MAX_VALUE);
          lastGrant = null;
          found = true;
        }
      }
      pump(calls);
    }
    calls.forEach(Runnable::run);
    return found;
  }

  /**
   * A node left the cluster: its lockers leave the queue, and if it holds the lock the lock is
   * taken back (the fence advances, so its late commit is refused; the committed value stands)
   * after {@code beforeTakingBack} has run (it moves the value to new slots, which a node that does
   * not know it lost the lock can no longer write).
   *
   * @return true if the node held the lock
   */
  public boolean departed(NodeId node, Runnable beforeTakingBack) {
    List<Runnable> calls = new ArrayList<>(1);
    boolean held = false;
    synchronized (this) {
      for (Iterator<Waiter> it = waiting.iterator(); it.hasNext(); ) {
        Waiter w = it.next();
        if (w.holder.equals(node)) {
          it.remove();
          cancelDeadline(w);
        }
      }
      long word = home.load(cell, object, SyncLayout.WORD, Long.MAX_VALUE);
      if (LockWord.heldByNode(word, node)) {
        beforeTakingBack.run();
        while (LockWord.heldByNode(word, node)) {
          long witness =
              home.compareAndExchange(
                  cell, object, SyncLayout.WORD, word, LockWord.fenced(word), Long.MAX_VALUE);
          held = held || witness == word;
          word = witness;
        }
      }
      pump(calls);
    }
    calls.forEach(Runnable::run);
    return held;
  }

  private void expire(Waiter w) {
    List<Runnable> calls = new ArrayList<>(2);
    synchronized (this) {
      if (!waiting.remove(w)) {
        return;
      }
      long word = home.load(cell, object, SyncLayout.WORD, Long.MAX_VALUE);
      long waited = timing.nanoTime() - w.enqueuedNs;
      calls.add(() -> w.listener.timedOut(word, waited));
      pump(calls);
    }
    calls.forEach(Runnable::run);
  }

  /**
   * Grants the lock to the head of the queue if it is free or handed to the home, or makes sure its
   * holder will hand it over; clears the waiters flag when nobody waits. Call under the monitor;
   * the grant's listener call is added to {@code calls}.
   */
  private void pump(List<Runnable> calls) {
    long word = home.load(cell, object, SyncLayout.WORD, Long.MAX_VALUE);
    while (true) {
      boolean ours = LockWord.isFree(word) || LockWord.holder(word) == LockWord.HANDED_OFF;
      long next;
      Waiter head = waiting.peekFirst();
      if (head == null) {
        if (!LockWord.hasWaiters(word) && LockWord.holder(word) != LockWord.HANDED_OFF) {
          return; // nothing to do
        }
        next =
            LockWord.withWaiters(
                LockWord.holder(word) == LockWord.HANDED_OFF ? LockWord.heldBy(word, 0) : word,
                false);
      } else if (ours) {
        next =
            LockWord.withWaiters(
                LockWord.heldBy(word, LockWord.token(head.holder, (int) head.lockId)),
                waiting.size() > 1);
      } else if (!LockWord.hasWaiters(word)) {
        next = LockWord.withWaiters(word, true); // its holder will hand the lock over
      } else {
        return; // held, and its holder knows to hand it over
      }
      long witness =
          home.compareAndExchange(cell, object, SyncLayout.WORD, word, next, Long.MAX_VALUE);
      if (witness != word) {
        word = witness; // the holder released, or a locker took the free lock: look again
        continue;
      }
      if (head != null && ours) {
        waiting.pollFirst();
        cancelDeadline(head);
        lastGrant = new Grant(head.holder, head.lockId, next);
        calls.add(() -> head.listener.granted(next));
      }
      return;
    }
  }

  private static void cancelDeadline(Waiter w) {
    if (w.deadline != null) {
      w.deadline.cancel();
    }
  }
}
