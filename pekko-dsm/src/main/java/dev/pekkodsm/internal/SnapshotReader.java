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
import dev.pekkodsm.coherence.mutex.LockWord;
import dev.pekkodsm.coherence.mutex.MutexSteps;
import dev.pekkodsm.memory.ActiveValue;
import dev.pekkodsm.memory.PeerReader;
import dev.pekkodsm.memory.ReadBuffer;
import dev.pekkodsm.memory.ReadStatus;
import dev.pekkodsm.memory.SyncAccess;
import dev.pekkodsm.memory.SyncFailedException;
import dev.pekkodsm.serialization.SnapshotFormatException;
import dev.pekkodsm.serialization.internal.KryoPool;
import dev.pekkodsm.serialization.internal.Purpose;
import dev.pekkodsm.serialization.internal.SnapshotCodec;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * Reads snapshots one-sided, from a peer's arena or this node's own, checks them, decodes them, and
 * maps every outcome that is not a value to the exception a caller can act on. Decoded copies of
 * other nodes' objects go to the read cache, keyed by colored address.
 *
 * <p>Thread-safe; each thread reads into its own buffer.
 */
public final class SnapshotReader {

  private final NodeId self;
  private final KryoPool kryo;
  private final ReadCache cache;
  private final PeerDirectory peers;
  private final HomeProxy homes;
  private final Metrics metrics;
  private final Errors errors;
  private final Duration readTimeout;
  private final java.util.concurrent.ConcurrentHashMap<GlobalAddress, CountDownLatch> reading =
      new java.util.concurrent.ConcurrentHashMap<>();
  private final ThreadLocal<ReadBuffer> buffers =
      ThreadLocal.withInitial(() -> new ReadBuffer(4096));

  SnapshotReader(
      NodeId self,
      KryoPool kryo,
      ReadCache cache,
      PeerDirectory peers,
      HomeProxy homes,
      Metrics metrics,
      Errors errors,
      Duration readTimeout) {
    this.self = self;
    this.kryo = kryo;
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
    if (peers.objectsLost(address.node())) {
      return CompletableFuture.failedFuture(errors.lost(address));
    }
    CompletableFuture<PeerReader> reader = peers.reader(address.node());
    if (reader.isDone() && !reader.isCompletedExceptionally()) {
      try {
        return CompletableFuture.completedFuture(readOnce(reader.join(), address, locator));
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
          return readOnce(r, address, locator);
        });
  }

  /**
   * {@link #readInto}, once for concurrent misses of one address on this node: a thread that finds
   * another reading it waits for that read (up to the read timeout) and pins its copy, so tasks
   * that start on the same data together copy it once.
   */
  private ReadCache.Entry readOnce(PeerReader reader, GlobalAddress address, long locator) {
    CountDownLatch mine = new CountDownLatch(1);
    CountDownLatch other = reading.putIfAbsent(address, mine);
    if (other != null) {
      try {
        other.await(readTimeout.toNanos(), TimeUnit.NANOSECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      ReadCache.Entry hit = cache.pin(address);
      if (hit != null) {
        metrics.cacheHits.increment();
        return hit;
      }
      return readInto(reader, address, locator); // that read failed, or its copy is gone
    }
    try {
      return readInto(reader, address, locator);
    } finally {
      reading.remove(address, mine);
      mine.countDown();
    }
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
        if (peers.objectsLost(address.node())) {
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

  // ---------------------------------------------------------------- mutexes' values

  /**
   * The version of a mutex's value a handle last read: the read asks for the value only if the
   * committed one is another (over tcp one round trip either way, without the frame if unchanged).
   */
  public static final class MutexHint {
    private volatile long color = Long.MIN_VALUE;
    private volatile long word = MutexSteps.NOT_FREE;

    /** The lock word last seen through this handle, or {@link MutexSteps#NOT_FREE}. */
    public long word() {
      return word;
    }

    /** Notes the lock word this handle's last operation left or saw. */
    public void word(long word) {
      this.word = word;
    }
  }

  /**
   * Reads the value a mutex's last unlock committed, one-sided: the word and the slot it names in
   * one {@link SyncAccess#readActive}, the frame copied only if its version is not the one {@code
   * hint} says this handle last read, and decoded only if this node's read cache lacks it.
   */
  public Object readMutex(SyncAccess sync, GlobalAddress address, long cell, MutexHint hint) {
    long object = address.object();
    long deadlineNs = deadline();
    ReadBuffer buffer = buffers.get();
    try {
      while (true) {
        ActiveValue v =
            sync.readActive(cell, object, LockWord.ACTIVE_BIT, hint.color, buffer, deadlineNs);
        hint.word = v.word();
        if (v.known()) {
          if (LockWord.names(v.word(), (int) v.color())) {
            ReadCache.Entry known = cache.peek(address.withColor((int) v.color()));
            if (known != null) {
              metrics.cacheHits.increment();
              metrics.oneSided(sync, false, true, SnapshotCodec.HEADER_BYTES);
              return known.value();
            }
            hint.color = Long.MIN_VALUE; // no longer cached: read it whole
            continue;
          }
        } else if (v.status() == ReadStatus.OK) {
          int color = (int) v.color();
          if (LockWord.names(v.word(), color)) {
            metrics.oneSided(sync, false, true, buffer.length());
            GlobalAddress colored = address.withColor(color);
            hint.color = v.color();
            ReadCache.Entry known = cache.peek(colored);
            if (known != null) {
              metrics.cacheHits.increment();
              return known.value();
            }
            Object value = decode(buffer, Purpose.SNAPSHOT);
            cache.offer(colored, value, buffer.length());
            return value;
          }
        } else if (v.status() != ReadStatus.STALE && v.status() != ReadStatus.FREED) {
          throw unreadable(address, v.status());
        }
        // Commits overtook this read, or the value moved to new slots: look again.
        if (System.nanoTime() - deadlineNs >= 0) {
          throw unreadable(address, ReadStatus.CONTENDED);
        }
        Thread.onSpinWait();
      }
    } catch (SyncFailedException e) {
      throw syncFailed(address, e);
    }
  }

  /** The exception for a one-sided operation on a sync region that did not happen. */
  RuntimeException syncFailed(GlobalAddress address, SyncFailedException e) {
    if (peers.isDeparted(address.node())) {
      return errors.lost(address);
    }
    return switch (e.status()) {
      case NOT_THIS_OBJECT ->
          new StaleReferenceException(
              address, address.objectName() + " is gone at its home: " + e.getMessage());
      case TIMED_OUT ->
          new DsmTimeoutException(
              address, address.node() + " did not answer in time: " + e.getMessage(), e);
      default -> new DsmException(address, "cannot reach " + address + ": " + e.getMessage(), e);
    };
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
