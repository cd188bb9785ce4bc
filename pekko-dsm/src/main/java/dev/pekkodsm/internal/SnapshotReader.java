package dev.pekkodsm.internal;

import dev.pekkodsm.CorruptSnapshotException;
import dev.pekkodsm.DsmException;
import dev.pekkodsm.DsmTimeoutException;
import dev.pekkodsm.StaleReferenceException;
import dev.pekkodsm.coherence.GlobalAddress;
import dev.pekkodsm.coherence.NodeId;
import dev.pekkodsm.coherence.ReadCache;
import dev.pekkodsm.coherence.home.HomeReply;
import dev.pekkodsm.coherence.home.HomeRequest;
import dev.pekkodsm.memory.PeerReader;
import dev.pekkodsm.memory.ReadBuffer;
import dev.pekkodsm.memory.ReadStatus;
import dev.pekkodsm.memory.SnapshotArena;
import dev.pekkodsm.serialization.SnapshotFormatException;
import dev.pekkodsm.serialization.internal.KryoPool;
import dev.pekkodsm.serialization.internal.Purpose;
import dev.pekkodsm.serialization.internal.SnapshotCodec;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;

/**
 * Reads snapshots one-sided, from a peer's arena or this node's own, checks them, decodes them, and
 * maps every outcome that is not a value to the exception a caller can act on. Decoded copies of
 * other nodes' objects go to the read cache, keyed by colored address.
 *
 * <p>Thread-safe; each thread reads into its own buffer.
 */
public final class SnapshotReader {

  /** The latest snapshot of an object rewritten in place, and its version. */
  public record Latest(Object value, int version) {}

  private final NodeId self;
  private final KryoPool kryo;
  private final SnapshotArena arena;
  private final ReadCache cache;
  private final PeerDirectory peers;
  private final HomeProxy homes;
  private final Metrics metrics;
  private final Errors errors;
  private final Duration readTimeout;
  private final ThreadLocal<ReadBuffer> buffers =
      ThreadLocal.withInitial(() -> new ReadBuffer(4096));

  SnapshotReader(
      NodeId self,
      KryoPool kryo,
      SnapshotArena arena,
      ReadCache cache,
      PeerDirectory peers,
      HomeProxy homes,
      Metrics metrics,
      Errors errors,
      Duration readTimeout) {
    this.self = self;
    this.kryo = kryo;
    this.arena = arena;
    this.cache = cache;
    this.peers = peers;
    this.homes = homes;
    this.metrics = metrics;
    this.errors = errors;
    this.readTimeout = readTimeout;
  }

  // ---------------------------------------------------------------- colored snapshots

  /**
   * Pins the cached copy of {@code address}, reading it one-sided from its home if it is not
   * cached; never a copy of another color. Completes at once unless the peer's arena endpoint is
   * still unknown.
   *
   * <p>Fails with {@link StaleReferenceException} if the home no longer has that color, {@code
   * ObjectLostException} if the home left the cluster, {@link CorruptSnapshotException} if the
   * bytes failed their checks.
   */
  public CompletableFuture<ReadCache.Entry> pin(GlobalAddress address, long locator) {
    ReadCache.Entry hit = cache.pin(address);
    if (hit != null) {
      metrics.cacheHits.increment();
      return CompletableFuture.completedFuture(hit);
    }
    if (peers.isDeparted(address.node())) {
      return CompletableFuture.failedFuture(errors.lost(address));
    }
    CompletableFuture<PeerReader> reader = peers.reader(address.node());
    if (reader.isDone() && !reader.isCompletedExceptionally()) {
      try {
        return CompletableFuture.completedFuture(readInto(reader.join(), address, locator));
      } catch (RuntimeException e) {
        return CompletableFuture.failedFuture(e);
      }
    }
    return reader.handle(
        (r, failure) -> {
          if (failure != null) {
            throw peers.isDeparted(address.node())
                ? errors.lost(address)
                : new DsmException(
                    address,
                    "cannot read " + address + ": " + Futures.unwrap(failure).getMessage(),
                    failure);
          }
          return readInto(r, address, locator);
        });
  }

  private ReadCache.Entry readInto(PeerReader reader, GlobalAddress address, long locator) {
    ReadBuffer buffer = buffers.get();
    ReadStatus status = reader.read(locator, address.object(), address.color(), buffer, deadline());
    switch (status) {
      case OK -> {
        metrics.oneSidedRead(reader, buffer.length());
        Object value;
        try {
          value = decode(buffer, Purpose.SNAPSHOT);
        } catch (SnapshotFormatException e) {
          throw new CorruptSnapshotException(
              address,
              "the snapshot of "
                  + address
                  + " passed its checksum but cannot be decoded ("
                  + e.getMessage()
                  + "); are the class registries of "
                  + self
                  + " and "
                  + address.node()
                  + " the same?",
              e);
        }
        return cache.install(address, value, buffer.length());
      }
      case FREED, STALE -> {
        metrics.staleRejections.increment();
        if (peers.isDeparted(address.node())) {
          throw errors.lost(address);
        }
        throw new StaleReferenceException(
            address,
            "object "
                + address.objectName()
                + " no longer has color "
                + address.color()
                + " at its home (it was written, moved or dropped); ask its owner for a new "
                + "reference");
      }
      default -> throw unreadable(address, status);
    }
  }

  /** Pins the cached copy of {@code address} if there is one; null otherwise. */
  public ReadCache.Entry pinCached(GlobalAddress address) {
    return cache.pin(address);
  }

  /** Unpins a cache entry pinned by {@link #pin} or {@link #pinCached}. */
  public void unpin(ReadCache.Entry entry) {
    cache.unpin(entry);
  }

  // ---------------------------------------------------------------- snapshots rewritten in place

  /**
   * Reads the latest snapshot of an object whose home rewrites it in place, one-sided (from this
   * node's own arena if it is the home). Fails with {@link StaleReferenceException} if the slot was
   * given up (the snapshot outgrew it, or the object is gone): ask the home where it is now.
   */
  public CompletableFuture<Latest> readLatest(GlobalAddress address, long locator) {
    return readLatest(address, locator, false);
  }

  /**
   * {@link #readLatest}, for a caller that only reads the value: a version this node already
   * decoded is not decoded again. The copy is checked as always; then the version in its header,
   * with the object, is a colored address no other content will ever have, and the value decoded
   * for it is kept in the read cache and shared by every such read here. The value must not be
   * modified.
   */
  public CompletableFuture<Latest> readShared(GlobalAddress address, long locator) {
    return readLatest(address, locator, true);
  }

  private CompletableFuture<Latest> readLatest(
      GlobalAddress address, long locator, boolean shared) {
    if (address.node().equals(self)) {
      try {
        Latest known = shared ? known(address, arena.peekColor(locator, address.object())) : null;
        if (known != null) {
          return CompletableFuture.completedFuture(known);
        }
        ReadStatus status =
            arena.read(locator, address.object(), SnapshotCodec.ANY_COLOR, buffers.get());
        return CompletableFuture.completedFuture(decodeLatest(address, status, shared));
      } catch (RuntimeException e) {
        return CompletableFuture.failedFuture(e);
      }
    }
    if (peers.isDeparted(address.node())) {
      return CompletableFuture.failedFuture(errors.lost(address));
    }
    return peers
        .reader(address.node())
        .thenApply(
            reader -> {
              long deadlineNs = deadline();
              if (shared) {
                Latest known =
                    known(address, reader.peekColor(locator, address.object(), deadlineNs));
                if (known != null) {
                  metrics.oneSidedRead(reader, SnapshotCodec.HEADER_BYTES);
                  return known;
                }
              }
              ReadStatus status =
                  reader.read(
                      locator,
                      address.object(),
                      SnapshotCodec.ANY_COLOR,
                      buffers.get(),
                      deadlineNs);
              if (status == ReadStatus.OK) {
                metrics.oneSidedRead(reader, buffers.get().length());
              }
              return decodeLatest(address, status, shared);
            });
  }

  /**
   * The value of {@code address}'s object at version {@code color} if this node has decoded that
   * version before, else null ({@code color} is -1 when the transport could not tell it).
   */
  private Latest known(GlobalAddress address, long color) {
    if (color < 0) {
      return null;
    }
    int version = (int) color;
    ReadCache.Entry entry = cache.peek(address.withColor(version));
    if (entry == null) {
      return null;
    }
    metrics.cacheHits.increment();
    return new Latest(entry.value(), version);
  }

  private Latest decodeLatest(GlobalAddress address, ReadStatus status, boolean shared) {
    ReadBuffer buffer = buffers.get();
    if (status == ReadStatus.OK) {
      int version = SnapshotCodec.color(buffer.bytes(), 0);
      GlobalAddress colored = shared ? address.withColor(version) : null;
      if (shared) {
        ReadCache.Entry known = cache.peek(colored);
        if (known != null) {
          metrics.cacheHits.increment();
          return new Latest(known.value(), version);
        }
      }
      Object value = decode(buffer, Purpose.SNAPSHOT);
      if (shared) {
        cache.offer(colored, value, buffer.length());
      }
      return new Latest(value, version);
    }
    if (status == ReadStatus.FREED || status == ReadStatus.STALE) {
      if (peers.isDeparted(address.node())) {
        throw errors.lost(address);
      }
      throw new StaleReferenceException(
          address, "the snapshot of " + address.objectName() + " is no longer at this slot");
    }
    throw unreadable(address, status);
  }

  // ---------------------------------------------------------------- large moves

  /**
   * Copies a large moved value out of its old home's arena, then tells the home to free the slot.
   */
  public CompletableFuture<Object> fetchMoved(GlobalAddress from, HomeReply.HandedOverAt at) {
    return peers
        .reader(from.node())
        .handle(
            (reader, failure) -> {
              ReadStatus status = ReadStatus.UNAVAILABLE;
              ReadBuffer buffer = new ReadBuffer(at.frameBytes());
              if (failure == null) {
                status = reader.read(at.locator(), from.object(), at.color(), buffer, deadline());
              }
              homes.tell(
                  new HomeRequest.Collected(from.node().value(), from.object(), at.locator()));
              if (status != ReadStatus.OK) {
                if (peers.isDeparted(from.node())) {
                  throw errors.lost(from);
                }
                throw new CorruptSnapshotException(
                    from,
                    "the moved value of "
                        + from
                        + " could not be read from its old home ("
                        + status
                        + "); the object is lost",
                    failure);
              }
              metrics.oneSidedRead(reader, buffer.length());
              return decode(buffer, Purpose.MOVE);
            });
  }

  // ---------------------------------------------------------------- decoding and errors

  private long deadline() {
    return System.nanoTime() + readTimeout.toNanos();
  }

  /** The value in a checked frame: Kryo sees only the payload after the header. */
  private Object decode(ReadBuffer buffer, Purpose purpose) {
    return kryo.fromBytes(
        buffer.bytes(),
        SnapshotCodec.HEADER_BYTES,
        buffer.length() - SnapshotCodec.HEADER_BYTES,
        purpose);
  }

  /** The exception for a one-sided read that ended in anything but a copy or a freed slot. */
  private RuntimeException unreadable(GlobalAddress address, ReadStatus status) {
    if (peers.isDeparted(address.node())) {
      return errors.lost(address);
    }
    return switch (status) {
      case UNAVAILABLE ->
          new DsmException(
              address, "cannot read the arena of " + address.node() + " (its transport is down)");
      case TIMED_OUT ->
          new DsmTimeoutException(
              address,
              address.node() + " did not answer the read of " + address + " in time",
              null);
      case CONTENDED ->
          new DsmTimeoutException(
              address, "the snapshot slot of " + address + " stayed locked by a writer", null);
      default ->
          new CorruptSnapshotException(
              address,
              "the snapshot of " + address + " at its home failed its checks (" + status + ")",
              null);
    };
  }
}
