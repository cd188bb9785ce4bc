package dev.pekkodsm;

import dev.pekkodsm.coherence.BorrowState.Attempt;
import dev.pekkodsm.coherence.BorrowState.Kind;
import dev.pekkodsm.coherence.BorrowState.Phase;
import dev.pekkodsm.coherence.BorrowTimeoutException;
import dev.pekkodsm.coherence.GlobalAddress;
import dev.pekkodsm.coherence.LendLedger;
import dev.pekkodsm.coherence.ObjectRetiredException;
import dev.pekkodsm.coherence.OwnedObject;
import dev.pekkodsm.coherence.ReadCache;
import dev.pekkodsm.internal.DsmNode;
import dev.pekkodsm.internal.Protocol;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;
import java.util.function.UnaryOperator;
import org.apache.pekko.actor.typed.ActorRef;

/**
 * The unique owner of a distributed object: Rust's {@code Box<T>} across a cluster.
 *
 * <p>Reads ({@link #read}, {@link #borrow}) are shared borrows: many at once, on any node. On the
 * object's home they touch the live value; elsewhere they read a cached copy fetched by a one-sided
 * read. Writes ({@link #write}, {@link #replace}, {@link #borrowMut}) are exclusive: if the object
 * lives on another node it is first moved here, under a new address. A write waits for every lent
 * {@link DRef} to be released (up to {@code pekko.dsm.borrow-timeout}), then fails with {@link
 * BorrowConflictException}.
 *
 * <p>Ownership moves with {@link #transfer()} or by sending the box to another node inside a
 * message; either way this handle dies, and using it afterwards throws {@link
 * UseAfterMoveException}. {@link #drop()} (or {@link #close()}) frees the object.
 *
 * <p>Thread-safe: concurrent borrows through one box follow the same rules as borrows through
 * different boxes. Blocking methods run the function on the calling thread; their {@code ...Async}
 * twins never block and are the ones to use inside actors. Values must not be null.
 *
 * @param <T> the value's type; it must be registered with the DSM serializer if it ever leaves its
 *     node
 */
public final class DBox<T> implements AutoCloseable {

  private final DsmNode node;
  private Place place; // guarded by this
  private String death; // guarded by this; non-null once the handle is dead
  private GlobalAddress deathAddress; // guarded by this

  /**
   * Where the object is. For an object homed here the guard is its record in the node's table; for
   * an object homed elsewhere it is a private record that only orders this box's own borrows, and
   * the object is read from its home's arena.
   */
  record Place(
      OwnedObject guard, boolean local, GlobalAddress remote, long locator, int frameBytes) {

    GlobalAddress address() {
      return local ? guard.address() : remote;
    }
  }

  DBox(DsmNode node, Place place) {
    this.node = node;
    this.place = place;
  }

  static <T> DBox<T> local(DsmNode node, OwnedObject obj) {
    return new DBox<>(node, new Place(obj, true, null, 0, 0));
  }

  static <T> DBox<T> remote(DsmNode node, GlobalAddress address, long locator, int frameBytes) {
    return new DBox<>(node, new Place(node.newGuard(address), false, address, locator, frameBytes));
  }

  static <T> DBox<T> dead(DsmNode node, GlobalAddress address, String reason) {
    DBox<T> box = new DBox<>(node, null);
    box.death = reason;
    box.deathAddress = address;
    return box;
  }

  // ------------------------------------------------------------------ public API

  /**
   * The object's current address. Its node is where the object lives now ({@code
   * box.address().node().equals(dsm.self())} means "homed here"); it changes when a write moves the
   * object here, and its color changes with every write.
   *
   * @throws UseAfterMoveException if this handle is dead
   */
  public GlobalAddress address() {
    return place().address();
  }

  /** True if the object lives on this node (reads and writes need no message). */
  public boolean isLocal() {
    return place().local();
  }

  /**
   * Runs {@code fn} under a shared borrow of the value and returns its result. {@code fn} must not
   * modify the value.
   *
   * @throws UseAfterMoveException if this handle is dead
   * @throws BorrowConflictException if a mutable borrow did not end within the borrow timeout
   * @throws ObjectLostException if the object's home left the cluster
   */
  public <R> R read(Function<? super T, ? extends R> fn) {
    Objects.requireNonNull(fn, "fn");
    Access a = access(Kind.SHARED, "read");
    try {
      return fn.apply(a.value());
    } finally {
      a.end(false);
    }
  }

  /** {@link #read} without blocking; {@code fn} runs on the caller if the value is at hand. */
  public <R> CompletionStage<R> readAsync(Function<? super T, ? extends R> fn) {
    Objects.requireNonNull(fn, "fn");
    return run(accessAsync(Kind.SHARED, "read"), a -> fn.apply(a.value()), false);
  }

  /**
   * Runs {@code fn} under a mutable borrow of the value (moving the object here first if it lives
   * elsewhere) and returns its result. When {@code fn} returns, the object's color advances: copies
   * of the old version can no longer be reached.
   *
   * @throws BorrowConflictException if lent references or borrows did not end within the borrow
   *     timeout
   */
  public <R> R write(Function<? super T, ? extends R> fn) {
    Objects.requireNonNull(fn, "fn");
    Access a = access(Kind.EXCLUSIVE, "write");
    try {
      return fn.apply(a.value());
    } finally {
      a.end(true);
    }
  }

  /** {@link #write} without blocking. */
  public <R> CompletionStage<R> writeAsync(Function<? super T, ? extends R> fn) {
    Objects.requireNonNull(fn, "fn");
    return run(accessAsync(Kind.EXCLUSIVE, "write"), a -> fn.apply(a.value()), true);
  }

  /** Replaces the value with {@code fn(oldValue)}: the mutable borrow for immutable values. */
  public void replace(UnaryOperator<T> fn) {
    Objects.requireNonNull(fn, "fn");
    Access a = access(Kind.EXCLUSIVE, "replace");
    try {
      a.set(fn.apply(a.value()));
    } finally {
      a.end(true);
    }
  }

  /** {@link #replace} without blocking. */
  public CompletionStage<Void> replaceAsync(UnaryOperator<T> fn) {
    Objects.requireNonNull(fn, "fn");
    return run(
        accessAsync(Kind.EXCLUSIVE, "replace"),
        a -> {
          a.set(fn.apply(a.value()));
          return null;
        },
        true);
  }

  /**
   * A shared borrow scoped to a try-with-resources block. The reference stays on this node (use
   * {@link #share()} for one that may be sent elsewhere).
   */
  public DRef<T> borrow() {
    return scoped(access(Kind.SHARED, "borrow"));
  }

  /** {@link #borrow} without blocking. */
  public CompletionStage<DRef<T>> borrowAsync() {
    return node.handOff(accessAsync(Kind.SHARED, "borrow").thenApply(this::scoped));
  }

  /**
   * A mutable borrow scoped to a try-with-resources block. The object moves here first if it lives
   * elsewhere; closing the guard ends the borrow and advances the color.
   */
  public DMut<T> borrowMut() {
    return new DMut<>(access(Kind.EXCLUSIVE, "borrowMut"));
  }

  /** {@link #borrowMut} without blocking. */
  public CompletionStage<DMut<T>> borrowMutAsync() {
    return node.handOff(accessAsync(Kind.EXCLUSIVE, "borrowMut").thenApply(DMut::new));
  }

  /**
   * Lends a shared reference. It may be sent to any node inside a message, and read there with
   * one-sided reads; the owner cannot write until every reference (and every copy sent on) is
   * released.
   */
  public DRef<T> share() {
    return node.await(shareFuture(), addressOrNull(), "share", DRef::release);
  }

  /** {@link #share} without blocking. */
  public CompletionStage<DRef<T>> shareAsync() {
    return node.handOff(shareFuture());
  }

  /**
   * Moves ownership to a new handle, which is returned; this one is dead from now on. No data
   * moves. Like a Rust move, it waits until no reference lent by this box is out.
   */
  public DBox<T> transfer() {
    return node.await(
        transferFuture(),
        addressOrNull(),
        "transfer",
        successor -> successor.returnOwnershipTo(this));
  }

  /** {@link #transfer} without blocking. */
  public CompletionStage<DBox<T>> transferAsync() {
    return node.handOff(transferFuture());
  }

  /**
   * Turns this box's object into an immutable value with shared ownership, without copying it: this
   * box is dead afterwards, and the returned handle owns the value (until the last handle is
   * dropped). Like a write, it waits for lent references and borrows to end. The object stays on
   * its home node.
   *
   * @throws BorrowConflictException if references or borrows did not end within the timeout
   */
  public DArc<T> freeze() {
    return node.await(freezeFuture(), addressOrNull(), "freeze", DArc::drop);
  }

  /** {@link #freeze} without blocking. */
  public CompletionStage<DArc<T>> freezeAsync() {
    return node.handOff(freezeFuture());
  }

  /**
   * Frees the object at its home. Waits until no reference is lent; dropping an object whose home
   * has left the cluster succeeds (there is nothing left to free).
   */
  public void drop() {
    node.await(dropFuture(), addressOrNull(), "drop");
  }

  /** {@link #drop} without blocking. */
  public CompletionStage<Void> dropAsync() {
    return node.handOff(dropFuture());
  }

  /** Drops the object, unless this handle is already dead (moved or dropped), then nothing. */
  @Override
  public void close() {
    synchronized (this) {
      if (death != null) {
        return;
      }
    }
    drop();
  }

  @Override
  public String toString() {
    synchronized (this) {
      return death != null
          ? "DBox(dead: " + deathAddress + ")"
          : "DBox(" + place.address() + (place.local() ? ", local)" : ", remote)");
    }
  }

  // ------------------------------------------------------------------ state

  Place place() {
    synchronized (this) {
      if (death != null) {
        throw new UseAfterMoveException(
            deathAddress,
            "this DBox of object " + deathAddress.objectName() + " is dead: " + death);
      }
      return place;
    }
  }

  private GlobalAddress addressOrNull() {
    synchronized (this) {
      return death != null ? deathAddress : place.address();
    }
  }

  private synchronized boolean current(Place p) {
    return death == null && place == p;
  }

  /** Marks this handle dead; false if it already was, or its place changed. */
  synchronized boolean kill(Place expected, String reason) {
    if (death != null || place != expected) {
      return false;
    }
    deathAddress = expected.address();
    death = reason;
    place = null;
    return true;
  }

  /**
   * Gives ownership back to the box this one was transferred from, when the caller of {@code
   * transfer()} gave up before receiving this box: nobody else can hold it.
   */
  void returnOwnershipTo(DBox<T> predecessor) {
    Place p;
    synchronized (this) {
      p = place;
    }
    if (p != null && kill(p, "the transfer() that created it was abandoned")) {
      predecessor.revive(p);
    }
  }

  /** Brings back a handle killed by a serialization that failed afterwards. */
  synchronized void revive(Place p) {
    death = null;
    deathAddress = null;
    place = p;
  }

  private synchronized void moved(Place to) {
    place = to;
  }

  DsmNode node() {
    return node;
  }

  // ------------------------------------------------------------------ borrows

  /** A granted borrow: the value to use, and how to end it. */
  final class Access implements Guarded<T> {
    final Place place;
    final OwnedObject target; // the record written, for exclusive access; the guard otherwise
    final Kind kind;
    final ReadCache.Entry entry; // for a shared borrow of a remote object
    final long fingerprint;
    private boolean ended;

    Access(Place place, OwnedObject target, Kind kind, ReadCache.Entry entry) {
      this.place = place;
      this.target = target;
      this.kind = kind;
      this.entry = entry;
      this.fingerprint =
          kind == Kind.SHARED && node.settings().detectSharedMutation
              ? node.fingerprint(rawValue())
              : 0;
    }

    private Object rawValue() {
      return entry != null ? entry.value() : target.value();
    }

    @Override
    @SuppressWarnings("unchecked")
    public T value() {
      if (ended) {
        throw new IllegalStateException("the borrow of " + place.address() + " has ended");
      }
      return (T) rawValue();
    }

    @Override
    public void set(T newValue) {
      Objects.requireNonNull(newValue, "a DSM value must not be null");
      target.value(newValue);
    }

    @Override
    public GlobalAddress address() {
      return kind == Kind.EXCLUSIVE ? target.address() : place.address();
    }

    @Override
    public void endWrite() {
      end(true);
    }

    void end(boolean wrote) {
      if (ended) {
        return;
      }
      ended = true;
      if (kind == Kind.EXCLUSIVE) {
        if (wrote) {
          node.endWrite(target);
        } else {
          target.endExclusive();
        }
        return;
      }
      long after = fingerprint != 0 ? node.fingerprint(rawValue()) : 0;
      if (entry != null) {
        node.cache().unpin(entry);
      }
      place.guard().endShared();
      if (fingerprint != after) {
        throw new SharedMutationException(
            place.address(),
            "the value of "
                + place.address()
                + " changed during a shared borrow; mutate it "
                + "only inside write() or borrowMut()");
      }
    }
  }

  /** Blocking access: the local fast path without futures, else waits for the async path. */
  private Access access(Kind kind, String operation) {
    Place p = place();
    if (p.local() && p.guard().tryAcquire(kind, null, 0, who()) == Attempt.GRANTED) {
      if (current(p)) {
        if (kind == Kind.SHARED) {
          node.metrics().localRead();
        }
        return new Access(p, p.guard(), kind, null);
      }
      release(p, kind);
    }
    return node.await(accessAsync(kind, operation), p.address(), operation, a -> a.end(false));
  }

  private CompletableFuture<Access> accessAsync(Kind kind, String operation) {
    Place p;
    try {
      p = place();
    } catch (UseAfterMoveException e) {
      return CompletableFuture.failedFuture(e);
    }
    return grab(p, kind, operation)
        .thenCompose(
            granted -> {
              if (!granted) {
                return accessAsync(kind, operation);
              }
              if (!current(p)) {
                release(p, kind);
                return accessAsync(kind, operation);
              }
              if (p.local()) {
                if (kind == Kind.SHARED) {
                  node.metrics().localRead();
                }
                return CompletableFuture.completedFuture(new Access(p, p.guard(), kind, null));
              }
              if (kind == Kind.SHARED) {
                return node.pinAsync(p.remote(), p.locator())
                    .handle(
                        (entry, failure) -> {
                          if (failure != null) {
                            p.guard().endShared();
                            Throwable cause = unwrap(failure);
                            throw cause instanceof RuntimeException r
                                ? lostOr(p, r)
                                : new CompletionException(cause);
                          }
                          return new Access(p, p.guard(), kind, entry);
                        });
              }
              return moveHere(p).thenApply(obj -> new Access(p, obj, Kind.EXCLUSIVE, null));
            });
  }

  /** Acquires the guard; completes false if the place changed meanwhile (retry). */
  private CompletableFuture<Boolean> grab(Place p, Kind kind, String operation) {
    OwnedObject guard = p.guard();
    if (guard.tryAcquire(kind, null, 0, who()) == Attempt.GRANTED) {
      return CompletableFuture.completedFuture(true);
    }
    return guard
        .acquire(kind, null, 0, who(), node.settings().borrowTimeout.toNanos())
        .handle(
            (ok, failure) -> {
              if (failure == null) {
                return true;
              }
              Throwable cause = unwrap(failure);
              if (cause instanceof ObjectRetiredException) {
                return false; // moved or dropped through this box meanwhile: look again
              }
              if (cause instanceof BorrowTimeoutException t) {
                throw node.conflict(p.address(), operation, t);
              }
              throw cause instanceof RuntimeException r ? r : new CompletionException(cause);
            });
  }

  private void release(Place p, Kind kind) {
    if (kind == Kind.SHARED) {
      p.guard().endShared();
    } else {
      p.guard().endExclusive();
    }
  }

  private static String who() {
    return "thread " + Thread.currentThread().getName();
  }

  /**
   * Moves a remote object here under a new id: one request to its home, one reply with the value.
   * The caller holds the private guard exclusively; on success the guard is retired and this box
   * points at the new local record (held exclusively for the caller), on failure the guard is
   * released.
   */
  private CompletableFuture<OwnedObject> moveHere(Place p) {
    GlobalAddress from = p.remote();
    long newId = node.nextObjectId();
    long self = node.self().value();
    java.util.function.Function<ActorRef<Protocol.Reply>, Protocol.OwnerCommand> request =
        replyTo ->
            new Protocol.HandOver(
                from.node().value(), from.object(), from.color(), self, newId, replyTo);
    // If the answer is late, ask once more with the same new id: the home keeps its answer for
    // a while, so the retry cannot hand the object over twice, nor lose it.
    return node.ask(
            from,
            request,
            node.settings().borrowTimeout.plus(node.settings().askTimeout),
            "hand over")
        .exceptionallyCompose(
            failure ->
                unwrap(failure) instanceof DsmTimeoutException
                    ? node.ask(from, request, node.settings().askTimeout, "hand over (again)")
                    : CompletableFuture.failedFuture(failure))
        .thenCompose(
            reply -> {
              if (reply instanceof Protocol.HandedOver h) {
                return CompletableFuture.supplyAsync(
                    () -> node.decodeMoved(h.value()), Runnable::run);
              }
              if (reply instanceof Protocol.HandedOverAt at) {
                return node.fetchMoved(from, at);
              }
              throw refusal(p, (Protocol.Refused) reply, "write");
            })
        .handle(
            (value, failure) -> {
              if (failure == null) {
                OwnedObject obj = node.allocateExclusive(newId, value);
                node.metrics().moveIn();
                moved(new Place(obj, true, null, 0, 0));
                p.guard().retire(Phase.MOVED);
                return obj;
              }
              Throwable cause = unwrap(failure);
              if (cause instanceof CorruptSnapshotException
                  || cause instanceof com.esotericsoftware.kryo.KryoException
                  || cause instanceof dev.pekkodsm.serialization.SnapshotFormatException) {
                // The home has already given the object up: it is gone.
                kill(p, "the object was lost while moving here: " + cause.getMessage());
                p.guard().retire(Phase.LOST);
              } else {
                p.guard().endExclusive();
              }
              throw cause instanceof RuntimeException r ? r : new CompletionException(cause);
            });
  }

  /**
   * {@code spawnTo}: runs a shipped function where the object lives, under a mutable borrow there
   * ({@code write}) or a shared one. Borrows through this box wait for it as for a write or a read.
   * After a write at another node the box follows the object's new color (and id, if its colors ran
   * out).
   */
  CompletableFuture<Object> runWhereItLives(byte[] fn, boolean write) {
    Place p;
    try {
      p = place();
    } catch (UseAfterMoveException e) {
      node.discardShipped(fn); // it never left
      return CompletableFuture.failedFuture(e);
    }
    Kind kind = write ? Kind.EXCLUSIVE : Kind.SHARED;
    CompletableFuture<Boolean> grabbed = grab(p, kind, "spawnTo");
    grabbed.exceptionally(
        failure -> {
          node.discardShipped(fn); // the borrow was not granted: it never left
          return false;
        });
    return grabbed.thenCompose(
        granted -> {
          if (!granted) {
            return runWhereItLives(fn, write);
          }
          if (!current(p)) {
            release(p, kind);
            return runWhereItLives(fn, write);
          }
          if (p.local()) {
            GlobalAddress at = p.guard().address();
            return node.runHere(p.guard(), write, fn)
                .thenApply(r -> node.taskValue(node.self(), at, r));
          }
          return write ? runRemotely(p, fn) : readRemotely(p, fn);
        });
  }

  private CompletableFuture<Object> runRemotely(Place p, byte[] fn) {
    GlobalAddress at = p.remote();
    return node.runAt(at, Protocol.RunMode.WRITE, fn)
        .handle(
            (reply, failure) -> {
              if (failure != null) {
                // No answer: the home may have run it, and advanced the color. Ask.
                return resync(p, null)
                    .handle(
                        (ignored, resyncFailure) -> {
                          Throwable cause = unwrap(failure);
                          throw cause instanceof RuntimeException r
                              ? r
                              : new CompletionException(cause);
                        });
              }
              if (reply instanceof Protocol.TaskResult r) {
                if (r.object() == 0) {
                  p.guard().endExclusive(); // it did not run: nothing changed
                  return CompletableFuture.completedFuture(r);
                }
                GlobalAddress now = new GlobalAddress(at.node(), r.object(), r.color());
                if (r.locator() != 0) {
                  follow(p, new Place(node.newGuard(now), false, now, r.locator(), r.frameBytes()));
                  return CompletableFuture.completedFuture(r);
                }
                // Written, but its snapshot could not be published: ask the home to publish it;
                // failing that, follow the color without a snapshot (reads fail, writes work).
                return resync(p, new Place(node.newGuard(now), false, now, 0, 0))
                    .handle((ok, resyncFailure) -> r);
              }
              p.guard().endExclusive();
              node.discardShipped(fn); // refused: it did not run
              throw refusal(p, (Protocol.Refused) reply, "spawnTo");
            })
        .thenCompose(f -> f)
        .thenApply(r -> node.taskValue(at.node(), at, (Protocol.TaskResult) r));
  }

  /** Moves this box to where its object is now; the old place's waiters look again. */
  private void follow(Place old, Place now) {
    moved(now);
    old.guard().retire(Phase.MOVED);
  }

  /**
   * Asks the home of this box's object (which only this box can change) for its id, color and
   * snapshot now, and follows them; the caller holds the place's guard exclusively, and it is
   * released (or retired, if the place changed) either way. If the home cannot say, the box follows
   * {@code ifUnknown}, or stays where it is if that is null.
   */
  private CompletableFuture<Void> resync(Place p, Place ifUnknown) {
    GlobalAddress at = p.remote();
    return node.ask(
            at,
            replyTo -> new Protocol.Where(at.node().value(), at.object(), replyTo),
            node.settings().borrowTimeout.plus(node.settings().askTimeout),
            "locate")
        .handle(
            (reply, failure) -> {
              if (reply instanceof Protocol.At a
                  && (a.object() != at.object() || a.color() != at.color())) {
                GlobalAddress now = new GlobalAddress(at.node(), a.object(), a.color());
                follow(p, new Place(node.newGuard(now), false, now, a.locator(), a.frameBytes()));
              } else if (!(reply instanceof Protocol.At) && ifUnknown != null) {
                follow(p, ifUnknown);
              } else {
                p.guard().endExclusive();
              }
              if (failure != null) {
                throw failure instanceof CompletionException c
                    ? c
                    : new CompletionException(failure);
              }
              return null;
            });
  }

  private CompletableFuture<Object> readRemotely(Place p, byte[] fn) {
    GlobalAddress at = p.remote();
    return node.runAt(at, Protocol.RunMode.SHARED, fn)
        .handle(
            (reply, failure) -> {
              p.guard().endShared();
              if (failure != null) {
                Throwable cause = unwrap(failure);
                throw cause instanceof RuntimeException r ? r : new CompletionException(cause);
              }
              if (reply instanceof Protocol.TaskResult r) {
                return node.taskValue(at.node(), at, r);
              }
              node.discardShipped(fn); // refused: it did not run
              throw refusal(p, (Protocol.Refused) reply, "spawnTo");
            });
  }

  /** Turns a home's refusal into the public exception, killing this handle if it is stale. */
  RuntimeException refusal(Place p, Protocol.Refused r, String operation) {
    GlobalAddress a = p.address();
    return switch (r.reason()) {
      case CONFLICT ->
          node.conflict(
              a,
              operation,
              r.readers(),
              null,
              DsmNode.holders(r.lent()),
              node.settings().borrowTimeout.toNanos());
      case LOST -> {
        kill(p, "its home left the cluster");
        yield node.lost(a);
      }
      case MOVED, DROPPED, UNKNOWN, STALE -> {
        kill(p, "its home no longer has it (" + r.detail() + ")");
        yield new UseAfterMoveException(
            a, "object " + a.objectName() + " is no longer owned by this DBox: " + r.detail());
      }
      case FAILED ->
          new DsmException(a, operation + " of " + a + " failed at its home: " + r.detail());
    };
  }

  private RuntimeException lostOr(Place p, RuntimeException e) {
    if (e instanceof StaleReferenceException) {
      // A box's object cannot change behind its back; a vanished snapshot means it is gone.
      kill(p, "its home no longer has it");
      return node.isDeparted(p.remote().node())
          ? node.lost(p.remote())
          : new ObjectLostException(
              p.remote(), "object " + p.remote().objectName() + " no longer exists at its home");
    }
    return e;
  }

  private <R> CompletionStage<R> run(
      CompletableFuture<Access> access, Function<Access, R> body, boolean wrote) {
    Function<Access, R> guarded =
        a -> {
          try {
            return body.apply(a);
          } finally {
            a.end(wrote);
          }
        };
    if (access.isDone() && !access.isCompletedExceptionally()) {
      try {
        return CompletableFuture.completedFuture(guarded.apply(access.join()));
      } catch (RuntimeException e) {
        return CompletableFuture.failedFuture(e);
      }
    }
    return node.handOff(access.thenApplyAsync(guarded, node.executor()));
  }

  private DRef<T> scoped(Access a) {
    return new DRef<>(Lend.scoped(node, a.place.address(), a.entry, a.value(), () -> a.end(false)));
  }

  // ------------------------------------------------------------------ share, transfer, drop

  private CompletableFuture<DRef<T>> shareFuture() {
    Place p;
    try {
      p = place();
    } catch (UseAfterMoveException e) {
      return CompletableFuture.failedFuture(e);
    }
    if (p.local()) {
      OwnedObject obj = p.guard();
      long weight = LendLedger.INITIAL_WEIGHT;
      CompletableFuture<Void> lent =
          obj.tryAcquire(Kind.LEND, node.self(), weight, null) == Attempt.GRANTED
              ? CompletableFuture.completedFuture(null)
              : obj.acquire(
                  Kind.LEND, node.self(), weight, null, node.settings().borrowTimeout.toNanos());
      return lent.handle((ok, failure) -> failure)
          .thenCompose(
              failure -> {
                if (failure != null) {
                  Throwable cause = unwrap(failure);
                  if (cause instanceof ObjectRetiredException) {
                    return shareFuture();
                  }
                  if (cause instanceof BorrowTimeoutException t) {
                    return CompletableFuture.failedFuture(node.conflict(p.address(), "share", t));
                  }
                  return CompletableFuture.failedFuture(cause);
                }
                GlobalAddress a = obj.address();
                if (!current(p)) {
                  obj.returnLend(node.self(), weight, a.color());
                  return shareFuture();
                }
                node.metrics().lend();
                return CompletableFuture.completedFuture(
                    new DRef<>(Lend.<T>lentLocal(node, "DRef", obj, a, weight)));
              });
    }
    return grab(p, Kind.SHARED, "share")
        .thenCompose(
            granted -> {
              if (!granted) {
                return shareFuture();
              }
              if (!current(p)) {
                p.guard().endShared();
                return shareFuture();
              }
              GlobalAddress a = p.remote();
              long self = node.self().value();
              long requestId = node.nextRequestId();
              java.util.function.Function<ActorRef<Protocol.Reply>, Protocol.OwnerCommand> request =
                  replyTo ->
                      new Protocol.Lend(
                          a.node().value(), a.object(), a.color(), self, requestId, replyTo);
              return node.ask(
                      a,
                      request,
                      node.settings().borrowTimeout.plus(node.settings().askTimeout),
                      "lend")
                  .exceptionallyCompose(
                      failure ->
                          unwrap(failure) instanceof DsmTimeoutException
                              ? node.ask(a, request, node.settings().askTimeout, "lend (again)")
                              : CompletableFuture.failedFuture(failure))
                  .handle(
                      (reply, failure) -> {
                        p.guard().endShared();
                        if (failure != null) {
                          if (unwrap(failure) instanceof DsmTimeoutException) {
                            // Whatever the home granted meanwhile is given back.
                            node.tell(
                                new Protocol.CancelLend(
                                    a.node().value(), a.object(), self, requestId));
                          }
                          throw failure instanceof CompletionException c
                              ? c
                              : new CompletionException(failure);
                        }
                        if (reply instanceof Protocol.Lent l) {
                          return new DRef<>(
                              Lend.<T>lentRemote(
                                  node,
                                  "DRef",
                                  a.withColor(l.color()),
                                  l.locator(),
                                  l.frameBytes(),
                                  l.weight(),
                                  null));
                        }
                        throw refusal(p, (Protocol.Refused) reply, "share");
                      });
            });
  }

  private CompletableFuture<DArc<T>> freezeFuture() {
    Place p;
    try {
      p = place();
    } catch (UseAfterMoveException e) {
      return CompletableFuture.failedFuture(e);
    }
    long weight = LendLedger.INITIAL_WEIGHT;
    return grab(p, Kind.EXCLUSIVE, "freeze")
        .thenCompose(
            granted -> {
              if (!granted) {
                return freezeFuture();
              }
              if (p.local()) {
                OwnedObject obj = p.guard();
                if (!kill(p, "it was frozen into a DArc by freeze()")) {
                  obj.endExclusive();
                  return freezeFuture();
                }
                node.shareOwnership(obj, node.self(), weight);
                obj.endExclusive();
                return CompletableFuture.completedFuture(
                    new DArc<>(Lend.<T>lentLocal(node, "DArc", obj, obj.address(), weight)));
              }
              if (!current(p)) {
                p.guard().endExclusive();
                return freezeFuture();
              }
              GlobalAddress a = p.remote();
              long self = node.self().value();
              return node.ask(
                      a,
                      replyTo ->
                          new Protocol.Freeze(
                              a.node().value(), a.object(), a.color(), self, replyTo),
                      node.settings().borrowTimeout.plus(node.settings().askTimeout),
                      "freeze")
                  .handle(
                      (reply, failure) -> {
                        if (reply instanceof Protocol.Lent l) {
                          kill(p, "it was frozen into a DArc by freeze()");
                          p.guard().retire(Phase.DROPPED);
                          return new DArc<>(
                              Lend.<T>lentRemote(
                                  node,
                                  "DArc",
                                  a.withColor(l.color()),
                                  l.locator(),
                                  l.frameBytes(),
                                  l.weight(),
                                  null));
                        }
                        p.guard().endExclusive();
                        if (failure != null) {
                          throw failure instanceof CompletionException c
                              ? c
                              : new CompletionException(failure);
                        }
                        throw refusal(p, (Protocol.Refused) reply, "freeze");
                      });
            });
  }

  private CompletableFuture<DBox<T>> transferFuture() {
    Place p;
    try {
      p = place();
    } catch (UseAfterMoveException e) {
      return CompletableFuture.failedFuture(e);
    }
    return grab(p, Kind.EXCLUSIVE, "transfer")
        .thenCompose(
            granted -> {
              if (!granted) {
                return transferFuture();
              }
              DBox<T> successor = new DBox<>(node, p);
              if (!kill(
                  p, "ownership was moved by transfer(); use the DBox that transfer() returned")) {
                p.guard().endExclusive();
                return transferFuture();
              }
              p.guard().endExclusive();
              return CompletableFuture.completedFuture(successor);
            });
  }

  private CompletableFuture<Void> dropFuture() {
    Place p;
    try {
      p = place();
    } catch (UseAfterMoveException e) {
      return CompletableFuture.failedFuture(e);
    }
    return grab(p, Kind.EXCLUSIVE, "drop")
        .thenCompose(
            granted -> {
              if (!granted) {
                return dropFuture();
              }
              if (p.local()) {
                if (!kill(p, "it was dropped")) {
                  p.guard().endExclusive();
                  return dropFuture();
                }
                node.retire(p.guard(), Phase.DROPPED, null);
                return CompletableFuture.completedFuture(null);
              }
              if (!current(p)) {
                p.guard().endExclusive();
                return dropFuture();
              }
              GlobalAddress a = p.remote();
              long self = node.self().value();
              return node.ask(
                      a,
                      replyTo ->
                          new Protocol.Drop(a.node().value(), a.object(), a.color(), self, replyTo),
                      node.settings().borrowTimeout.plus(node.settings().askTimeout),
                      "drop")
                  .handle(
                      (reply, failure) -> {
                        Throwable cause = failure == null ? null : unwrap(failure);
                        if (reply instanceof Protocol.Dropped
                            || cause instanceof ObjectLostException
                            || (reply instanceof Protocol.Refused r
                                && (r.reason() == Protocol.Reason.LOST
                                    || r.reason() == Protocol.Reason.DROPPED))) {
                          kill(p, "it was dropped");
                          p.guard().retire(Phase.DROPPED);
                          return null;
                        }
                        p.guard().endExclusive();
                        if (cause != null) {
                          throw cause instanceof RuntimeException r
                              ? r
                              : new CompletionException(cause);
                        }
                        throw refusal(p, (Protocol.Refused) reply, "drop");
                      });
            });
  }

  static Throwable unwrap(Throwable t) {
    while (t instanceof CompletionException && t.getCause() != null) {
      t = t.getCause();
    }
    return t;
  }
}
