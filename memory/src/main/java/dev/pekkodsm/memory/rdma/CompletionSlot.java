package dev.pekkodsm.memory.rdma;

import dev.pekkodsm.memory.ReadStatus;
import java.io.IOException;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The life of one registered local buffer of a reader connection and of the work requests posted
 * into it, without DiSNI: a reading thread acquires the buffer, posts, and waits for the poller to
 * report the completion of the chain's signaled work request. A wait that passes its deadline
 * abandons the buffer, which goes back to the pool only once its work requests have completed, so
 * the NIC never writes into a buffer another operation owns.
 *
 * <p>Owned by one thread between acquisition and {@link #release()}; its state is shared with the
 * poller ({@link #completed}).
 */
abstract class CompletionSlot {

  // States. Owned: IDLE, POSTED, DONE, FAILED, ABANDONED, LANDED.
  static final int FREE = 0;
  static final int IDLE = 1;
  static final int POSTED = 2;
  static final int DONE = 3;
  static final int FAILED = 4;
  static final int ABANDONED = 5; // owner stopped waiting, work requests outstanding
  static final int LANDED = 6; // abandoned, work requests completed, owner not yet released
  static final int ORPHANED = 7; // owner released, work requests outstanding

  /** What a slot needs of its connection. */
  interface Poller {
    /** Polls the completion queue if no other thread does (delivering {@link #completed}). */
    void progress(int spins);

    /** Why the connection is unusable, or null. */
    String failure();

    /** Marks the connection unusable; the first reason sticks. */
    void markBroken(String reason);
  }

  /** Posts a prepared chain of work requests. */
  @FunctionalInterface
  interface Post {
    void post() throws IOException;
  }

  final int index;
  private final AtomicInteger state = new AtomicInteger(FREE);
  private final Poller poller;

  CompletionSlot(int index, Poller poller) {
    this.index = index;
    this.poller = poller;
  }

  /** Puts the slot back into its pool. */
  abstract void recycle();

  /** The poll or the pool handed this slot to an owner. */
  final void acquired() {
    state.set(IDLE);
  }

  /** The state, for tests. */
  final int state() {
    return state.get();
  }

  /**
   * Posts with {@code post} and waits for the completion until {@code deadlineNs}.
   *
   * @return {@link ReadStatus#OK}; {@link ReadStatus#TIMED_OUT} if the deadline passed first (the
   *     slot is abandoned until its work requests complete); {@link ReadStatus#UNAVAILABLE} if a
   *     work request failed, could not be posted, or the connection was lost
   */
  final ReadStatus post(Post post, long deadlineNs) {
    if (poller.failure() != null) {
      return ReadStatus.UNAVAILABLE;
    }
    state.set(POSTED);
    try {
      post.post();
    } catch (IOException | RuntimeException e) {
      state.set(IDLE); // nothing was posted
      poller.markBroken("cannot post an RDMA work request: " + e.getMessage());
      return ReadStatus.UNAVAILABLE;
    }
    return await(deadlineNs);
  }

  private ReadStatus await(long deadlineNs) {
    for (int spins = 0; ; spins++) {
      int s = state.get();
      if (s == DONE) {
        state.set(IDLE);
        return ReadStatus.OK;
      }
      if (s == FAILED) {
        state.set(IDLE);
        return ReadStatus.UNAVAILABLE;
      }
      boolean lost = poller.failure() != null;
      if (lost || System.nanoTime() - deadlineNs >= 0) {
        if (state.compareAndSet(POSTED, ABANDONED)) {
          return lost ? ReadStatus.UNAVAILABLE : ReadStatus.TIMED_OUT;
        }
        continue; // completed meanwhile
      }
      poller.progress(spins);
    }
  }

  /**
   * The poller's side: this slot's signaled work request completed (or any of its chain failed).
   */
  final void completed(boolean ok) {
    while (true) {
      int s = state.get();
      if (s == POSTED) {
        if (state.compareAndSet(POSTED, ok ? DONE : FAILED)) {
          return;
        }
      } else if (s == ABANDONED) {
        if (state.compareAndSet(ABANDONED, LANDED)) {
          return;
        }
      } else if (s == ORPHANED) {
        if (state.compareAndSet(ORPHANED, FREE)) {
          recycle();
          return;
        }
      } else {
        return; // a further completion of a chain that already failed
      }
    }
  }

  /** The owner's side: back to the pool now, or once its abandoned work requests have completed. */
  final void release() {
    while (true) {
      int s = state.get();
      if (s == IDLE || s == LANDED) {
        if (state.compareAndSet(s, FREE)) {
          recycle();
          return;
        }
      } else if (s == ABANDONED) {
        if (state.compareAndSet(ABANDONED, ORPHANED)) {
          return;
        }
      } else {
        throw new IllegalStateException("local buffer " + index + " released in state " + s);
      }
    }
  }
}
