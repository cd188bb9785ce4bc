package dev.pekkodsm.coherence;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * A node's cache of copies of remote objects, keyed by colored address.
 *
 * <p>An entry is <em>pinned</em> while a live reference on this node uses it, and pinned entries
 * are never evicted. Unpinned entries stay in a Caffeine cache bounded by bytes, so that a later
 * reference to the same colored address (no write in between) is served without a read. Entries are
 * never invalidated: an address whose object was written is simply never asked for again, and its
 * entry ages out.
 *
 * <p>Thread-safe.
 */
public final class ReadCache {

  /** A cached copy. The value is shared by every reference to this colored address here. */
  public static final class Entry {
    private final GlobalAddress address;
    private final Object value;
    private final int sizeBytes;
    private int pins; // guarded by the pinned map's bin lock

    Entry(GlobalAddress address, Object value, int sizeBytes) {
      this.address = address;
      this.value = value;
      this.sizeBytes = sizeBytes;
    }

    public GlobalAddress address() {
      return address;
    }

    public Object value() {
      return value;
    }

    public int sizeBytes() {
      return sizeBytes;
    }
  }

  private final ConcurrentHashMap<GlobalAddress, Entry> pinned = new ConcurrentHashMap<>();
  private final Cache<GlobalAddress, Entry> unpinned;
  private final LongAdder hits = new LongAdder();
  private final LongAdder misses = new LongAdder();

  /**
   * @param maxUnpinnedBytes how many bytes of unpinned copies to keep
   */
  public ReadCache(long maxUnpinnedBytes) {
    this.unpinned =
        Caffeine.newBuilder()
            .maximumWeight(maxUnpinnedBytes)
            .weigher((GlobalAddress k, Entry e) -> Math.max(1, e.sizeBytes))
            .executor(Runnable::run)
            .build();
  }

  /**
   * Pins and returns the entry for {@code address}, or returns null on a miss (then read the object
   * and {@link #install} it).
   */
  public Entry pin(GlobalAddress address) {
    Entry e =
        pinned.computeIfPresent(
            address,
            (k, v) -> {
              v.pins++;
              return v;
            });
    if (e == null) {
      Entry cold = unpinned.asMap().remove(address);
      if (cold != null) {
        // Another thread may have installed this address meanwhile; keep whichever is mapped.
        e =
            pinned.compute(
                address,
                (k, current) -> {
                  Entry x = current != null ? current : cold;
                  x.pins++;
                  return x;
                });
      }
    }
    if (e != null) {
      hits.increment();
    } else {
      misses.increment();
    }
    return e;
  }

  /**
   * The entry for {@code address} if there is one, without pinning it: for readers that use the
   * value at once and keep no reference to it.
   */
  public Entry peek(GlobalAddress address) {
    Entry e = pinned.get(address);
    if (e == null) {
      e = unpinned.getIfPresent(address);
    }
    if (e != null) {
      hits.increment();
    } else {
      misses.increment();
    }
    return e;
  }

  /** Keeps a freshly read copy, unpinned, unless one is cached for that address already. */
  public void offer(GlobalAddress address, Object value, int sizeBytes) {
    if (!pinned.containsKey(address)) {
      unpinned.asMap().putIfAbsent(address, new Entry(address, value, sizeBytes));
    }
  }

  /**
   * Installs a freshly read copy, pinned once. If another thread installed the same address
   * meanwhile, that entry is pinned and returned instead, so all references share one copy.
   */
  public Entry install(GlobalAddress address, Object value, int sizeBytes) {
    Entry fresh = new Entry(address, value, sizeBytes);
    return pinned.compute(
        address,
        (k, current) -> {
          Entry e = current != null ? current : fresh;
          e.pins++;
          return e;
        });
  }

  /** Releases one pin; the last one moves the entry to the evictable part. */
  public void unpin(Entry entry) {
    pinned.computeIfPresent(
        entry.address,
        (k, v) -> {
          if (v != entry) {
            return v;
          }
          if (--v.pins > 0) {
            return v;
          }
          unpinned.put(k, v);
          return null;
        });
  }

  /** Entries pinned by live references. */
  public int pinnedCount() {
    return pinned.size();
  }

  /** Unpinned entries currently kept. */
  public long unpinnedCount() {
    unpinned.cleanUp();
    return unpinned.estimatedSize();
  }

  /** Bytes of unpinned entries currently kept. */
  public long unpinnedBytes() {
    unpinned.cleanUp();
    return unpinned.policy().eviction().map(ev -> ev.weightedSize().orElse(0)).orElse(0L);
  }

  /** Lookups that found a copy. */
  public long hits() {
    return hits.sum();
  }

  /** Lookups that did not. */
  public long misses() {
    return misses.sum();
  }
}
