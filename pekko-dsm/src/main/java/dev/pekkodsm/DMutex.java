package dev.pekkodsm;

import dev.pekkodsm.coherence.BorrowState.Attempt;
import dev.pekkodsm.coherence.BorrowState.Kind;
import dev.pekkodsm.coherence.BorrowTimeoutException;
import dev.pekkodsm.coherence.GlobalAddress;
import dev.pekkodsm.coherence.OwnedObject;
import dev.pekkodsm.internal.DsmNode;
import dev.pekkodsm.internal.MutexCell;
import dev.pekkodsm.internal.Protocol;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;

/**
 * Shared mutable state: Rust's {@code Arc<Mutex<T>>} across a cluster.
 *
 * <p>{@link #lock()} gives exclusive access through a {@link DMut} guard; lockers from every node
 * are served in the order their requests reach the mutex's home, and wait at most {@code
 * pekko.dsm.borrow-timeout}. On the home node the guard changes the value in place; from another
 * node the value is moved to the locker for the guard's lifetime (one request and one reply) and
 * moved back when the guard closes (one more round trip, which ends when the home has published the
 * new value).
 *
 * <p>{@link #read} is a one-sided read of the value the last unlock committed: it never sends a
 * message to the home and never waits for or blocks a locker. A read sees the last unlock that
 * completed before it started, and never an update in progress.
 *
 * <p>If a node dies holding the lock, the lock is released and the value stays what the last unlock
 * committed. Handles are cloned, sent and dropped like {@link DArc} handles; the mutex is freed
 * when the last handle is dropped. Thread-safe.
 *
 * @param <T> the value's type
 */
public final class DMutex<T> implements AutoCloseable {

  final Lend<Object> lend;
  private volatile long locator; // of the home's snapshot: it moves if it outgrows its slot

  DMutex(Lend<Object> lend) {
    this.lend = lend;
    this.locator = lend.kind() == Lend.Kind.LENT_LOCAL ? 0 : lend.locator();
  }

  /** The mutex's address; it never changes. */
  public GlobalAddress address() {
    return lend.address();
  }

  /**
   * Locks the mutex and returns the guard; closing the guard unlocks.
   *
   * @throws BorrowConflictException if the lock was not granted within the borrow timeout
   */
  public DMut<T> lock() {
    DsmNode node = lend.node();
    return node.await(lockFuture(), address(), "lock", DMut::close);
  }

  /** {@link #lock()} without blocking. */
  public CompletionStage<DMut<T>> lockAsync() {
    return lend.node().handOff(lockFuture());
  }

  /**
   * Applies {@code fn} to the value the last unlock committed, read one-sided. The read copies and
   * checks the snapshot; a version this node has decoded before is not decoded again, so {@code fn}
   * gets the value shared by every read of that version on this node, and must not modify it.
   */
  public <R> R read(Function<? super T, ? extends R> fn) {
    Objects.requireNonNull(fn, "fn");
    return lend.node().await(readFuture(fn), address(), "read");
  }

  /** {@link #read} without blocking. */
  public <R> CompletionStage<R> readAsync(Function<? super T, ? extends R> fn) {
    Objects.requireNonNull(fn, "fn");
    return lend.node().handOff(readFuture(fn));
  }

  /**
   * Runs {@code fn} under the lock at the mutex's home, where it may change the value in place, and
   * returns its result: the function travels instead of the value (one request, one reply, wherever
   * the caller is). The value is committed when {@code fn} returns; if {@code fn} throws, the value
   * stays what the last unlock committed. Waits in the same FIFO queue as {@link #lock()}.
   *
   * <p>{@code fn} is serialized at this call, as for {@link Dsm#spawn}; {@code
   * Dsm.current().self()} inside it is the mutex's home. Handles it captures move with it and are
   * let go of when it returns (as a Rust closure drops what it owns), unless it returns them. On
   * the home itself, when the lock is free, the shipped function runs on the calling thread, and
   * the {@link RemoteTaskException} it may cause carries its exception as the cause.
   *
   * @throws RemoteTaskException if {@code fn} threw
   * @throws BorrowConflictException if the lock was not granted within the borrow timeout
   * @throws IllegalArgumentException if {@code fn} cannot be serialized
   */
  public <R> R update(DFunction<? super T, ? extends R> fn) {
    return lend.node().awaitTasks(updateFuture(fn, Protocol.RunMode.LOCKED), address(), "update");
  }

  /** {@link #update} without blocking. */
  public <R> CompletionStage<R> updateAsync(DFunction<? super T, ? extends R> fn) {
    return lend.node().handOff(updateFuture(fn, Protocol.RunMode.LOCKED));
  }

  /**
   * {@link #update} for immutable values: {@code fn}'s result becomes the value, and is returned.
   */
  public T replace(DFunction<? super T, ? extends T> fn) {
    return lend.node()
        .awaitTasks(updateFuture(fn, Protocol.RunMode.LOCKED_REPLACE), address(), "replace");
  }

  /** {@link #replace} without blocking. */
  public CompletionStage<T> replaceAsync(DFunction<? super T, ? extends T> fn) {
    return lend.node().handOff(updateFuture(fn, Protocol.RunMode.LOCKED_REPLACE));
  }

  @SuppressWarnings("unchecked")
  private <R> CompletableFuture<R> updateFuture(DFunction<?, ?> fn, Protocol.RunMode mode) {
    DsmNode node = lend.node();
    byte[] bytes = node.encodeShipped(fn, "the function");
    if (lend.kind() == Lend.Kind.LENT_LOCAL) {
      // On the home with the lock free, the shipped function runs right here, exactly as it
      // would have run there: its captures were serialized, and are let go of afterwards.
      OwnedObject obj = lend.localObject();
      if (lend.isLive()
          && obj.tryAcquire(Kind.EXCLUSIVE, null, 0, "an update by " + Thread.currentThread())
              == Attempt.GRANTED) {
        try {
          return CompletableFuture.completedFuture(
              (R) node.updateHere(obj, bytes, mode == Protocol.RunMode.LOCKED_REPLACE));
        } catch (RuntimeException e) {
          return CompletableFuture.failedFuture(e);
        }
      }
    }
    return Tasks.runAtHome(lend, mode, bytes, "update").thenApply(v -> (R) v);
  }

  /** Another handle to the same mutex, owning a share of it. Costs no message. */
  @Override
  public DMutex<T> clone() {
    return new DMutex<>(lend.copy());
  }

  /** Gives up this handle's share; the last one dropped anywhere frees the mutex. Idempotent. */
  public void drop() {
    lend.release();
  }

  /** Same as {@link #drop()}. */
  @Override
  public void close() {
    drop();
  }

  @Override
  public String toString() {
    return lend.toString();
  }

  // ------------------------------------------------------------------ reads

  @SuppressWarnings("unchecked")
  private <R> CompletableFuture<R> readFuture(Function<? super T, ? extends R> fn) {
    DsmNode node = lend.node();
    return lend.checkLiveAsync()
        .thenCompose(ok -> latest())
        .thenApply(latest -> fn.apply((T) latest.value()));
  }

  private CompletableFuture<DsmNode.Latest> latest() {
    DsmNode node = lend.node();
    if (lend.kind() == Lend.Kind.LENT_LOCAL) {
      return readHere(node, lend.localObject(), 3);
    }
    return node.readShared(address(), locator)
        .exceptionallyCompose(
            failure ->
                DBox.unwrap(failure) instanceof StaleReferenceException
                    ? relocate().thenCompose(at -> node.readShared(address(), at))
                    : CompletableFuture.failedFuture(failure));
  }

  /**
   * A read on the home: a commit may move the snapshot to a bigger slot between reading the locator
   * and reading the slot, so a vanished slot means "look again", a few times.
   */
  private static CompletableFuture<DsmNode.Latest> readHere(
      DsmNode node, OwnedObject obj, int attempts) {
    return node.readShared(obj.address(), obj.locator())
        .exceptionallyCompose(
            failure ->
                attempts > 1 && DBox.unwrap(failure) instanceof StaleReferenceException
                    ? readHere(node, obj, attempts - 1)
                    : CompletableFuture.failedFuture(failure));
  }

  /** Asks the home where the snapshot lives now, and remembers it. */
  private CompletableFuture<Long> relocate() {
    return lend.locateSnapshot()
        .thenApply(
            at -> {
              locator = at;
              return at;
            });
  }

  // ------------------------------------------------------------------ locks

  private CompletableFuture<DMut<T>> lockFuture() {
    return lend.checkLiveAsync()
        .thenCompose(ok -> lend.kind() == Lend.Kind.LENT_LOCAL ? lockHere() : lockAtHome());
  }

  private CompletableFuture<DMut<T>> lockHere() {
    DsmNode node = lend.node();
    OwnedObject obj = lend.localObject();
    String who = "a lock by thread " + Thread.currentThread().getName();
    CompletableFuture<Void> granted =
        obj.tryAcquire(Kind.EXCLUSIVE, null, 0, who) == Attempt.GRANTED
            ? CompletableFuture.completedFuture(null)
            : obj.acquire(Kind.EXCLUSIVE, null, 0, who, node.borrowTimeoutNanos());
    return granted.handle(
        (ok, failure) -> {
          if (failure != null) {
            throw asLockFailure(failure);
          }
          return new DMut<>(new LocalGuard(obj, (MutexCell) obj.value()));
        });
  }

  private CompletableFuture<DMut<T>> lockAtHome() {
    DsmNode node = lend.node();
    GlobalAddress at = address();
    long self = node.self().value();
    long lockId = node.nextRequestId();
    return node.ask(
            at,
            replyTo -> new Protocol.Lock(at.node().value(), at.object(), self, lockId, replyTo),
            node.settings().borrowTimeout.plus(node.settings().askTimeout),
            "lock the mutex")
        .handle(
            (reply, failure) -> {
              if (failure != null) {
                // Whatever the home granted meanwhile is released.
                node.tell(new Protocol.CancelLock(at.node().value(), at.object(), self, lockId));
                throw failure instanceof CompletionException c
                    ? c
                    : new CompletionException(failure);
              }
              if (reply instanceof Protocol.Locked l) {
                T value;
                try {
                  @SuppressWarnings("unchecked")
                  T decoded = (T) node.decodeSnapshotValue(l.value());
                  value = decoded;
                } catch (RuntimeException e) {
                  node.tell(new Protocol.CancelLock(at.node().value(), at.object(), self, lockId));
                  throw new DsmException(
                      at,
                      "the value of mutex " + at + " cannot be read here: " + e.getMessage(),
                      e);
                }
                return new DMut<>(new RemoteGuard(lockId, value));
              }
              Protocol.Refused r = (Protocol.Refused) reply;
              if (r.reason() == Protocol.Reason.CONFLICT) {
                throw node.conflict(
                    at,
                    "lock",
                    r.readers(),
                    null,
                    DsmNode.holders(r.lent()),
                    node.settings().borrowTimeout.toNanos());
              }
              if (r.reason() == Protocol.Reason.LOST) {
                throw node.lost(at);
              }
              throw new DsmException(at, "the mutex " + at + " refused the lock: " + r.detail());
            });
  }

  private RuntimeException asLockFailure(Throwable failure) {
    Throwable cause = DBox.unwrap(failure);
    if (cause instanceof BorrowTimeoutException t) {
      return lend.node().conflict(address(), "lock", t);
    }
    if (cause instanceof dev.pekkodsm.coherence.ObjectRetiredException) {
      return new StaleReferenceException(address(), "the mutex " + address() + " was freed");
    }
    return cause instanceof RuntimeException r ? r : new CompletionException(cause);
  }

  /** The lock held on the home node: the value is changed in place. */
  private final class LocalGuard implements Guarded<T> {
    private final OwnedObject obj;
    private final MutexCell cell;
    private boolean ended;

    LocalGuard(OwnedObject obj, MutexCell cell) {
      this.obj = obj;
      this.cell = cell;
    }

    @Override
    @SuppressWarnings("unchecked")
    public T value() {
      check();
      return (T) cell.value();
    }

    @Override
    public void set(T value) {
      check();
      cell.value(Objects.requireNonNull(value, "a DSM value must not be null"));
    }

    @Override
    public GlobalAddress address() {
      return DMutex.this.address();
    }

    @Override
    public void endWrite() {
      if (ended) {
        return;
      }
      ended = true;
      DsmNode node = lend.node();
      try {
        cell.commit(node, obj);
      } catch (RuntimeException e) {
        node.restoreCommitted(obj);
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

    private void check() {
      if (ended) {
        throw new IllegalStateException("the lock of " + address() + " was released");
      }
    }
  }

  /** The lock held from another node: the value was moved here, and goes back on unlock. */
  private final class RemoteGuard implements Guarded<T> {
    private final long lockId;
    private T value;
    private boolean ended;

    RemoteGuard(long lockId, T value) {
      this.lockId = lockId;
      this.value = value;
    }

    @Override
    public T value() {
      check();
      return value;
    }

    @Override
    public void set(T newValue) {
      check();
      value = Objects.requireNonNull(newValue, "a DSM value must not be null");
    }

    @Override
    public GlobalAddress address() {
      return DMutex.this.address();
    }

    @Override
    public void endWrite() {
      if (ended) {
        return;
      }
      ended = true;
      DsmNode node = lend.node();
      GlobalAddress at = address();
      long self = node.self().value();
      Runnable giveUp =
          () -> node.tell(new Protocol.CancelLock(at.node().value(), at.object(), self, lockId));
      byte[] bytes;
      try {
        bytes = node.encodeSnapshotValue(value);
      } catch (RuntimeException e) {
        giveUp.run();
        throw new DsmException(
            at,
            "the new value of mutex "
                + at.objectName()
                + " cannot be serialized, so the lock was released and the value the last unlock"
                + " committed stands: "
                + e.getMessage(),
            e);
      }
      if (bytes.length > node.settings().moveInlineBytes) {
        giveUp.run();
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
      Protocol.Reply reply;
      try {
        reply =
            node.await(
                node.ask(
                    at,
                    replyTo ->
                        new Protocol.Unlock(
                            at.node().value(), at.object(), self, lockId, bytes, replyTo),
                    node.settings().askTimeout,
                    "unlock the mutex"),
                at,
                "unlock");
      } catch (RuntimeException e) {
        // Whether or not the unlock arrived, the lock must not stay with this node; if it was
        // applied, the home ignores this.
        giveUp.run();
        throw e;
      }
      if (!(reply instanceof Protocol.Unlocked)) {
        giveUp.run();
        throw new DsmException(
            at, "the unlock of " + at + " was refused: " + ((Protocol.Refused) reply).detail());
      }
    }

    private void check() {
      if (ended) {
        throw new IllegalStateException("the lock of " + address() + " was released");
      }
    }
  }
}
