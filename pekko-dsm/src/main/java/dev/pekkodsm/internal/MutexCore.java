package dev.pekkodsm.internal;

import dev.pekkodsm.DsmException;
import dev.pekkodsm.StaleReferenceException;
import dev.pekkodsm.coherence.BorrowState.Attempt;
import dev.pekkodsm.coherence.BorrowState.Kind;
import dev.pekkodsm.coherence.BorrowTimeoutException;
import dev.pekkodsm.coherence.GlobalAddress;
import dev.pekkodsm.coherence.MutexCell;
import dev.pekkodsm.coherence.ObjectRetiredException;
import dev.pekkodsm.coherence.OwnedObject;
import dev.pekkodsm.coherence.client.Refusals;
import dev.pekkodsm.coherence.home.HomeReply;
import dev.pekkodsm.coherence.home.HomeRequest;
import dev.pekkodsm.coherence.home.RunMode;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;

/**
 * The client side of a {@code DMutex}: the lock (in place on the home, by moving the value to the
 * locker from elsewhere), one-sided reads of the last committed value, and updates that ship the
 * function to the home. Built on the handle's {@link LendCore}, which holds its share.
 *
 * <p>Thread-safe.
 */
public final class MutexCore {

  private final LendCore lend;
  private final ClientContext ctx;

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

  // ------------------------------------------------------------------ reads

  /**
   * The value the last unlock committed, read one-sided; a version this node has decoded before is
   * not decoded again, so the value is shared and must not be modified.
   */
  public CompletableFuture<Object> read() {
    return lend.checkLiveAsync()
        .thenCompose(ok -> latest())
        .thenApply(SnapshotReader.Latest::value);
  }

  private CompletableFuture<SnapshotReader.Latest> latest() {
    if (lend.form() == LendCore.Form.LOCAL) {
      return readHere(lend.localObject(), 3);
    }
    return lend.readLatest(true);
  }

  /**
   * A read on the home: a commit may move the snapshot to a bigger slot between reading the locator
   * and reading the slot, so a vanished slot means "look again", a few times.
   */
  private CompletableFuture<SnapshotReader.Latest> readHere(OwnedObject obj, int attempts) {
    return ctx.reader()
        .readShared(obj.address(), obj.locator())
        .exceptionallyCompose(
            failure ->
                attempts > 1 && Futures.unwrap(failure) instanceof StaleReferenceException
                    ? readHere(obj, attempts - 1)
                    : CompletableFuture.failedFuture(failure));
  }

  // ------------------------------------------------------------------ updates

  /**
   * Runs a shipped function under the lock at the mutex's home. On the home itself, when the lock
   * is free, it runs right here, exactly as it would have run there: its captures were serialized,
   * and are let go of afterwards.
   */
  public CompletableFuture<Object> update(byte[] fn, RunMode mode) {
    if (lend.form() == LendCore.Form.LOCAL) {
      OwnedObject obj = lend.localObject();
      if (lend.isLive()
          && obj.tryAcquire(Kind.EXCLUSIVE, null, 0, "an update by " + Thread.currentThread())
              == Attempt.GRANTED) {
        try {
          return CompletableFuture.completedFuture(
              ctx.runner().updateHere(obj, fn, mode == RunMode.LOCKED_REPLACE));
        } catch (RuntimeException e) {
          return CompletableFuture.failedFuture(e);
        }
      }
    }
    return HomeTasks.runAtHome(lend, mode, fn, "update");
  }

  // ------------------------------------------------------------------ locks

  /** Locks the mutex: the guard's {@code endWrite} commits and unlocks. */
  public CompletableFuture<Guard> lock() {
    return lend.checkLiveAsync()
        .thenCompose(ok -> lend.form() == LendCore.Form.LOCAL ? lockHere() : lockAtHome());
  }

  private CompletableFuture<Guard> lockHere() {
    OwnedObject obj = lend.localObject();
    String who = "a lock by thread " + Thread.currentThread().getName();
    CompletableFuture<Void> granted =
        obj.tryAcquire(Kind.EXCLUSIVE, null, 0, who) == Attempt.GRANTED
            ? CompletableFuture.completedFuture(null)
            : obj.acquire(Kind.EXCLUSIVE, null, 0, who, ctx.borrowTimeoutNs());
    return granted.handle(
        (ok, failure) -> {
          if (failure != null) {
            throw asLockFailure(failure);
          }
          return new LocalGuard(obj, obj.mutexCell());
        });
  }

  private CompletableFuture<Guard> lockAtHome() {
    GlobalAddress at = address();
    long self = ctx.self().value();
    long lockId = ctx.homes().nextRequestId();
    return ctx.homes()
        .ask(
            at,
            new HomeRequest.Lock(at.node().value(), at.object(), self, lockId),
            ctx.borrowingAskTimeout(),
            "lock the mutex")
        .handle(
            (reply, failure) -> {
              if (failure != null) {
                cancelLock(lockId); // whatever the home granted meanwhile is released
                throw Futures.propagate(failure);
              }
              if (reply instanceof HomeReply.Locked l) {
                Object value;
                try {
                  value = ctx.publisher().decodeValue(l.value());
                } catch (RuntimeException e) {
                  cancelLock(lockId);
                  throw new DsmException(
                      at,
                      "the value of mutex " + at + " cannot be read here: " + e.getMessage(),
                      e);
                }
                return new RemoteGuard(lockId, value);
              }
              HomeReply.Refused r = (HomeReply.Refused) reply;
              throw switch (Refusals.decide(r)) {
                case CONFLICT -> ctx.errors().conflict(at, "lock", r);
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

  private RuntimeException asLockFailure(Throwable failure) {
    Throwable cause = Futures.unwrap(failure);
    if (cause instanceof BorrowTimeoutException t) {
      return ctx.errors().conflict(address(), "lock", t);
    }
    if (cause instanceof ObjectRetiredException) {
      return new StaleReferenceException(address(), "the mutex " + address() + " was freed");
    }
    return Futures.propagate(cause);
  }

  /** A held lock: its value until it ends, and what ending it commits. */
  private abstract class HeldLock implements Guard {
    private boolean ended;

    @Override
    public final GlobalAddress address() {
      return MutexCore.this.address();
    }

    @Override
    public final void endWrite() {
      if (ended) {
        return;
      }
      ended = true;
      commit();
    }

    /** Commits the value and unlocks, once. */
    abstract void commit();

    final void check() {
      if (ended) {
        throw new IllegalStateException("the lock of " + address() + " was released");
      }
    }
  }

  /** The lock held on the home node: the value is changed in place. */
  private final class LocalGuard extends HeldLock {
    private final OwnedObject obj;
    private final MutexCell cell;

    LocalGuard(OwnedObject obj, MutexCell cell) {
      this.obj = obj;
      this.cell = cell;
    }

    @Override
    public Object value() {
      check();
      return cell.value();
    }

    @Override
    public void set(Object value) {
      check();
      cell.value(Objects.requireNonNull(value, "a DSM value must not be null"));
    }

    @Override
    void commit() {
      try {
        cell.commit(ctx.publisher(), obj);
      } catch (RuntimeException e) {
        ctx.runner().restoreCommitted(obj);
        throw new DsmException(
            address(),
            "the new value of mutex "
                + address().objectName()
                + " could not be published, so it was not committed: the value the last unlock"
                + " committed stands ("
                + e.getMessage()
                + ")",
            e);
      } finally {
        obj.endExclusive();
      }
    }
  }

  /** The lock held from another node: the value was moved here, and goes back on unlock. */
  private final class RemoteGuard extends HeldLock {
    private final long lockId;
    private Object value;

    RemoteGuard(long lockId, Object value) {
      this.lockId = lockId;
      this.value = value;
    }

    @Override
    public Object value() {
      check();
      return value;
    }

    @Override
    public void set(Object newValue) {
      check();
      value = Objects.requireNonNull(newValue, "a DSM value must not be null");
    }

    @Override
    void commit() {
      GlobalAddress at = address();
      byte[] bytes;
      try {
        bytes = ctx.publisher().encodeValue(value);
      } catch (RuntimeException e) {
        cancelLock(lockId);
        throw new DsmException(
            at,
            "the new value of mutex "
                + at.objectName()
                + " cannot be serialized, so the lock was released and the value the last unlock"
                + " committed stands: "
                + e.getMessage(),
            e);
      }
      if (bytes.length > ctx.settings().moveInlineBytes) {
        cancelLock(lockId);
        throw new DsmException(
            at,
            "the new value of mutex "
                + at.objectName()
                + " ("
                + bytes.length
                + " bytes) is above pekko.dsm.move.inline-limit and cannot be sent back, so the"
                + " lock was released and the value the last unlock committed stands; change large"
                + " values on their home node or with update(fn)");
      }
      HomeReply reply;
      try {
        reply =
            ctx.await(
                ctx.homes()
                    .ask(
                        at,
                        new HomeRequest.Unlock(
                            at.node().value(), at.object(), ctx.self().value(), lockId, bytes),
                        ctx.settings().askTimeout,
                        "unlock the mutex"),
                at,
                "unlock");
      } catch (RuntimeException e) {
        // Whether or not the unlock arrived, the lock must not stay with this node; if it was
        // applied, the home ignores this.
        cancelLock(lockId);
        throw e;
      }
      if (!(reply instanceof HomeReply.Unlocked)) {
        cancelLock(lockId);
        throw new DsmException(
            at, "the unlock of " + at + " was refused: " + ((HomeReply.Refused) reply).detail());
      }
    }
  }
}
