package dev.pekkodsm.internal;

import dev.pekkodsm.DsmException;
import dev.pekkodsm.ObjectLostException;
import dev.pekkodsm.SharedMutationException;
import dev.pekkodsm.StaleReferenceException;
import dev.pekkodsm.coherence.GlobalAddress;
import dev.pekkodsm.coherence.LendLedger;
import dev.pekkodsm.coherence.NodeId;
import dev.pekkodsm.coherence.OwnedObject;
import dev.pekkodsm.coherence.ReadCache;
import dev.pekkodsm.coherence.client.RefState;
import dev.pekkodsm.coherence.home.HomeReply;
import dev.pekkodsm.coherence.home.HomeRequest;
import java.util.concurrent.CompletableFuture;

/**
 * The core of every handle that holds weight on an object: a lend (behind {@code DRef}) or a share
 * of ownership (behind {@code DArc}, {@code DMutex}, {@code DAtomicLong}). It knows the object's
 * address and snapshot, holds the weight the home counts, reads the value (the live one on the
 * home, a cached one-sided copy elsewhere), copies itself by splitting its weight, moves with a
 * message, and gives its weight back when released. Its life is a {@link RefState}.
 *
 * <p>Thread-safe.
 */
public final class LendCore {

  /** Where the value is read from. */
  public enum Form {
    /** Lent by an object homed on this node: reads return the live value. */
    LOCAL,
    /** Lent by an object homed elsewhere: read one-sided into the cache. */
    REMOTE,
    /** A scoped shared borrow of a box on this node (from {@code DBox.borrow()}). */
    SCOPED
  }

  private final ClientContext ctx;
  private final HandleKind kind;
  private final Form form;
  private final GlobalAddress address;
  private final long locator;
  private final int frameBytes;
  private final OwnedObject local; // LOCAL
  private final Object localValue; // LOCAL and local SCOPED: stable while the reference lives
  private final Runnable endScope; // SCOPED
  private final long refId; // REMOTE
  private final long fingerprint; // debug: the value's hash when first read
  private final NodeId sender; // REMOTE: the node it came from, or null if lent directly
  private volatile RefState state = RefState.LIVE;
  private ReadCache.Entry entry; // REMOTE memo; racy reads are safe (final fields)
  private long weight; // guarded by this
  private int holds; // guarded by this; see hold()
  private long heldBack; // guarded by this: weight a release left for the last hold to return
  private boolean toppingUp; // guarded by this: more weight was asked for and has not arrived
  private String revokedBecause; // guarded by this
  private long loadedFingerprint; // guarded by this; debug: hash of a remote value when read

  private LendCore(
      ClientContext ctx,
      HandleKind kind,
      Form form,
      GlobalAddress address,
      long locator,
      int frameBytes,
      OwnedObject local,
      Object localValue,
      ReadCache.Entry entry,
      Runnable endScope,
      long weight,
      NodeId sender) {
    this.ctx = ctx;
    this.kind = kind;
    this.form = form;
    this.address = address;
    this.locator = locator;
    this.frameBytes = frameBytes;
    this.local = local;
    this.localValue = localValue;
    this.entry = entry;
    this.endScope = endScope;
    this.weight = weight;
    this.sender = sender;
    this.refId = form == Form.REMOTE ? ctx.refs().register(new Slot()) : 0;
    this.fingerprint =
        ctx.settings().detectSharedMutation && localValue != null
            ? ctx.publisher().fingerprint(localValue)
            : 0;
  }

  /** A handle of {@code kind} holding {@code weight} on an object homed on this node. */
  public static LendCore local(
      ClientContext ctx, HandleKind kind, OwnedObject obj, GlobalAddress address, long weight) {
    return new LendCore(
        ctx, kind, Form.LOCAL, address, 0, 0, obj, obj.value(), null, null, weight, null);
  }

  /**
   * A handle of {@code kind} holding {@code weight} on an object homed elsewhere, whose snapshot is
   * at {@code locator}; {@code sender} is the node it came from, or null if lent directly.
   */
  public static LendCore remote(
      ClientContext ctx,
      HandleKind kind,
      GlobalAddress address,
      long locator,
      int frameBytes,
      long weight,
      NodeId sender) {
    return new LendCore(
        ctx,
        kind,
        Form.REMOTE,
        address,
        locator,
        frameBytes,
        null,
        null,
        null,
        null,
        weight,
        sender);
  }

  /**
   * A reference scoped to a shared borrow of a box on this node; {@code endScope} ends the borrow.
   * A borrow of a box whose object lives elsewhere reads its pinned cache entry, which the borrow
   * owns.
   */
  public static LendCore scoped(
      ClientContext ctx,
      GlobalAddress address,
      ReadCache.Entry entry,
      Object value,
      Runnable endScope) {
    return new LendCore(
        ctx,
        HandleKind.REF,
        Form.SCOPED,
        address,
        0,
        0,
        null,
        entry == null ? value : null,
        entry,
        endScope,
        0,
        null);
  }

  /** A handle that arrived dead: every use says {@code reason}. */
  static LendCore revoked(
      ClientContext ctx, HandleKind kind, GlobalAddress address, String reason) {
    LendCore ref =
        new LendCore(ctx, kind, Form.REMOTE, address, 0, 0, null, null, null, null, 0, null);
    ref.revoke(reason);
    return ref;
  }

  /** The address of the version this reference names. */
  public GlobalAddress address() {
    return address;
  }

  /**
   * The value. Cheap after the first call on a node: no message, no copy.
   *
   * @throws StaleReferenceException after {@link #release()}, or if the version is gone
   * @throws ObjectLostException if the object's home left before this node read it
   */
  public Object get() {
    RefState s = state;
    if (s != RefState.LIVE) {
      if (s == RefState.SUSPECT) {
        ctx.await(confirm(), address, "confirm a reference whose sender left");
        return get();
      }
      throw stale();
    }
    Object v = localValue;
    if (v != null) {
      return v;
    }
    ReadCache.Entry e = entry;
    if (e != null) {
      return e.value();
    }
    return load();
  }

  /**
   * {@link #get} as a stage, for use inside actors: completes at once when the value is at hand,
   * and never blocks the caller while a peer's arena endpoint is fetched.
   */
  public CompletableFuture<Object> getAsync() {
    if (state == RefState.SUSPECT) {
      return ctx.handOff(confirm().thenCompose(ok -> getAsync()));
    }
    if (form != Form.REMOTE || entry != null || state != RefState.LIVE) {
      try {
        return CompletableFuture.completedFuture(get());
      } catch (RuntimeException e) {
        return CompletableFuture.failedFuture(e);
      }
    }
    return ctx.handOff(
        ctx.reader()
            .pin(address, locator)
            .thenApply(
                e -> {
                  if (!keep(e)) {
                    ctx.reader().unpin(e);
                    return get();
                  }
                  return e.value();
                }));
  }

  /** Keeps a freshly pinned entry as this reference's copy; false if it is not wanted now. */
  private synchronized boolean keep(ReadCache.Entry e) {
    if (state != RefState.LIVE || entry != null) {
      return false;
    }
    if (ctx.settings().detectSharedMutation) {
      loadedFingerprint = ctx.publisher().fingerprint(e.value());
    }
    entry = e;
    return true;
  }

  private synchronized Object load() {
    if (state != RefState.LIVE) {
      throw stale();
    }
    if (entry == null) {
      ReadCache.Entry e =
          ctx.await(
              ctx.reader().pin(address, locator), address, "read " + address, ctx.reader()::unpin);
      keep(e);
    }
    return entry.value();
  }

  /**
   * A node left the cluster. If it sent this reference, the home may have reclaimed it with that
   * node's others before learning it arrived here: it must be confirmed before it is read again.
   * Not when the departed node was the home itself: with the home gone, no newer version can exist.
   */
  void nodeLeft(NodeId departed) {
    synchronized (this) {
      state = state.nodeLeft(departed.equals(sender), departed.equals(address.node()));
    }
  }

  /**
   * Asks the home whether this reference is counted (its sender left, so the home may have
   * reclaimed it before learning it arrived here): back to live if so, revoked if not.
   */
  private CompletableFuture<Void> confirm() {
    return ctx.homes()
        .ask(
            address,
            new HomeRequest.Confirm(
                address.node().value(), address.object(), address.color(), ctx.self().value()),
            ctx.settings().askTimeout,
            "confirm a reference to")
        .thenAccept(
            reply -> {
              boolean ok = reply instanceof HomeReply.Confirmed c && c.ok();
              if (ok) {
                synchronized (this) {
                  state = state.confirmed(true);
                }
              } else {
                String why =
                    reply instanceof HomeReply.Confirmed c ? c.reason() : String.valueOf(reply);
                revoke("its sender left the cluster and the home no longer counts it: " + why);
              }
            });
  }

  private StaleReferenceException stale() {
    ctx.metrics().staleRejection();
    String why;
    synchronized (this) {
      why = state.whyUnreadable(revokedBecause);
    }
    return new StaleReferenceException(
        address,
        "this "
            + kind.simpleName()
            + " of object "
            + address.objectName()
            + " at color "
            + address.color()
            + " can no longer be read: "
            + why
            + "; ask the owner for a new reference");
  }

  /**
   * Another handle to the same version, released independently. Costs no message.
   *
   * @throws StaleReferenceException if this one is released
   * @throws IllegalStateException for a scoped reference
   */
  public LendCore copy() {
    long half = split();
    if (form == Form.LOCAL) {
      return new LendCore(
          ctx, kind, Form.LOCAL, address, 0, 0, local, localValue, null, null, half, null);
    }
    LendCore twin = remote(ctx, kind, address, locator, frameBytes, half, sender);
    synchronized (this) {
      if (state == RefState.SUSPECT) {
        twin.state = RefState.SUSPECT;
      }
      if (entry != null) {
        twin.entry = ctx.reader().pinCached(address);
      }
    }
    return twin;
  }

  /**
   * Splits off weight for a copy ({@link LendLedger#COPY_WEIGHT}, or half this reference's weight
   * once it holds less than twice that); asks the home for more when it holds less than {@link
   * LendLedger#TOP_UP_BELOW} (once while that request is in flight, again if the weight runs low
   * anyway), so a reference can be passed on indefinitely and a holder that hands out copies does
   * not wait for weight.
   */
  private long split() {
    long given;
    boolean ask;
    synchronized (this) {
      if (!state.holdsWeight()) {
        throw stale();
      }
      if (form == Form.SCOPED) {
        throw new IllegalStateException(
            "a DRef from borrow() is scoped to its block on this "
                + "node; use DBox.share() for a reference that may be copied or sent");
      }
      if (weight < 2) {
        throw new DsmException(
            address,
            "this reference has been copied too often to be split "
                + "again before its home tops it up; retry shortly");
      }
      given = weight >= 2 * LendLedger.COPY_WEIGHT ? LendLedger.COPY_WEIGHT : weight / 2;
      weight -= given;
      ask =
          weight < LendLedger.TOP_UP_BELOW
              && (!toppingUp || weight < LendLedger.TOP_UP_AGAIN_BELOW);
      toppingUp |= ask;
    }
    if (ask) {
      topUp();
    }
    return given;
  }

  private void topUp() {
    if (form == Form.LOCAL) {
      if (local.topUp(ctx.self(), LendLedger.INITIAL_WEIGHT, address.color())) {
        new Slot().addWeight(LendLedger.INITIAL_WEIGHT);
      } else {
        synchronized (this) {
          toppingUp = false;
        }
      }
    } else {
      long self = ctx.self().value();
      ctx.homes()
          .tell(
              new HomeRequest.Adopt(
                  address.node().value(),
                  address.object(),
                  address.color(),
                  self,
                  self,
                  0,
                  refId,
                  false,
                  true));
    }
  }

  /**
   * Hands this reference's whole weight to a message being serialized: the instance is dead
   * afterwards, the receiver holds the weight.
   *
   * @return the weight that travels
   */
  long takeForSend() {
    long w;
    ReadCache.Entry e;
    synchronized (this) {
      if (!state.holdsWeight()) {
        throw stale();
      }
      if (form == Form.SCOPED) {
        throw new IllegalArgumentException(
            "a DRef from borrow() is scoped to its block on this "
                + "node and cannot be sent; send one from DBox.share()");
      }
      w = weight;
      weight = 0;
      state = state.send();
      e = entry;
      entry = null;
    }
    forget(e);
    return w;
  }

  /** Undoes {@link #takeForSend()} when the message could not be serialized after all. */
  void restoreAfterFailedSend(long w) {
    synchronized (this) {
      if (state != RefState.SENT) {
        return;
      }
      state = state.sendFailed();
      weight = w;
    }
    if (form == Form.REMOTE) {
      ctx.refs().register(refId, new Slot());
    }
  }

  /**
   * Throws unless this handle may be used: live, or suspect and then confirmed by the home. For
   * handles whose value is not read through {@link #get()} (a mutex, an atomic).
   */
  public void checkLive() {
    RefState s = state;
    if (s == RefState.SUSPECT) {
      ctx.await(confirm(), address, "confirm a handle whose sender left");
      checkLive();
    } else if (s != RefState.LIVE) {
      throw stale();
    }
  }

  /** {@link #checkLive()} without blocking. */
  public CompletableFuture<Void> checkLiveAsync() {
    RefState s = state;
    if (s == RefState.LIVE) {
      return CompletableFuture.completedFuture(null);
    }
    if (s == RefState.SUSPECT) {
      return confirm().thenCompose(ok -> checkLiveAsync());
    }
    return CompletableFuture.failedFuture(stale());
  }

  /** True if this handle is live now (not released, sent, revoked or suspect). */
  public boolean isLive() {
    return state == RefState.LIVE;
  }

  /** The context of the node this handle lives on. */
  public ClientContext context() {
    return ctx;
  }

  /** What kind of handle this is the core of. */
  public HandleKind kind() {
    return kind;
  }

  /** Where the value is read from. */
  public Form form() {
    return form;
  }

  long refId() {
    return refId;
  }

  /** The object, for a handle on its home node. */
  public OwnedObject localObject() {
    return local;
  }

  /** Where the snapshot is, for a handle of an object homed elsewhere. */
  public long locator() {
    return locator;
  }

  int frameBytes() {
    return frameBytes;
  }

  /**
   * Gives the weight back to the object's home. Idempotent.
   *
   * @throws SharedMutationException in debug mode, if the value was modified while shared
   */
  public void release() {
    long w;
    ReadCache.Entry e;
    long before;
    synchronized (this) {
      RefState next = state.release();
      if (next == null) {
        return;
      }
      state = next;
      w = weight;
      weight = 0;
      e = entry;
      before = localValue != null ? fingerprint : loadedFingerprint;
      if (holds > 0) {
        heldBack = w; // returned when the last hold ends: the object must outlive it
        w = 0;
      }
    }
    long after =
        before == 0 ? 0 : ctx.publisher().fingerprint(localValue != null ? localValue : e.value());
    forget(e);
    giveBack(w);
    if (before != after) {
      throw new SharedMutationException(
          address,
          "the value of "
              + address
              + " changed while it was shared; mutate it only inside write() or borrowMut()");
    }
  }

  /**
   * Keeps the object alive until the matching {@link #endHold()}, even if this handle is released
   * meanwhile (its weight then goes back when the hold ends): for a mutex's lock guard and an
   * update in flight, which must not find the mutex freed under them. Costs no message.
   */
  public void hold() {
    synchronized (this) {
      holds++;
    }
  }

  /** Ends a {@link #hold()}; the last one returns the weight of a release made meanwhile. */
  public void endHold() {
    long w;
    synchronized (this) {
      if (--holds > 0 || heldBack == 0) {
        return;
      }
      w = heldBack;
      heldBack = 0;
    }
    giveBack(w);
  }

  /** Gives weight back to the object: at once on its home, by a message elsewhere. */
  private void giveBack(long w) {
    switch (form) {
      case LOCAL -> {
        if (w > 0) {
          local.returnLend(ctx.self(), w, address.color());
        }
      }
      case REMOTE -> giveBackRemote(w);
      case SCOPED -> endScope.run();
    }
  }

  /** A remote reference that no longer holds weight: unregistered, and its copy unpinned. */
  private void forget(ReadCache.Entry e) {
    if (form == Form.REMOTE) {
      ctx.refs().unregister(refId);
      if (e != null) {
        ctx.reader().unpin(e);
      }
    }
  }

  private void giveBackRemote(long w) {
    if (w > 0) {
      ctx.homes()
          .tell(
              new HomeRequest.Release(
                  address.node().value(),
                  address.object(),
                  address.color(),
                  ctx.self().value(),
                  w));
    }
  }

  private void revoke(String reason) {
    ReadCache.Entry e;
    synchronized (this) {
      if (!state.holdsWeight()) {
        return;
      }
      state = state.revoke();
      weight = 0;
      revokedBecause = reason;
      e = entry;
    }
    forget(e);
  }

  @Override
  public String toString() {
    String s =
        switch (state) {
          case LIVE -> "";
          case RELEASED -> ", released";
          case SENT -> ", sent";
          default -> ", stale";
        };
    return kind.simpleName() + "(" + address + s + ")";
  }

  /** What the node may do to this reference on its home's behalf. */
  private final class Slot implements RefRegistry.RefSlot {
    @Override
    public void addWeight(long w) {
      synchronized (LendCore.this) {
        if (state == RefState.LIVE) {
          weight += w;
          toppingUp = false;
          return;
        }
      }
      giveBack(w);
    }

    @Override
    public void revoke(String reason) {
      LendCore.this.revoke(reason);
    }

    @Override
    public void nodeLeft(NodeId departed) {
      LendCore.this.nodeLeft(departed);
    }

    @Override
    public Census.Holding holding(NodeId self, NodeId home) {
      if (!address.node().equals(home)) {
        return null;
      }
      synchronized (LendCore.this) {
        long held = weight + heldBack;
        if ((state != RefState.LIVE && state != RefState.SUSPECT) || held <= 0) {
          return null;
        }
        return new Census.Holding(self, address.object(), address.color(), held);
      }
    }
  }
}
