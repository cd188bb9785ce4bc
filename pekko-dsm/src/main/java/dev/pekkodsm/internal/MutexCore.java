package dev.pekkodsm.internal;

import dev.pekkodsm.DsmException;
import dev.pekkodsm.DsmTimeoutException;
import dev.pekkodsm.RemoteTaskException;
import dev.pekkodsm.coherence.GlobalAddress;
import dev.pekkodsm.coherence.OwnedObject;
import dev.pekkodsm.coherence.client.Refusals;
import dev.pekkodsm.coherence.home.HomeReply;
import dev.pekkodsm.coherence.home.HomeRequest;
import dev.pekkodsm.coherence.home.RunMode;
import dev.pekkodsm.coherence.mutex.LockWord;
import dev.pekkodsm.coherence.mutex.MutexQueue;
import dev.pekkodsm.coherence.mutex.MutexSteps;
import dev.pekkodsm.coherence.mutex.OwnedCopy;
import dev.pekkodsm.memory.ActiveValue;
import dev.pekkodsm.memory.ReadBuffer;
import dev.pekkodsm.memory.ReadStatus;
import dev.pekkodsm.memory.SyncAccess;
import dev.pekkodsm.memory.SyncFailedException;
import dev.pekkodsm.memory.SyncStatus;
import dev.pekkodsm.serialization.internal.SnapshotCodec;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Function;

/**
 * The client side of a {@code DMutex}: its lock taken and its value committed one-sided in the
 * home's sync region (the home's own mapping on the home, the transport's atomics elsewhere),
 * queueing at the home only when the lock is held; one-sided reads of the committed value; updates
 * run here under a lock taken at once, or shipped to the home when the lock is held. Built on the
 * handle's {@link LendCore}, which holds its share.
 *
 * <p>Thread-safe.
 */
public final class MutexCore {

  private final LendCore lend;
  private final ClientContext ctx;
  private final OwnedCopy owned = new OwnedCopy(); // this handle's copy, for lockers elsewhere
  private final SnapshotReader.MutexHint lastRead = new SnapshotReader.MutexHint();

  public MutexCore(LendCore lend) {
    this.lend = lend;
    this.ctx = lend.context();
  }

  /** The share this handle holds. */
  public LendCore lend() {
    return lend;
  }

  public GlobalAddress address() {
    return lend.address();
  }

  private boolean local() {
    return lend.form() == LendCore.Form.LOCAL;
  }

  private OwnedObject home() {
    return lend.localObject();
  }

  private long cell() {
    return local() ? home().mutexCell().cell() : lend.locator();
  }

  private long object() {
    return address().object();
  }

  // ------------------------------------------------------------------ reads

  /**
   * The committed value, read one-sided; a version this node has decoded before is not decoded
   * again, so the value is shared and must not be modified.
   */
  public CompletableFuture<Object> read() {
    return lend.checkLiveAsync()
        .thenCompose(ok -> ctx.sync(address().node()))
        .thenApply(sync -> ctx.reader().readMutex(sync, address(), cell(), lastRead));
  }

  // ------------------------------------------------------------------ updates

  /**
   * Runs a shipped function under the lock: here, if the lock is taken at once (the function is run
   * as if shipped here, and the value committed one-sided); at the home, queued, if it is held.
   */
  public CompletableFuture<Object> update(byte[] fn, RunMode mode) {
    lend.hold(); // the mutex outlives the update even if this handle is dropped meanwhile
    CompletableFuture<Object> done = updateHeld(fn, mode);
    done.whenComplete((v, e) -> lend.endHold());
    return done;
  }

  private CompletableFuture<Object> updateHeld(byte[] fn, RunMode mode) {
    if (ctx.replicated() && !local()) {
      return HomeTasks.runAtHome(lend, mode, fn, "update"); // commits are made at the home
    }
    CompletableFuture<SyncAccess> sync = ctx.sync(address().node());
    if (!lend.isLive() || !sync.isDone() || sync.isCompletedExceptionally()) {
      return HomeTasks.runAtHome(lend, mode, fn, "update");
    }
    Held held;
    try {
      held = tryLock(sync.join());
    } catch (SyncFailedException e) {
      return HomeTasks.runAtHome(lend, mode, fn, "update"); // no one-sided writes to that node
    }
    if (held == null) {
      return HomeTasks.runAtHome(lend, mode, fn, "update"); // queue at the home
    }
    try {
      return CompletableFuture.completedFuture(
          ctx.runner().withShipped(fn, f -> held.change(f, mode == RunMode.LOCKED_REPLACE)));
    } catch (RuntimeException e) {
      return CompletableFuture.failedFuture(e);
    }
  }

  // ------------------------------------------------------------------ locks

  /** Locks the mutex: the guard's {@code endWrite} commits and unlocks. */
  public CompletableFuture<Guard> lock() {
    return lend.checkLiveAsync()
        .thenCompose(ok -> ctx.sync(address().node()))
        .thenCompose(
            sync -> {
              Held held;
              try {
                held = tryLock(sync);
              } catch (SyncFailedException e) {
                return lockAtHome(null);
              }
              return held != null
                  ? CompletableFuture.completedFuture(new LockGuard(held))
                  : lockAtHome(sync);
            });
  }

  /**
   * Takes the lock one-sided if it is free and nobody waits; null if it must be asked for. Away
   * from the home, a lock taken from the word this handle last saw brings the committed value with
   * it (one operation for both; the frame only if this handle's copy is not of its version).
   */
  private Held tryLock(SyncAccess sync) {
    long token = LockWord.token(ctx.self(), ThreadLocalRandom.current().nextInt());
    if (local()) { // the value is the home's own copy: nothing to read
      long word =
          MutexSteps.tryLock(sync, cell(), object(), token, lastRead.word(), ctx.deadlineNs());
      ctx.metrics().oneSided(sync, false, false, Long.BYTES);
      return word == MutexSteps.NOT_FREE ? null : new Held(sync, word, null, 0);
    }
    ReadBuffer buffer = new ReadBuffer(256);
    MutexSteps.Locked locked =
        MutexSteps.tryLockAndRead(
            sync,
            cell(),
            object(),
            token,
            lastRead.word(),
            owned.color(),
            buffer,
            ctx.deadlineNs());
    ctx.metrics().oneSided(sync, false, false, Long.BYTES);
    if (locked.word() == MutexSteps.NOT_FREE) {
      return null;
    }
    Held held = new Held(sync, locked.word(), null, 0);
    held.readWithLock = locked.value();
    held.readWithLockBuffer = buffer;
    return held;
  }

  /** Queues for the lock at the home (which may be this node). */
  private CompletableFuture<Guard> lockAtHome(SyncAccess sync) {
    long lockId = ctx.homes().nextRequestId();
    if (local()) {
      CompletableFuture<Guard> granted = new CompletableFuture<>();
      ctx.mutexes()
          .lock(
              home().mutexCell(),
              ctx.self(),
              lockId,
              new MutexQueue.Listener() {
                @Override
                public void granted(long word) {
                  granted.complete(new LockGuard(new Held(sync, word, null, 0)));
                }

                @Override
                public void timedOut(long word, long waitedNs) {
                  granted.completeExceptionally(
                      ctx.errors().lockConflict(address(), LockWord.describe(word), waitedNs));
                }
              });
      return granted;
    }
    GlobalAddress at = address();
    return ctx.homes()
        .ask(
            at,
            new HomeRequest.Lock(at.node().value(), at.object(), ctx.self().value(), lockId),
            ctx.borrowingAskTimeout(),
            "lock the mutex")
        .handle(
            (reply, failure) -> {
              if (failure != null) {
                cancelLock(lockId); // whatever the home granted meanwhile is released
                throw Futures.propagate(failure);
              }
              if (reply instanceof HomeReply.Locked l) {
                Object value = null;
                if (l.value().length > 0) {
                  try {
                    value = ctx.publisher().decodeValue(l.value());
                  } catch (RuntimeException e) {
                    cancelLock(lockId);
                    throw new DsmException(
                        at,
                        "the value of mutex " + at + " cannot be read here: " + e.getMessage(),
                        e);
                  }
                }
                return new LockGuard(new Held(sync, l.word(), value, l.color()));
              }
              HomeReply.Refused r = (HomeReply.Refused) reply;
              throw switch (Refusals.decide(r)) {
                case CONFLICT -> ctx.errors().lockConflict(at, r.detail());
                case LOST -> ctx.errors().lost(at);
                case GONE, FAILED ->
                    new DsmException(at, "the mutex " + at + " refused the lock: " + r.detail());
              };
            });
  }

  private void cancelLock(long lockId) {
    GlobalAddress at = address();
    ctx.homes()
        .tell(
            new HomeRequest.CancelLock(at.node().value(), at.object(), ctx.self().value(), lockId));
  }

  /** The lock was taken back: the holder's change is not committed. */
  static DsmException lockLost(GlobalAddress at, RuntimeException cause) {
    return new DsmException(
        at,
        "the lock of mutex "
            + at.objectName()
            + " was taken back (this node was thought gone), so the change was not committed;"
            + " the value the last unlock committed stands",
        cause);
  }

  /** The new value could not be committed: the lock was released, the old value stands. */
  static DsmException notCommitted(GlobalAddress at, RuntimeException cause) {
    return new DsmException(
        at,
        "the new value of mutex "
            + at.objectName()
            + " could not be published, so it was not committed: the value the last unlock"
            + " committed stands ("
            + cause.getMessage()
            + ")",
        cause);
  }

  /**
   * The lock, held by this node as {@code word}: the value to change, and how to commit it or let
   * go. On the home through the home's own copy and region; elsewhere through this handle's copy
   * and the transport.
   */
  private final class Held {
    private final SyncAccess sync; // null if this node cannot operate one-sided on the home
    private final long word;
    private Object value; // the holder's copy, once fetched
    private int color;
    private ActiveValue readWithLock; // the value read with the lock, if it was; used once
    private ReadBuffer readWithLockBuffer; // its frame, unless it was of the owned copy's version

    Held(SyncAccess sync, long word, Object value, int color) {
      this.sync = sync;
      this.word = word;
      this.value = value;
      this.color = color;
    }

    /** The value to change: this node's copy if it is of the committed version, else read. */
    Object value() {
      if (value != null) {
        return value;
      }
      if (local()) {
        int[] c = new int[1];
        value = ctx.mutexes().ownedValue(home().mutexCell(), object(), word, c);
        color = c[0];
        return value;
      }
      if (sync == null) {
        throw new DsmException(
            address(),
            "the value of mutex "
                + address()
                + " is too large to travel in a message, and this node cannot read its home's"
                + " sync region one-sided; change it on its home or with update(fn)");
      }
      ActiveValue v = readWithLock;
      ReadBuffer buffer = readWithLockBuffer;
      readWithLock = null;
      readWithLockBuffer = null;
      if (v == null
          || !(v.known() || v.status() == ReadStatus.OK)
          || !LockWord.names(word, (int) v.color())) {
        // No value came with the lock (no guess, a wrong one, or its read failed). While the lock
        // is held the active slot stays where the held word says: one read of it, without the
        // frame if it is the version this handle's copy is of.
        buffer = new ReadBuffer(256);
        v =
            sync.readActive(
                cell(), object(), LockWord.ACTIVE_BIT, owned.color(), buffer, ctx.deadlineNs());
      }
      if (v.known() && LockWord.names(word, (int) v.color())) {
        Object copy = owned.at((int) v.color());
        if (copy != null) {
          color = (int) v.color();
          value = copy;
          ctx.metrics().oneSided(sync, false, true, SnapshotCodec.HEADER_BYTES);
          return value;
        }
        // The copy was let go since its version was named: the frame, then.
        v =
            sync.readActive(
                cell(), object(), LockWord.ACTIVE_BIT, Long.MIN_VALUE, buffer, ctx.deadlineNs());
      }
      if (v.known() || v.status() != ReadStatus.OK || !LockWord.names(word, (int) v.color())) {
        throw new DsmException(
            address(), "the committed value of mutex " + address() + " could not be read: " + v);
      }
      ctx.metrics().oneSided(sync, false, true, buffer.length());
      color = (int) v.color();
      value = ctx.publisher().decode(buffer);
      owned.keep(color, value);
      return value;
    }

    /**
     * Runs {@code fn} on the value and commits (the value, or the result if {@code replace}); if
     * {@code fn} throws, lets go with the committed value standing and throws {@link
     * RemoteTaskException} with its exception as the cause.
     */
    Object change(Function<Object, Object> fn, boolean replace) {
      Object current;
      try {
        current = value();
      } catch (RuntimeException e) {
        release();
        throw e;
      }
      Object out;
      try {
        out = fn.apply(current);
      } catch (RuntimeException | Error e) {
        release();
        throw new RemoteTaskException(
            ctx.self(),
            address(),
            e.getClass().getName(),
            e.getMessage() == null ? "" : e.getMessage(),
            Shipping.trace(e),
            e);
      }
      commit(replace ? Objects.requireNonNull(out, "a DSM value must not be null") : current);
      return out;
    }

    /** Commits {@code next} and releases the lock; on failure the committed value stands. */
    void commit(Object next) {
      if (local()) {
        try {
          ctx.mutexes().commitHere(home().mutexCell(), object(), word, next, color());
        } catch (SyncFailedException fenced) {
          throw lockLost(address(), fenced);
        } catch (RuntimeException e) {
          ctx.mutexes().releaseHere(home().mutexCell(), object(), word);
          throw notCommitted(address(), e);
        }
        return;
      }
      owned.forget();
      int nextColor = color() + 1;
      byte[] frame;
      try {
        frame = ctx.publisher().frame(next, address().node().value(), object(), nextColor);
      } catch (RuntimeException e) {
        release();
        throw notCommitted(address(), e);
      }
      MutexSteps.Outcome outcome;
      try {
        if (sync == null) {
          throw new SyncFailedException(SyncStatus.UNAVAILABLE, "no one-sided writes");
        }
        if (ctx.replicated()) {
          // The home's backup must hold a commit before it is seen: the home makes it, asked
          // over its tcp server (UNAVAILABLE if that cannot be sent: then through sharding).
          outcome =
              ctx.homeSync(address().node())
                  .commit(cell(), object(), word, frame, nextColor, ctx.deadlineNs());
        } else {
          outcome =
              MutexSteps.commit(
                  sync, cell(), object(), word, frame, frame.length, nextColor, ctx.deadlineNs());
          ctx.metrics().oneSided(sync, true, false, frame.length);
        }
      } catch (SyncFailedException e) {
        if (e.status() == SyncStatus.TIMED_OUT && ctx.replicated()) {
          release(); // fails harmlessly if the home made the commit meanwhile
          throw new DsmTimeoutException(
              address(),
              "the home did not answer the commit of " + address() + " in time: " + e.getMessage(),
              e);
        }
        if (e.status() != SyncStatus.TOO_LARGE && e.status() != SyncStatus.UNAVAILABLE) {
          if (ctx.replicated()) {
            release(); // the home did not commit: the lock must not stay held
          }
          throw new DsmException(address(), "the commit of " + address() + " failed: " + e, e);
        }
        commitAtHome(frame);
        return;
      }
      switch (outcome) {
        case RELEASED -> {
          owned.keep(nextColor, next);
          lastRead.word(LockWord.committed(word, nextColor)); // the next lock's guess
        }
        case HANDED_OFF -> {
          owned.keep(nextColor, next);
          handOff();
        }
        case FENCED -> throw lockLost(address(), null);
      }
    }

    /** The committed version, fetching the value if it was not yet. */
    private int color() {
      if (value == null) {
        value();
      }
      return color;
    }

    /**
     * Has the home commit a value that outgrew the slots (which then grow) or that this node cannot
     * write one-sided: the value travels in a message, so it must fit one.
     */
    private void commitAtHome(byte[] frame) {
      GlobalAddress at = address();
      int payload = frame.length - SnapshotCodec.HEADER_BYTES;
      if (payload > ctx.settings().moveInlineBytes) {
        release();
        throw new DsmException(
            at,
            "the new value of mutex "
                + at.objectName()
                + " ("
                + payload
                + " bytes) outgrew its slots and is above pekko.dsm.move.inline-limit, so it"
                + " cannot be sent to its home: the lock was released and the value the last"
                + " unlock committed stands; change large values on their home node or with"
                + " update(fn)");
      }
      byte[] bytes = new byte[payload];
      System.arraycopy(frame, SnapshotCodec.HEADER_BYTES, bytes, 0, payload);
      HomeReply reply;
      try {
        reply =
            ctx.await(
                ctx.homes()
                    .ask(
                        at,
                        new HomeRequest.Unlock(
                            at.node().value(), at.object(), ctx.self().value(), word, bytes),
                        ctx.settings().askTimeout,
                        "unlock the mutex"),
                at,
                "unlock");
      } catch (RuntimeException e) {
        release();
        throw e;
      }
      if (!(reply instanceof HomeReply.Unlocked)) {
        release();
        throw new DsmException(
            at, "the unlock of " + at + " was refused: " + ((HomeReply.Refused) reply).detail());
      }
    }

    /** Lets go of the lock: the committed value stands. */
    void release() {
      owned.forget(); // the holder may have changed it
      if (local()) {
        ctx.mutexes().releaseHere(home().mutexCell(), object(), word);
        return;
      }
      try {
        if (sync != null
            && MutexSteps.release(sync, cell(), object(), word, ctx.deadlineNs())
                == MutexSteps.Outcome.HANDED_OFF) {
          handOff();
        }
      } catch (SyncFailedException e) {
        cancelLockAtHome();
      }
      if (sync == null) {
        cancelLockAtHome();
      }
    }

    private void cancelLockAtHome() {
      GlobalAddress at = address();
      ctx.homes()
          .tell(new HomeRequest.CancelLock(at.node().value(), at.object(), ctx.self().value(), 0));
    }

    /** The lock was handed to the home, where lockers wait: it passes it on. */
    private void handOff() {
      GlobalAddress at = address();
      ctx.homes().tell(new HomeRequest.HandedOff(at.node().value(), at.object()));
    }
  }

  /** The guard of a lock: the value, and commit and unlock when it ends. */
  private final class LockGuard implements Guard {
    private final Held held;
    private boolean ended;

    LockGuard(Held held) {
      this.held = held;
      lend.hold(); // the mutex outlives the guard even if the handle is dropped meanwhile
    }

    @Override
    public Object value() {
      check();
      return held.value();
    }

    @Override
    public void set(Object value) {
      check();
      Objects.requireNonNull(value, "a DSM value must not be null");
      held.value(); // the committed version, which the new value follows
      held.value = value;
    }

    @Override
    public GlobalAddress address() {
      return MutexCore.this.address();
    }

    @Override
    public void endWrite() {
      if (ended) {
        return;
      }
      ended = true;
      try {
        held.commit(held.value());
      } finally {
        lend.endHold();
      }
    }

    private void check() {
      if (ended) {
        throw new IllegalStateException("the lock of " + address() + " was released");
      }
    }
  }
}
