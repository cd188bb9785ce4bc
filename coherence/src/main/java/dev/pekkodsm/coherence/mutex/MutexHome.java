package dev.pekkodsm.coherence.mutex;

import dev.pekkodsm.coherence.MutexCell;
import dev.pekkodsm.coherence.NodeId;
import dev.pekkodsm.coherence.Timing;
import dev.pekkodsm.memory.ReadBuffer;
import dev.pekkodsm.memory.ReadStatus;
import dev.pekkodsm.memory.SyncAccess;
import dev.pekkodsm.memory.SyncFailedException;
import dev.pekkodsm.memory.SyncLayout;
import dev.pekkodsm.memory.SyncStatus;
import dev.pekkodsm.serialization.internal.SnapshotCodec;

/**
 * What the home of mutexes does that lockers cannot do one-sided: create and free a mutex's cell
 * and value slots, queue lockers that wait, commit for a locker whose transport has no one-sided
 * writes (or whose new value outgrew its slots, which then grow), and take the lock back from a
 * node that left. Everything else (locking a free lock, committing, reading) lockers do themselves
 * with {@link MutexSteps}.
 *
 * <p>Thread-safe.
 */
public final class MutexHome {

  /** Value slots start with this much room beyond the first value, and double when outgrown. */
  private static final int MIN_FRAME_CAPACITY = 256;

  private final NodeId self;
  private final MutexStore store;
  private final Timing timing;
  private final long lockTimeoutNs;

  public MutexHome(NodeId self, MutexStore store, Timing timing, long lockTimeoutNs) {
    this.self = self;
    this.store = store;
    this.timing = timing;
    this.lockTimeoutNs = lockTimeoutNs;
  }

  /** The home's access to its sync region. */
  public SyncAccess region() {
    return store.region();
  }

  /** The store of value frames. */
  public MutexStore store() {
    return store;
  }

  /**
   * A new mutex of {@code object} holding {@code value} at version 0: its cell, free, naming slot
   * A; both slots hold the first frame and room for it to grow.
   *
   * @throws RuntimeException if the value cannot be serialized or the region is full
   */
  public MutexCell create(long object, Object value) {
    byte[] frame = store.frame(value, object, 0);
    int capacity = Math.max(MIN_FRAME_CAPACITY, 2 * frame.length);
    long cell = store.region().allocateCell(SyncLayout.KIND_MUTEX, object);
    SyncAccess region = store.region();
    region.compareAndExchange(
        cell,
        object,
        SyncLayout.LOCATOR_A,
        0,
        store.region().allocateValue(frame, frame.length, capacity),
        0);
    region.compareAndExchange(
        cell,
        object,
        SyncLayout.LOCATOR_B,
        0,
        store.region().allocateValue(frame, frame.length, capacity),
        0);
    return new MutexCell(cell, new MutexQueue(region, cell, object, timing, lockTimeoutNs));
  }

  /**
   * The mutex of {@code object} whose cell at {@code cell} a promoted mirror holds: its committed
   * value stands, its lock is free, nobody queues.
   *
   * @throws dev.pekkodsm.memory.SyncFailedException if the cell is not that mutex's
   */
  public MutexCell restore(long cell, long object) {
    store.region().load(cell, object, SyncLayout.WORD, 0);
    return new MutexCell(cell, new MutexQueue(store.region(), cell, object, timing, lockTimeoutNs));
  }

  /** Frees a mutex no handle can reach any more: its slots and its cell. */
  public void destroy(MutexCell mutex, long object) {
    SyncAccess region = store.region();
    store.region().freeValue(MutexSteps.slot(region, mutex.cell(), object, 0, 0));
    store.region().freeValue(MutexSteps.slot(region, mutex.cell(), object, 1, 0));
    store.region().freeCell(mutex.cell());
  }

  /**
   * The committed value, read from the home's own region into {@code out}.
   *
   * @return the word the frame belongs to
   * @throws IllegalStateException if it cannot be read (it is always local and never torn, so this
   *     is corruption)
   */
  public long readCommitted(MutexCell mutex, long object, ReadBuffer out) {
    ReadStatus[] status = new ReadStatus[1];
    long word =
        MutexSteps.readCommitted(
            store.region(), mutex.cell(), object, out, status, System.nanoTime() + lockTimeoutNs);
    if (status[0] != ReadStatus.OK) {
      throw new IllegalStateException(
          "the committed value of mutex " + Long.toHexString(object) + " is " + status[0]);
    }
    return word;
  }

  /** How a commit made by the home for a locker ended. */
  public enum Commit {
    /** Committed; the lock is free or passed on. */
    COMMITTED,
    /** The locker no longer holds the lock: nothing changed. */
    NOT_HELD
  }

  /**
   * Commits {@code value} for {@code holder}, which holds the lock: for a locker whose transport
   * cannot write one-sided, or whose value outgrew the slots (they are replaced by slots twice the
   * new frame's size first). Then passes the lock on.
   *
   * @throws RuntimeException if the value cannot be serialized; the lock stays held
   */
  public Commit commitFor(MutexCell mutex, long object, NodeId holder, Object value) {
    return commitFor(mutex, object, holder, 0, value);
  }

  /**
   * {@link #commitFor(MutexCell, long, NodeId, Object)} for the acquisition that holds the lock as
   * {@code heldWord}: if the word is another (the lock was taken back, and perhaps taken again by
   * another thread of the same node), nothing is committed. 0: any acquisition of {@code holder}.
   */
  public Commit commitFor(
      MutexCell mutex, long object, NodeId holder, long heldWord, Object value) {
    SyncAccess region = store.region();
    long cell = mutex.cell();
    long word = region.load(cell, object, SyncLayout.WORD, 0);
    if (!holds(word, holder, heldWord)) {
      return Commit.NOT_HELD;
    }
    ReadBuffer current = new ReadBuffer(256);
    readCommitted(mutex, object, current);
    int color = SnapshotCodec.color(current.bytes(), 0) + 1;
    byte[] frame = store.frame(value, object, color);
    long inactive = MutexSteps.slot(region, cell, object, 1 - LockWord.activeSlot(word), 0);
    if (store.region().valueCapacity(inactive) < frame.length) {
      relocate(mutex, object, current, 2 * frame.length, true);
    }
    MutexSteps.Outcome outcome =
        MutexSteps.commit(region, cell, object, word, frame, frame.length, color, 0);
    if (outcome == MutexSteps.Outcome.FENCED) {
      return Commit.NOT_HELD;
    }
    if (outcome == MutexSteps.Outcome.HANDED_OFF) {
      mutex.queue().handedOff();
    }
    return Commit.COMMITTED;
  }

  /**
   * Moves the committed value (its frame in {@code committed}) to two new slots of {@code
   * frameCapacity}, naming them in the cell before the old ones go: a reader that had the old
   * locators finds the same frame there, or a freed slot and looks again.
   *
   * @param freeOld free the old slots; not when the lock is taken back from a node that may still
   *     write them without knowing it lost the lock
   */
  private void relocate(
      MutexCell mutex, long object, ReadBuffer committed, int frameCapacity, boolean freeOld) {
    SyncAccess region = store.region();
    long cell = mutex.cell();
    byte[] frame = java.util.Arrays.copyOf(committed.bytes(), committed.length());
    int capacity =
        Math.max(
            frameCapacity,
            store.region().valueCapacity(MutexSteps.slot(region, cell, object, 0, 0)));
    for (int slot = 0; slot < 2; slot++) {
      int field = slot == 0 ? SyncLayout.LOCATOR_A : SyncLayout.LOCATOR_B;
      long old = region.load(cell, object, field, 0);
      region.compareAndExchange(
          cell, object, field, old, store.region().allocateValue(frame, frame.length, capacity), 0);
      if (freeOld) {
        store.region().freeValue(old);
      }
    }
  }

  private static boolean holds(long word, NodeId holder, long heldWord) {
    return heldWord == 0
        ? LockWord.heldByNode(word, holder)
        : LockWord.heldByNode(word, holder)
            && LockWord.withWaiters(word, false) == LockWord.withWaiters(heldWord, false);
  }

  /** Releases the lock for {@code holder} if it holds it: the committed value stands. */
  public void releaseFor(MutexCell mutex, long object, NodeId holder) {
    releaseFor(mutex, object, holder, 0);
  }

  /**
   * {@link #releaseFor(MutexCell, long, NodeId)} for the acquisition holding it as {@code
   * heldWord}.
   */
  public void releaseFor(MutexCell mutex, long object, NodeId holder, long heldWord) {
    long word = store.region().load(mutex.cell(), object, SyncLayout.WORD, 0);
    if (holds(word, holder, heldWord)
        && MutexSteps.release(store.region(), mutex.cell(), object, word, 0)
            == MutexSteps.Outcome.HANDED_OFF) {
      mutex.queue().handedOff();
    }
  }

  /** Queues {@code holder}'s lock attempt {@code lockId}; see {@link MutexQueue#lock}. */
  public void lock(MutexCell mutex, NodeId holder, long lockId, MutexQueue.Listener listener) {
    mutex.queue().lock(holder, lockId, listener);
  }

  /** The lock's releaser handed it to the home. */
  public void handedOff(MutexCell mutex) {
    mutex.queue().handedOff();
  }

  /** {@code holder} gave up on attempt {@code lockId}; see {@link MutexQueue#cancel}. */
  public boolean cancel(MutexCell mutex, NodeId holder, long lockId) {
    return mutex.queue().cancel(holder, lockId);
  }

  /**
   * A node left: it leaves the queue, and if it held the lock the lock is taken back, the value
   * first moved to new slots (the old ones are never reused: the node may not know it is out and
   * still write them); the committed value stands.
   *
   * @return true if it held the lock
   */
  public boolean departed(MutexCell mutex, long object, NodeId node) {
    return mutex
        .queue()
        .departed(
            node,
            () -> {
              ReadBuffer committed = new ReadBuffer(256);
              readCommitted(mutex, object, committed);
              relocate(mutex, object, committed, 0, false);
            });
  }

  /**
   * Takes the lock for the home itself (for a function run at the home): at once if it is free,
   * else by queueing. The listener is told when it is held.
   */
  public void lockHere(MutexCell mutex, long object, long lockId, MutexQueue.Listener listener) {
    long word =
        MutexSteps.tryLock(
            store.region(),
            mutex.cell(),
            object,
            LockWord.token(self, (int) lockId),
            Long.MAX_VALUE);
    if (word != MutexSteps.NOT_FREE) {
      listener.granted(word);
    } else {
      mutex.queue().lock(self, lockId, listener);
    }
  }

  /**
   * The home's value for its holder of the lock held as {@code word}: its decoded copy if it is of
   * the committed version, else the committed value decoded afresh (and kept).
   *
   * @return the value, and its version in {@code color[0]}
   */
  public Object ownedValue(MutexCell mutex, long object, long word, int[] color) {
    ReadBuffer buffer = new ReadBuffer(256);
    long at = MutexSteps.slot(store.region(), mutex.cell(), object, LockWord.activeSlot(word), 0);
    long peeked = store.region().peekValueColor(at, object, 0);
    if (peeked >= 0 && LockWord.names(word, (int) peeked)) {
      Object mine = mutex.owned().at((int) peeked);
      if (mine != null) {
        color[0] = (int) peeked;
        return mine;
      }
    }
    readCommitted(mutex, object, buffer);
    color[0] = SnapshotCodec.color(buffer.bytes(), 0);
    Object value = store.decode(buffer);
    mutex.owned().keep(color[0], value);
    return value;
  }

  /**
   * Commits the home's holder's value as version {@code color} + 1 and releases the lock held as
   * {@code word}, growing the slots if the value outgrew them.
   *
   * @throws SyncFailedException if the lock was not held any more (a forced release)
   */
  public void commitHere(MutexCell mutex, long object, long word, Object value, int color) {
    SyncAccess region = store.region();
    byte[] frame = store.frame(value, object, color + 1);
    MutexSteps.Outcome outcome;
    try {
      outcome =
          MutexSteps.commit(region, mutex.cell(), object, word, frame, frame.length, color + 1, 0);
    } catch (SyncFailedException e) {
      if (e.status() != SyncStatus.TOO_LARGE) {
        throw e;
      }
      mutex.owned().forget();
      if (commitFor(mutex, object, self, value) == Commit.NOT_HELD) {
        throw new SyncFailedException(SyncStatus.NOT_THIS_OBJECT, "the lock was taken back");
      }
      return;
    }
    finish(mutex, outcome, color + 1, value);
  }

  /** Releases the home's holder's lock without a new value: the committed value stands. */
  public void releaseHere(MutexCell mutex, long object, long word) {
    mutex.owned().forget(); // the holder may have changed it before giving up
    MutexSteps.Outcome outcome = MutexSteps.release(store.region(), mutex.cell(), object, word, 0);
    if (outcome == MutexSteps.Outcome.HANDED_OFF) {
      mutex.queue().handedOff();
    }
  }

  /**
   * The home's holder committed {@code value} as version {@code color} itself (a replicated home's
   * commit written to its backup first): keeps it as the owned copy, and has the lock passed on if
   * lockers wait.
   */
  public void committedHere(MutexCell mutex, MutexSteps.Outcome outcome, int color, Object value) {
    finish(mutex, outcome, color, value);
  }

  /** The home's holder let go and the word handed the lock to the home: it passes it on. */
  public void handedOffHere(MutexCell mutex) {
    mutex.queue().handedOff();
  }

  private void finish(MutexCell mutex, MutexSteps.Outcome outcome, int color, Object value) {
    switch (outcome) {
      case RELEASED -> mutex.owned().keep(color, value);
      case HANDED_OFF -> {
        mutex.owned().keep(color, value);
        mutex.queue().handedOff();
      }
      case FENCED -> {
        mutex.owned().forget();
        throw new SyncFailedException(SyncStatus.NOT_THIS_OBJECT, "the lock was taken back");
      }
    }
  }
}
