package dev.pekkodsm.internal;

import dev.pekkodsm.SharedMutationException;
import dev.pekkodsm.UseAfterMoveException;
import dev.pekkodsm.coherence.BorrowState.Attempt;
import dev.pekkodsm.coherence.BorrowState.Kind;
import dev.pekkodsm.coherence.BorrowState.Phase;
import dev.pekkodsm.coherence.BorrowTimeoutException;
import dev.pekkodsm.coherence.GlobalAddress;
import dev.pekkodsm.coherence.LendLedger;
import dev.pekkodsm.coherence.ObjectRetiredException;
import dev.pekkodsm.coherence.OwnedObject;
import dev.pekkodsm.coherence.ReadCache;
import dev.pekkodsm.coherence.client.BoxState;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * The core of a {@code DBox}: where its object is, whether the handle is still alive, and the
 * borrows made through it. Everything a box does on its own node is here; what it asks of its
 * object's home (a move, a lend, a freeze, a drop, a function run there) is in {@link RemoteBox}.
 *
 * <p>Borrows through one box follow the same rules as borrows through different boxes: for an
 * object homed here they are made on the object's own record; for an object homed elsewhere on a
 * private guard record that only orders this box's borrows (a read against a write). An operation
 * that finds its place replaced meanwhile (the object moved here, its color advanced) is made
 * afresh on the new place ({@link Futures#untilSettled}).
 *
 * <p>Thread-safe.
 */
public final class BoxCore {

  /** A settled answer of an attempt, for {@link Futures#untilSettled}. */
  static final Optional<Boolean> DONE = Optional.of(Boolean.TRUE);

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

  private final ClientContext ctx;
  private Place place; // guarded by this; null once dead
  private BoxState state = BoxState.LIVE; // guarded by this
  private String deathReason; // guarded by this
  private GlobalAddress deathAddress; // guarded by this

  private BoxCore(ClientContext ctx, Place place) {
    this.ctx = ctx;
    this.place = place;
  }

  /** A box of an object homed on this node. */
  public static BoxCore local(ClientContext ctx, OwnedObject obj) {
    return new BoxCore(ctx, new Place(obj, true, null, 0, 0));
  }

  /** A box of an object homed elsewhere, whose snapshot is at {@code locator}. */
  static BoxCore remote(ClientContext ctx, GlobalAddress address, long locator, int frameBytes) {
    return new BoxCore(
        ctx, new Place(ctx.table().guardFor(address), false, address, locator, frameBytes));
  }

  /** A box that arrived dead: every use says {@code reason}. */
  static BoxCore dead(ClientContext ctx, GlobalAddress address, String reason) {
    BoxCore box = new BoxCore(ctx, null);
    box.state = BoxState.LOST;
    box.deathReason = reason;
    box.deathAddress = address;
    return box;
  }

  /** The context of the node this box lives on. */
  public ClientContext context() {
    return ctx;
  }

  // ------------------------------------------------------------------ the handle's life

  /** The object's current address. */
  public GlobalAddress address() {
    return place().address();
  }

  /** True if the object lives on this node. */
  public boolean isLocal() {
    return place().local();
  }

  /** True once the handle is dead (moved, sent, frozen, dropped or lost). */
  public synchronized boolean isDead() {
    return state != BoxState.LIVE;
  }

  /**
   * Where the object is now.
   *
   * @throws UseAfterMoveException if this handle is dead
   */
  synchronized Place place() {
    if (state != BoxState.LIVE) {
      throw new UseAfterMoveException(
          deathAddress,
          "this DBox of object " + deathAddress.objectName() + " is dead: " + deathReason);
    }
    return place;
  }

  /** The address for messages: the current one, or the one the handle died at. */
  public synchronized GlobalAddress addressOrNull() {
    return state != BoxState.LIVE ? deathAddress : place.address();
  }

  /** True if the handle is live and still at {@code p}. */
  synchronized boolean current(Place p) {
    return state == BoxState.LIVE && place == p;
  }

  /** Marks this handle dead at {@code expected}; false if it already was, or its place changed. */
  boolean kill(Place expected, BoxState why) {
    return kill(expected, why, why.why());
  }

  /** {@link #kill(Place, BoxState)} with the reason a later use is told. */
  synchronized boolean kill(Place expected, BoxState why, String reason) {
    if (state != BoxState.LIVE || place != expected) {
      return false;
    }
    deathAddress = expected.address();
    deathReason = reason;
    state = why;
    place = null;
    return true;
  }

  /** Brings back a handle killed by a send that failed afterwards. */
  synchronized void revive(Place p) {
    state = BoxState.LIVE;
    deathReason = null;
    deathAddress = null;
    place = p;
  }

  /** The object moved here, or its color advanced elsewhere: this box follows it. */
  synchronized void moved(Place to) {
    place = to;
  }

  /** Moves this box to where its object is now; the old place's waiters look again. */
  void follow(Place old, Place now) {
    moved(now);
    old.guard().retire(Phase.MOVED);
  }

  // ------------------------------------------------------------------ borrows

  /** A granted borrow: the value to use, and how to end it. */
  public final class Access implements Guard {
    final Place place;
    final OwnedObject target; // the record written, for exclusive access; the guard otherwise
    final Kind kind;
    final ReadCache.Entry entry; // for a shared borrow of a remote object
    private final long fingerprint;
    private boolean ended;

    Access(Place place, OwnedObject target, Kind kind, ReadCache.Entry entry) {
      this.place = place;
      this.target = target;
      this.kind = kind;
      this.entry = entry;
      this.fingerprint =
          kind == Kind.SHARED && ctx.settings().detectSharedMutation
              ? ctx.publisher().fingerprint(rawValue())
              : 0;
    }

    private Object rawValue() {
      return entry != null ? entry.value() : target.value();
    }

    @Override
    public Object value() {
      if (ended) {
        throw new IllegalStateException("the borrow of " + place.address() + " has ended");
      }
      return rawValue();
    }

    @Override
    public void set(Object newValue) {
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

    /** Ends the borrow; a write advances the color. */
    public void end(boolean wrote) {
      if (ended) {
        return;
      }
      ended = true;
      if (kind == Kind.EXCLUSIVE) {
        if (wrote) {
          ctx.runner().endWrite(target);
        } else {
          target.endExclusive();
        }
        return;
      }
      long after = fingerprint != 0 ? ctx.publisher().fingerprint(rawValue()) : 0;
      if (entry != null) {
        ctx.reader().unpin(entry);
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

    /** A reference scoped to this shared borrow, ending it when released. */
    public LendCore scopedRef() {
      return LendCore.scoped(ctx, place.address(), entry, value(), () -> end(false));
    }
  }

  /**
   * A borrow of {@code kind}, waiting for it if need be: on this node's own object without any
   * future when it is free at once; else as {@link #accessAsync}.
   */
  public Access access(Kind kind, String operation) {
    Place p = place();
    if (p.local() && p.guard().tryAcquire(kind, null, 0, who(kind)) == Attempt.GRANTED) {
      if (current(p)) {
        if (kind == Kind.SHARED) {
          ctx.metrics().localRead();
        }
        return new Access(p, p.guard(), kind, null);
      }
      release(p, kind);
    }
    return ctx.await(accessAsync(kind, operation), p.address(), operation, a -> a.end(false));
  }

  /**
   * A borrow of {@code kind}: a shared one of an object homed elsewhere pins a copy read one-sided;
   * an exclusive one moves the object here first.
   */
  public CompletableFuture<Access> accessAsync(Kind kind, String operation) {
    return hold(kind, operation)
        .thenCompose(
            p -> {
              if (p.local()) {
                if (kind == Kind.SHARED) {
                  ctx.metrics().localRead();
                }
                return CompletableFuture.completedFuture(new Access(p, p.guard(), kind, null));
              }
              if (kind == Kind.SHARED) {
                return ctx.reader()
                    .pin(p.remote(), p.locator())
                    .handle(
                        (entry, failure) -> {
                          if (failure != null) {
                            p.guard().endShared();
                            throw RemoteBox.lostOr(this, p, Futures.propagate(failure));
                          }
                          return new Access(p, p.guard(), kind, entry);
                        });
              }
              return RemoteBox.moveHere(this, p)
                  .thenApply(obj -> new Access(p, obj, Kind.EXCLUSIVE, null));
            });
  }

  /**
   * Borrows the box's current place ({@code kind} on its guard), waiting for conflicting borrows up
   * to the borrow timeout; looks again if the place changes meanwhile.
   */
  CompletableFuture<Place> hold(Kind kind, String operation) {
    return Futures.untilSettled(
        () -> {
          Place p;
          try {
            p = place();
          } catch (UseAfterMoveException e) {
            return CompletableFuture.failedFuture(e);
          }
          return grab(p, kind, operation)
              .thenApply(
                  granted -> {
                    if (!granted) {
                      return Optional.empty();
                    }
                    if (!current(p)) {
                      release(p, kind);
                      return Optional.empty();
                    }
                    return Optional.of(p);
                  });
        });
  }

  /** Acquires the place's guard; completes false if the place changed meanwhile (look again). */
  CompletableFuture<Boolean> grab(Place p, Kind kind, String operation) {
    OwnedObject guard = p.guard();
    String who = who(kind);
    if (guard.tryAcquire(kind, null, 0, who) == Attempt.GRANTED) {
      return CompletableFuture.completedFuture(true);
    }
    return guard
        .acquire(kind, null, 0, who, ctx.borrowTimeoutNs())
        .handle(
            (ok, failure) -> {
              if (failure == null) {
                return true;
              }
              Throwable cause = Futures.unwrap(failure);
              if (cause instanceof ObjectRetiredException) {
                return false; // moved or dropped through this box meanwhile: look again
              }
              if (cause instanceof BorrowTimeoutException t) {
                throw ctx.errors().conflict(p.address(), operation, t);
              }
              throw Futures.propagate(cause);
            });
  }

  void release(Place p, Kind kind) {
    if (kind == Kind.SHARED) {
      p.guard().endShared();
    } else {
      p.guard().endExclusive();
    }
  }

  /** Who holds an exclusive borrow, for conflict messages; shared borrows are not named. */
  private static String who(Kind kind) {
    return kind == Kind.EXCLUSIVE ? "thread " + Thread.currentThread().getName() : null;
  }

  static <T> CompletableFuture<Optional<T>> again() {
    return CompletableFuture.completedFuture(Optional.empty());
  }

  static <T> CompletableFuture<Optional<T>> settled(T value) {
    return CompletableFuture.completedFuture(Optional.of(value));
  }

  // ------------------------------------------------------------------ lifecycle

  /**
   * Lends a shared reference: on the home at once (no message), from elsewhere by asking the home.
   */
  public CompletableFuture<LendCore> share() {
    return Futures.untilSettled(this::tryShare);
  }

  private CompletableFuture<Optional<LendCore>> tryShare() {
    Place p;
    try {
      p = place();
    } catch (UseAfterMoveException e) {
      return CompletableFuture.failedFuture(e);
    }
    if (!p.local()) {
      return RemoteBox.share(this, p);
    }
    OwnedObject obj = p.guard();
    long weight = LendLedger.INITIAL_WEIGHT;
    CompletableFuture<Void> lent =
        obj.tryAcquire(Kind.LEND, ctx.self(), weight, null) == Attempt.GRANTED
            ? CompletableFuture.completedFuture(null)
            : obj.acquire(Kind.LEND, ctx.self(), weight, null, ctx.borrowTimeoutNs());
    return lent.handle(
        (ok, failure) -> {
          if (failure != null) {
            Throwable cause = Futures.unwrap(failure);
            if (cause instanceof ObjectRetiredException) {
              return Optional.empty();
            }
            if (cause instanceof BorrowTimeoutException t) {
              throw ctx.errors().conflict(p.address(), "share", t);
            }
            throw Futures.propagate(cause);
          }
          GlobalAddress a = obj.address();
          if (!current(p)) {
            obj.returnLend(ctx.self(), weight, a.color());
            return Optional.empty();
          }
          ctx.metrics().lend();
          return Optional.of(LendCore.local(ctx, HandleKind.REF, obj, a, weight));
        });
  }

  /**
   * Moves ownership to a new core, which is returned; this one is dead from then on. No data moves.
   * Waits until no borrow through this box is in progress.
   */
  public CompletableFuture<BoxCore> transfer() {
    return Futures.untilSettled(this::tryTransfer);
  }

  private CompletableFuture<Optional<BoxCore>> tryTransfer() {
    Place p;
    try {
      p = place();
    } catch (UseAfterMoveException e) {
      return CompletableFuture.failedFuture(e);
    }
    return grab(p, Kind.EXCLUSIVE, "transfer")
        .thenApply(
            granted -> {
              if (!granted) {
                return Optional.empty();
              }
              BoxCore successor = new BoxCore(ctx, p);
              boolean killed = kill(p, BoxState.TRANSFERRED);
              p.guard().endExclusive();
              return killed ? Optional.of(successor) : Optional.empty();
            });
  }

  /**
   * Gives ownership back to the box this one was transferred from, when the caller of {@code
   * transfer()} gave up before receiving this one: nobody else can hold it.
   */
  public void returnOwnershipTo(BoxCore predecessor) {
    Place p;
    synchronized (this) {
      p = place;
    }
    if (p != null && kill(p, BoxState.ABANDONED)) {
      predecessor.revive(p);
    }
  }

  /**
   * Turns the object into an immutable value with shared ownership, without copying it; this box is
   * dead afterwards. Waits for lent references and borrows to end, as a write does.
   */
  public CompletableFuture<LendCore> freeze() {
    return Futures.untilSettled(this::tryFreeze);
  }

  private CompletableFuture<Optional<LendCore>> tryFreeze() {
    Place p;
    try {
      p = place();
    } catch (UseAfterMoveException e) {
      return CompletableFuture.failedFuture(e);
    }
    return grab(p, Kind.EXCLUSIVE, "freeze")
        .thenCompose(
            granted -> {
              if (!granted) {
                return again();
              }
              if (!p.local()) {
                return RemoteBox.freeze(this, p);
              }
              OwnedObject obj = p.guard();
              if (!kill(p, BoxState.FROZEN)) {
                obj.endExclusive();
                return again();
              }
              long weight = LendLedger.INITIAL_WEIGHT;
              ctx.table().shareOwnership(obj, ctx.self(), weight);
              obj.endExclusive();
              return settled(LendCore.local(ctx, HandleKind.ARC, obj, obj.address(), weight));
            });
  }

  /**
   * Frees the object at its home, once no reference is lent; an object whose home left the cluster
   * is simply forgotten.
   */
  public CompletableFuture<Void> drop() {
    return Futures.untilSettled(this::tryDrop).thenApply(done -> null);
  }

  private CompletableFuture<Optional<Boolean>> tryDrop() {
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
                return again();
              }
              if (!p.local()) {
                return RemoteBox.drop(this, p);
              }
              if (!kill(p, BoxState.DROPPED)) {
                p.guard().endExclusive();
                return again();
              }
              ctx.table().retire(p.guard(), Phase.DROPPED, null);
              return CompletableFuture.completedFuture(DONE);
            });
  }

  /**
   * {@code spawnTo}: runs a shipped function where the object lives, under a mutable borrow there
   * ({@code write}) or a shared one. Borrows through this box wait for it as for a write or a read.
   * After a write at another node the box follows the object's new color (and id, if its colors ran
   * out).
   */
  public CompletableFuture<Object> runWhereItLives(byte[] fn, boolean write) {
    CompletableFuture<Place> held = hold(write ? Kind.EXCLUSIVE : Kind.SHARED, "spawnTo");
    held.exceptionally(
        failure -> {
          ctx.shipping().discard(fn); // the borrow was not granted: it never left
          return null;
        });
    return held.thenCompose(
        p -> {
          if (p.local()) {
            GlobalAddress at = p.guard().address();
            return ctx.tasks()
                .runHere(p.guard(), write, fn)
                .thenApply(r -> ctx.shipping().value(ctx.self(), at, r));
          }
          return write ? RemoteBox.runThere(this, p, fn) : RemoteBox.readThere(this, p, fn);
        });
  }

  @Override
  public String toString() {
    synchronized (this) {
      return state != BoxState.LIVE
          ? "DBox(dead: " + deathAddress + ")"
          : "DBox(" + place.address() + (place.local() ? ", local)" : ", remote)");
    }
  }
}
