package dev.pekkodsm.coherence.home;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import dev.pekkodsm.coherence.Timing;
import java.time.Duration;

/**
 * What a home remembers of answered and abandoned requests, so that a request sent again after a
 * late answer gets the first answer instead of a second grant: the answer of each hand-over, the
 * lends granted, and the lends and locks their requesters gave up on. Bounded in size and kept for
 * a fixed time, measured on the protocol's clock.
 *
 * <p>Thread-safe.
 */
public final class RequestMemory {

  /** A request, by the node that made it and its id there. */
  public record Key(long node, long requestId) {}

  /** A hand-over's answer, for exactly that writer and new object id. */
  private record HandOverAnswer(long requester, long newObject, HomeReply reply) {}

  private final Cache<Long, HandOverAnswer> handOvers;
  private final Cache<Key, HomeReply.Lent> lendsGranted;
  private final Cache<Key, Boolean> cancelled;

  /**
   * @param keep how long an answer or a cancellation is remembered; longer than any requester waits
   * @param maxHandOverBytes bounds the hand-over answers kept, by the bytes they carry
   * @param maxEntries bounds the lends and cancellations kept
   * @param timing the clock that ages entries
   */
  public RequestMemory(Duration keep, long maxHandOverBytes, long maxEntries, Timing timing) {
    this.handOvers =
        Caffeine.newBuilder()
            .maximumWeight(maxHandOverBytes)
            .weigher(
                (Long k, HandOverAnswer v) ->
                    v.reply() instanceof HomeReply.HandedOver h ? h.value().length + 64 : 64)
            .expireAfterWrite(keep)
            .ticker(timing::nanoTime)
            .executor(Runnable::run)
            .build();
    this.lendsGranted = bounded(keep, maxEntries, timing);
    this.cancelled = bounded(keep, maxEntries, timing);
  }

  private static <K, V> Cache<K, V> bounded(Duration keep, long maxEntries, Timing timing) {
    return Caffeine.newBuilder()
        .maximumSize(maxEntries)
        .expireAfterWrite(keep)
        .ticker(timing::nanoTime)
        .executor(Runnable::run)
        .build();
  }

  void handedOver(long object, long requester, long newObject, HomeReply reply) {
    handOvers.put(object, new HandOverAnswer(requester, newObject, reply));
  }

  /** The answer of {@code object}'s hand-over to exactly this writer and new id, or null. */
  HomeReply handOverAnswer(long object, long requester, long newObject) {
    HandOverAnswer a = handOvers.getIfPresent(object);
    return a != null && a.requester() == requester && a.newObject() == newObject ? a.reply() : null;
  }

  void lendGranted(Key key, HomeReply.Lent lent) {
    lendsGranted.put(key, lent);
  }

  HomeReply.Lent lendAlreadyGranted(Key key) {
    return lendsGranted.getIfPresent(key);
  }

  /**
   * The requester gave up on request {@code key}: remembers that, so a grant made later is undone,
   * and forgets a lend granted already, which it returns (null if none) for the caller to undo.
   */
  HomeReply.Lent cancel(Key key) {
    cancelled.put(key, Boolean.TRUE);
    HomeReply.Lent granted = lendsGranted.getIfPresent(key);
    lendsGranted.invalidate(key);
    return granted;
  }

  boolean isCancelled(Key key) {
    return cancelled.getIfPresent(key) != null;
  }
}
