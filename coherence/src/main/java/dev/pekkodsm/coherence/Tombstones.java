package dev.pekkodsm.coherence;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import java.time.Duration;

/**
 * What became of objects that left a node, so that a late request for one is answered precisely
 * ("moved to ...", "dropped") instead of "unknown". Bounded in count and age: a request older than
 * the tombstone's lifetime gets a generic answer.
 *
 * <p>Thread-safe.
 */
public final class Tombstones {

  /**
   * @param phase what happened
   * @param last the object's last address here
   * @param movedTo where it went, for {@link BorrowState.Phase#MOVED}; otherwise null
   */
  public record Tombstone(BorrowState.Phase phase, GlobalAddress last, GlobalAddress movedTo) {}

  private final Cache<Long, Tombstone> byObject;

  public Tombstones(long maxEntries, Duration ttl) {
    this.byObject =
        Caffeine.newBuilder()
            .maximumSize(maxEntries)
            .expireAfterWrite(ttl)
            .executor(Runnable::run)
            .build();
  }

  public void record(long objectId, Tombstone tombstone) {
    byObject.put(objectId, tombstone);
  }

  /** The tombstone of {@code objectId}, or null if none is (still) kept. */
  public Tombstone find(long objectId) {
    return byObject.getIfPresent(objectId);
  }
}
