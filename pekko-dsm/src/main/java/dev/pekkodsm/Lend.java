package dev.pekkodsm;

import dev.pekkodsm.coherence.GlobalAddress;
import dev.pekkodsm.coherence.LendLedger;
import dev.pekkodsm.coherence.NodeId;
import dev.pekkodsm.coherence.OwnedObject;
import dev.pekkodsm.coherence.ReadCache;
import dev.pekkodsm.internal.DsmNode;
import dev.pekkodsm.internal.Protocol;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * The core shared by the handles that hold weight on an object: a lend (behind {@link DRef}) or a
 * share of ownership (behind {@code DArc} and the other shared handles). It knows the object's
 * address and snapshot, holds the weight the home counts, reads the value (the live one on the
 * home, a cached one-sided copy elsewhere), copies itself by splitting its weight, moves with a
 * message, and gives its weight back when released.
 *
 * <p>Thread-safe.
 *
 * @param <T> the value's type
 */
final class Lend<T> {

  enum Kind {
    /** Lent by an object homed on this node: {@code get()} returns the live value. */
    LENT_LOCAL,
    /** Lent by an object homed elsewhere: read one-sided into the cache. */
    LENT_REMOTE,
    /** A scoped shared borrow of a box on this node. */
    SCOPED
  }

  private static final int LIVE = 0;
  private static final int RELEASED = 1;
  private static final int REVOKED = 2;
  private static final int SENT = 3;

  /** Sent by a node that then left: must be confirmed by the home before it is read again. */
  private static final int SUSPECT = 4;

  private final DsmNode node;
  private final String typeName; // the public handle's name, for messages
  private final Kind kind;
  private final GlobalAddress address;
  private final long locator;
  private final int frameBytes;
  private final OwnedObject local; // LENT_LOCAL
  private final T localValue; // LENT_LOCAL and local SCOPED: stable while the reference lives
  private final Runnable endScope; // SCOPED
  private final long refId; // LENT_REMOTE
  private final long fingerprint; // debug: the value's hash when first read
  private final NodeId sender; // LENT_REMOTE: the node it came from, or null if lent directly
  private volatile int state = LIVE;
  private ReadCache.Entry entry; // LENT_REMOTE memo; racy reads are safe (final fields)
  private long weight; // guarded by this
  private String revokedBecause; // guarded by this
  private long loadedFingerprint; // guarded by this; debug: hash of a remote value when read

  private Lend(
      DsmNode node,
      String typeName,
      Kind kind,
      GlobalAddress address,
      long locator,
      int frameBytes,
      OwnedObject local,
      T localValue,
      ReadCache.Entry entry,
      Runnable endScope,
      long weight,
      NodeId sender) {
    this.node = node;
    this.typeName = typeName;
    this.sender = sender;
    this.kind = kind;
    this.address = address;
    this.locator = locator;
    this.frameBytes = frameBytes;
    this.local = local;
    this.localValue = localValue;
    this.entry = entry;
    this.endScope = endScope;
    this.weight = weight;
    this.refId = kind == Kind.LENT_REMOTE ? node.registerRef(new Slot()) : 0;
    this.fingerprint =
        node.settings().detectSharedMutation && localValue != null
            ? node.fingerprint(localValue)
            : 0;
  }

  @SuppressWarnings("unchecked")
  static <T> Lend<T> lentLocal(
      DsmNode node, String typeName, OwnedObject obj, GlobalAddress address, long weight) {
    return new Lend<>(
        node,
        typeName,
        Kind.LENT_LOCAL,
        address,
        0,
        0,
        obj,
        (T) obj.value(),
        null,
        null,
        weight,
        null);
  }

  static <T> Lend<T> lentRemote(
      DsmNode node,
      String typeName,
      GlobalAddress address,
      long locator,
      int frameBytes,
      long weight,
      NodeId sender) {
    return new Lend<>(
        node,
        typeName,
        Kind.LENT_REMOTE,
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

  static <T> Lend<T> scoped(
      DsmNode node, GlobalAddress address, ReadCache.Entry entry, T value, Runnable endScope) {
    // A scoped borrow of a remote box reads its pinned cache entry; the box's borrow owns the pin.
    return new Lend<>(
        node,
        "DRef",
        Kind.SCOPED,
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

  static <T> Lend<T> revoked(DsmNode node, String typeName, GlobalAddress address, String reason) {
    Lend<T> ref =
        new Lend<>(
            node, typeName, Kind.LENT_REMOTE, address, 0, 0, null, null, null, null, 0, null);
    ref.revoke(reason);
    return ref;
  }

  /** The address of the version this reference names. */
  GlobalAddress address() {
    return address;
  }

  /**
   * The value. Cheap after the first call on a node: no message, no copy.
   *
   * @throws StaleReferenceException after {@link #release()}, or if the version is gone
   * @throws ObjectLostException if the object's home left before this node read it
   */
  @SuppressWarnings("unchecked")
  T get() {
    if (state != LIVE) {
      if (state == SUSPECT) {
        node.await(confirm(), address, "confirm a reference whose sender left");
        return get();
      }
      throw stale();
    }
    T v = localValue;
    if (v != null) {
      return v;
    }
    ReadCache.Entry e = entry;
    if (e != null) {
      return (T) e.value();
    }
    return load();
  }

  /**
   * {@link #get} as a stage, for use inside actors: completes at once when the value is at hand,
   * and never blocks the caller while a peer's arena endpoint is fetched.
   */
  @SuppressWarnings("unchecked")
  CompletionStage<T> getAsync() {
    if (state == SUSPECT) {
      return node.handOff(confirm().thenCompose(ok -> getAsync().toCompletableFuture()));
    }
    if (kind != Kind.LENT_REMOTE || entry != null || state != LIVE) {
      try {
        return CompletableFuture.completedFuture(get());
      } catch (RuntimeException e) {
        return CompletableFuture.failedFuture(e);
      }
    }
    return node.handOff(
        node.pinAsync(address, locator)
            .thenApply(
                e -> {
                  boolean keep;
                  synchronized (this) {
                    keep = state == LIVE && entry == null;
                    if (keep) {
                      if (node.settings().detectSharedMutation) {
                        loadedFingerprint = node.fingerprint(e.value());
                      }
                      entry = e;
                    }
                  }
                  if (!keep) {
                    node.cache().unpin(e);
                    return get();
                  }
                  return (T) e.value();
                }));
  }

  /**
   * The node that sent this reference has left, so the home may have reclaimed it with that node's
   * others before learning it arrived here: it must be confirmed before it is read again. Not when
   * the sender was the home itself: with the home gone, no newer version can exist.
   */
  void senderLeft(NodeId departed) {
    synchronized (this) {
      if (state == LIVE && departed.equals(sender) && !departed.equals(address.node())) {
        state = SUSPECT;
      }
    }
  }

  /**
   * Asks the home whether this reference is counted (its sender left, so the home may have
   * reclaimed it before learning it arrived here): back to live if so, revoked if not.
   */
  private CompletableFuture<Void> confirm() {
    long self = node.self().value();
    return node.ask(
            address,
            replyTo ->
                new Protocol.Confirm(
                    address.node().value(), address.object(), address.color(), self, replyTo),
            node.settings().askTimeout,
            "confirm a reference to")
        .thenAccept(
            reply -> {
              if (reply instanceof Protocol.Confirmed c && c.ok()) {
                synchronized (this) {
                  if (state == SUSPECT) {
                    state = LIVE;
                  }
                }
              } else {
                String why =
                    reply instanceof Protocol.Confirmed c ? c.reason() : String.valueOf(reply);
                revoke("its sender left the cluster and the home no longer counts it: " + why);
              }
            });
  }

  @SuppressWarnings("unchecked")
  private synchronized T load() {
    if (state != LIVE) {
      throw stale();
    }
    if (entry == null) {
      ReadCache.Entry e = node.pin(address, locator);
      if (node.settings().detectSharedMutation) {
        loadedFingerprint = node.fingerprint(e.value());
      }
      entry = e;
    }
    return (T) entry.value();
  }

  private StaleReferenceException stale() {
    node.metrics().staleRejection();
    String why;
    synchronized (this) {
      why =
          switch (state) {
            case RELEASED -> "it was released";
            case SENT ->
                "it was sent to another node in a message, which holds it now (send "
                    + "copy() to keep one)";
            default -> "its home refused it (" + revokedBecause + ")";
          };
    }
    return new StaleReferenceException(
        address,
        "this "
            + typeName
            + " of object "
            + address.objectName()
            + " at color "
            + address.color()
            + " can no longer be read: "
            + why
            + "; ask the owner for a new reference");
  }

  /**
   * Another reference to the same version, released independently. Costs no message.
   *
   * @throws StaleReferenceException if this one is released
   * @throws IllegalStateException for a scoped reference from {@link DBox#borrow()}
   */
  Lend<T> copy() {
    long half = split();
    if (kind == Kind.LENT_LOCAL) {
      return new Lend<>(
          node,
          typeName,
          Kind.LENT_LOCAL,
          address,
          0,
          0,
          local,
          localValue,
          null,
          null,
          half,
          null);
    }
    Lend<T> twin = lentRemote(node, typeName, address, locator, frameBytes, half, sender);
    if (state == SUSPECT) {
      twin.senderLeft(sender);
    }
    synchronized (this) {
      ReadCache.Entry e = entry;
      if (e != null) {
        twin.entry = node.cache().pin(address);
      }
    }
    return twin;
  }

  /**
   * Splits off half this reference's weight for a copy; asks the home for more when little is left,
   * so a reference can be passed on indefinitely.
   */
  long split() {
    long half;
    long remaining;
    synchronized (this) {
      if (state != LIVE && state != SUSPECT) {
        throw stale();
      }
      if (kind == Kind.SCOPED) {
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
      half = weight / 2;
      weight -= half;
      remaining = weight;
    }
    if (remaining < LendLedger.TOP_UP_BELOW) {
      topUp();
    }
    return half;
  }

  private void topUp() {
    if (kind == Kind.LENT_LOCAL) {
      if (local.topUp(node.self(), LendLedger.INITIAL_WEIGHT, address.color())) {
        new Slot().addWeight(LendLedger.INITIAL_WEIGHT);
      }
    } else {
      long self = node.self().value();
      node.tell(
          new Protocol.Adopt(
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
   * Hands this reference's whole lend to a message being serialized: the instance is dead
   * afterwards, the receiver holds the lend.
   *
   * @return the weight that travels
   */
  long takeForSend() {
    long w;
    ReadCache.Entry e;
    synchronized (this) {
      if (state != LIVE && state != SUSPECT) {
        throw stale();
      }
      if (kind == Kind.SCOPED) {
        throw new IllegalArgumentException(
            "a DRef from borrow() is scoped to its block on this "
                + "node and cannot be sent; send one from DBox.share()");
      }
      w = weight;
      weight = 0;
      state = SENT;
      e = entry;
      entry = null;
    }
    if (kind == Kind.LENT_REMOTE) {
      node.unregisterRef(refId);
      if (e != null) {
        node.cache().unpin(e);
      }
    }
    return w;
  }

  /** Undoes {@link #takeForSend()} when the message could not be serialized after all. */
  void restoreAfterFailedSend(long w) {
    synchronized (this) {
      if (state != SENT) {
        return;
      }
      state = LIVE;
      weight = w;
    }
    if (kind == Kind.LENT_REMOTE) {
      node.registerRef(refId, new Slot());
    }
  }

  /**
   * Throws unless this handle may be used: live, or suspect and then confirmed by the home. For
   * handles whose value is not read through {@link #get()} (a mutex, an atomic).
   */
  void checkLive() {
    if (state != LIVE) {
      if (state == SUSPECT) {
        node.await(confirm(), address, "confirm a handle whose sender left");
        checkLive();
        return;
      }
      throw stale();
    }
  }

  /**
   * Asks the home where the snapshot of an object rewritten in place (a mutex, an atomic) lives
   * now: it moves to a bigger slot when it outgrows its own.
   */
  CompletableFuture<Long> locateSnapshot() {
    GlobalAddress at = address;
    return node.ask(
            at,
            replyTo -> new Protocol.Where(at.node().value(), at.object(), replyTo),
            node.settings().askTimeout,
            "locate the " + typeName)
        .thenApply(
            reply -> {
              if (reply instanceof Protocol.At a && a.locator() != 0) {
                return a.locator();
              }
              throw new ObjectLostException(
                  at, "the " + typeName + " " + at + " is gone: " + reply);
            });
  }

  /** True if this handle is live now (not released, sent, revoked or suspect). */
  boolean isLive() {
    return state == LIVE;
  }

  /** {@link #checkLive()} without blocking. */
  CompletableFuture<Void> checkLiveAsync() {
    if (state == LIVE) {
      return CompletableFuture.completedFuture(null);
    }
    if (state == SUSPECT) {
      return confirm().thenCompose(ok -> checkLiveAsync());
    }
    return CompletableFuture.failedFuture(stale());
  }

  DsmNode node() {
    return node;
  }

  Kind kind() {
    return kind;
  }

  long refId() {
    return refId;
  }

  OwnedObject localObject() {
    return local;
  }

  long locator() {
    return locator;
  }

  int frameBytes() {
    return frameBytes;
  }

  /**
   * Gives the reference back to its owner. Idempotent.
   *
   * @throws SharedMutationException in debug mode, if the value was modified while shared
   */
  void release() {
    long w;
    ReadCache.Entry e;
    long before;
    synchronized (this) {
      if (state != LIVE && state != SUSPECT) {
        return;
      }
      state = RELEASED;
      w = weight;
      weight = 0;
      e = entry;
      before = localValue != null ? fingerprint : loadedFingerprint;
    }
    long after = before == 0 ? 0 : node.fingerprint(localValue != null ? localValue : e.value());
    if (kind == Kind.LENT_REMOTE) {
      node.unregisterRef(refId);
      if (e != null) {
        node.cache().unpin(e);
      }
    }
    switch (kind) {
      case LENT_LOCAL -> local.returnLend(node.self(), w, address.color());
      case LENT_REMOTE -> giveBack(w);
      case SCOPED -> endScope.run();
    }
    if (before != after) {
      throw new SharedMutationException(
          address,
          "the value of "
              + address
              + " changed while it was shared; mutate it only inside write() or borrowMut()");
    }
  }

  private void giveBack(long w) {
    if (w > 0) {
      node.tell(
          new Protocol.Release(
              address.node().value(), address.object(), address.color(), node.self().value(), w));
    }
  }

  private void revoke(String reason) {
    ReadCache.Entry e;
    synchronized (this) {
      if (state != LIVE && state != SUSPECT) {
        return;
      }
      state = REVOKED;
      weight = 0;
      revokedBecause = reason;
      e = entry;
    }
    if (kind == Kind.LENT_REMOTE) {
      node.unregisterRef(refId);
      if (e != null) {
        node.cache().unpin(e);
      }
    }
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
    return typeName + "(" + address + s + ")";
  }

  /** What the node may do to this reference on its home's behalf. */
  private final class Slot implements DsmNode.RefSlot {
    @Override
    public void addWeight(long w) {
      synchronized (Lend.this) {
        if (state == LIVE) {
          weight += w;
          return;
        }
      }
      if (kind == Kind.LENT_LOCAL) {
        local.returnLend(node.self(), w, address.color());
      } else {
        giveBack(w);
      }
    }

    @Override
    public void revoke(String reason) {
      Lend.this.revoke(reason);
    }

    @Override
    public void senderLeft(NodeId departed) {
      Lend.this.senderLeft(departed);
    }
  }
}
