package dev.pekkodsm.internal;

import dev.pekkodsm.DsmException;
import dev.pekkodsm.DsmTimeoutException;
import dev.pekkodsm.RemoteTaskException;
import dev.pekkodsm.coherence.GlobalAddress;
import dev.pekkodsm.coherence.NodeId;
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
import dev.pekkodsm.memory.PeerReader;
import dev.pekkodsm.memory.ReadBuffer;
import dev.pekkodsm.memory.ReadStatus;
import dev.pekkodsm.memory.SyncAccess;
import dev.pekkodsm.memory.SyncFailedException;
import dev.pekkodsm.memory.SyncLayout;
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
    private boolean backupMayHold; // the home's backup may hold this commit: a failure is in doubt

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
        if (ctx.replicated()) {
          MutexSteps.Outcome direct = commitHereViaBackup(next);
          if (direct != null) {
            ctx.mutexes().committedHere(home().mutexCell(), direct, color() + 1, next);
            return;
          }
        }
        try {
          ctx.mutexes().commitHere(home().mutexCell(), object(), word, next, color());
        } catch (SyncFailedException fenced) {
          throw backupMayHold
              ? inDoubt("its lock was taken back", fenced)
              : lockLost(address(), fenced);
        } catch (RuntimeException e) {
          ctx.mutexes().releaseHere(home().mutexCell(), object(), word);
          if (e instanceof DsmTimeoutException) {
            throw e;
          }
          throw backupMayHold
              ? inDoubt("it failed here (" + e.getMessage() + ")", e)
              : notCommitted(address(), e);
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
          // The home's backup must hold a commit before it is seen: this node writes it there
          // and then commits one-sided, or, if the backup does not take it, the home makes it,
          // asked over its tcp server (UNAVAILABLE if that cannot be sent: then through sharding).
          outcome = viaBackup(sync, false, frame, nextColor);
          if (outcome == null) {
            outcome =
                ctx.homeSync(address().node())
                    .commit(cell(), object(), word, frame, nextColor, ctx.deadlineNs());
          }
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
          if (backupMayHold) {
            throw inDoubt("its home failed it (" + e.getMessage() + ")", e);
          }
          throw new DsmException(address(), "the commit of " + address() + " failed: " + e, e);
        }
        try {
          commitAtHome(frame);
        } catch (DsmException failed) {
          if (backupMayHold && !(failed instanceof DsmTimeoutException)) {
            throw inDoubt("its home failed it (" + failed.getMessage() + ")", failed);
          }
          throw failed;
        }
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
        case FENCED ->
            throw backupMayHold
                ? inDoubt("its lock was taken back", null)
                : lockLost(address(), null);
      }
    }

    /**
     * A writer's own commit to a replicated home over shm (docs/DECISIONS.md, "Writers write the
     * backup"): reads the home's replication cell one-sided (its backup, the epoch of the backup's
     * copy, and how far the home's stream to it got), has the backup take the commit, commits
     * one-sided at the home keeping the lock, and, if the epoch moved meanwhile (the new copy may
     * have read the mutex before the commit), has the home copy itself again before letting go.
     * Only while the home's stream has nothing unacknowledged: a record the home shipped before
     * this writer locked (a commit it made, a value it moved, a lock it took back) must reach the
     * backup before this commit, or it would overwrite it there. The home's CPU is not involved,
     * and the backup's only on its server's loop.
     *
     * @return how the commit ended, or null if the backup did not take it (nothing was changed at
     *     the home: it makes the commit)
     * @throws DsmTimeoutException if the backup took the commit but the home's part could not be
     *     completed: the commit may or may not stand
     */
    private MutexSteps.Outcome viaBackup(
        SyncAccess access, boolean here, byte[] frame, int nextColor) {
      if (!ctx.settings().replicationDirectCommits
          || !(here || access instanceof PeerReader reader && "shm".equals(reader.transport()))) {
        return null;
      }
      long deadlineNs = ctx.deadlineNs();
      NodeId home = address().node();
      if (ctx.departed(home)) {
        return null; // its backup promotes it: the promoter decides
      }
      long epoch;
      NodeId backup;
      try {
        epoch = replicationField(access, SyncLayout.WORD, deadlineNs);
        long id = replicationField(access, SyncLayout.FULL_VERSION, deadlineNs);
        long last = replicationField(access, SyncLayout.REPLICATION_LAST, deadlineNs);
        long acked = replicationField(access, SyncLayout.REPLICATION_ACKED, deadlineNs);
        if (epoch == 0 || id == 0 || acked < last) {
          return null; // no backup, a home without the cell (a promoted one), or records pending
        }
        backup = NodeId.of(id);
      } catch (RuntimeException e) {
        return null;
      }
      ReplicaHost.Direct taken;
      try {
        taken =
            backup.equals(ctx.self())
                ? ctx.replicas()
                    .directCommit(ctx.self(), home, epoch, cell(), object(), word, nextColor, frame)
                : ctx.homeSync(backup)
                    .backupCommit(
                        home.value(), epoch, cell(), object(), word, frame, nextColor, deadlineNs);
      } catch (SyncFailedException e) {
        // Unanswered, it may have been taken: the home's commit ships the same version again,
        // which the backup takes over it; but a failure of the home's commit is in doubt now.
        backupMayHold = e.status() == SyncStatus.TIMED_OUT;
        return null;
      }
      if (taken != ReplicaHost.Direct.APPLIED) {
        return null;
      }
      backupMayHold = true;
      long now;
      try {
        now =
            MutexSteps.commitHolding(
                access, cell(), object(), word, frame, frame.length, nextColor, deadlineNs);
      } catch (RuntimeException e) {
        giveBack(access, deadlineNs);
        throw inDoubt("its home could not be written (" + e.getMessage() + ")", e);
      }
      if (now == MutexSteps.NOT_FREE) {
        throw inDoubt("its home took the lock back", null);
      }
      ctx.metrics().oneSided(access, true, false, frame.length);
      long after;
      try {
        after = replicationField(access, SyncLayout.WORD, deadlineNs);
      } catch (RuntimeException e) {
        after = -1;
      }
      if (after != epoch) {
        try {
          if (here) {
            ctx.recopyHere(after);
          } else {
            ctx.homeSync(home).recopy(after, deadlineNs);
          }
        } catch (RuntimeException e) {
          letGo(releaseCommitted(access, now));
          throw inDoubt("its home's new backup may not hold it (" + e.getMessage() + ")", e);
        }
      }
      return releaseCommitted(access, now);
    }

    /** A field of the home's replication cell, read one-sided. */
    private long replicationField(SyncAccess access, int field, long deadlineNs) {
      return access.load(
          SyncLayout.REPLICATION_CELL, SyncLayout.REPLICATION_OBJECT, field, deadlineNs);
    }

    /** Lets go of a lock whose commit is made: taken back meanwhile, the commit still stands. */
    private MutexSteps.Outcome releaseCommitted(SyncAccess access, long now) {
      try {
        MutexSteps.Outcome o = MutexSteps.release(access, cell(), object(), now, ctx.deadlineNs());
        return o == MutexSteps.Outcome.FENCED ? MutexSteps.Outcome.RELEASED : o;
      } catch (SyncFailedException e) {
        cancelLockAtHome();
        return MutexSteps.Outcome.RELEASED;
      }
    }

    /** After a failure: the home passes the lock on if {@code outcome} handed it over. */
    private void letGo(MutexSteps.Outcome outcome) {
      if (outcome == MutexSteps.Outcome.HANDED_OFF) {
        if (local()) {
          ctx.mutexes().handedOffHere(home().mutexCell());
        } else {
          handOff();
        }
      }
    }

    /**
     * Gives the lock back after a commit whose outcome at the home is unknown: from the word as it
     * is now, whether or not the commit was made.
     */
    private void giveBack(SyncAccess access, long deadlineNs) {
      try {
        long now = access.load(cell(), object(), SyncLayout.WORD, deadlineNs);
        if (LockWord.holder(now) == LockWord.holder(word)
            && LockWord.fence(now) == LockWord.fence(word)) {
          letGo(MutexSteps.release(access, cell(), object(), now, deadlineNs));
        }
      } catch (RuntimeException e) {
        cancelLockAtHome();
      }
    }

    private DsmTimeoutException inDoubt(String why, Throwable cause) {
      return new DsmTimeoutException(
          address(),
          "the commit of "
              + address()
              + " is held by the home's backup, but "
              + why
              + ": it may or may not stand",
          cause);
    }

    /**
     * The home's own commit written to its backup by the committing thread, as a peer's is ({@link
     * #viaBackup}), rather than reported by the region and waited for through the stream: one
     * exchange with the backup and no other thread.
     *
     * @return how it ended, or null if the backup did not take it (the home commits as before)
     */
    private MutexSteps.Outcome commitHereViaBackup(Object next) {
      if (!ctx.settings().replicationDirectCommits) {
        return null;
      }
      int nextColor = color() + 1;
      byte[] frame;
      try {
        frame = ctx.publisher().frame(next, address().node().value(), object(), nextColor);
      } catch (RuntimeException e) {
        return null; // the home's path says why
      }
      return viaBackup(ctx.unreportedRegion(), true, frame, nextColor);
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
