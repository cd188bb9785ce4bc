package dev.pekkodsm.samples.kv;

import dev.pekkodsm.DMut;
import dev.pekkodsm.DMutex;
import dev.pekkodsm.DVec;
import dev.pekkodsm.Dsm;
import dev.pekkodsm.DsmTimeoutException;
import dev.pekkodsm.coherence.NodeId;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * A key-value store on pekko-dsm's public API, as a user would write it: a hash table whose buckets
 * are the mutexes of a {@link DVec}, spread round-robin over the nodes.
 *
 * <ul>
 *   <li>A GET reads its bucket one-sided ({@link DMutex#read}): no message to the bucket's node.
 *   <li>A SET or DELETE of a bucket homed on this node locks it here ({@link DMutex#lock}): no
 *       message either.
 *   <li>SETs and DELETEs of buckets homed on another node go there in batches: while one batch to a
 *       node is on its way, the writes to that node that arrive meanwhile queue up, and leave
 *       together as one task ({@link Dsm#spawnOn}) the moment it returns. The task locks each
 *       bucket at its home, where that costs no message; one request and one reply carry the whole
 *       batch. A lone write leaves at once (no timer, no added latency); under load, many writes
 *       share a round trip.
 * </ul>
 *
 * <p>Linearizable per key: a GET returns the value the last completed SET committed, because {@link
 * DMutex#read} reads the value the last unlock published, and a SET returns only after the unlock
 * that published it.
 *
 * <p>One store handle per node: create it on one node with {@link #create}, send {@link #table()}
 * (or a {@link DVec#share()} of it) to the others in a message and wrap it there with {@link
 * #over}. Thread-safe: all threads of a node share one handle. Keys and values must be registered
 * with the DSM serializer ({@code Long}, {@code String} and {@code byte[]} are out of the box).
 *
 * @param <K> key type; its {@code hashCode} must be the same on every node (true of {@code Long},
 *     {@code String}, records of those)
 * @param <V> value type
 */
public final class DsmKvStore<K, V> implements AutoCloseable {

  private static final Duration WRITE_DEADLINE = Duration.ofSeconds(30);

  private final Dsm dsm;
  private final DVec<DMutex<HashMap<K, V>>> table;
  private final List<DMutex<HashMap<K, V>>> buckets;
  private final NodeId[] homes;
  private final Map<NodeId, Batcher> batchers = new ConcurrentHashMap<>();
  private volatile boolean batching = true;

  private DsmKvStore(Dsm dsm, DVec<DMutex<HashMap<K, V>>> table) {
    this.dsm = dsm;
    this.table = table;
    this.buckets = table.toList(); // the bucket handles, resolved once
    this.homes = new NodeId[buckets.size()];
    for (int b = 0; b < homes.length; b++) {
      homes[b] = table.nodeOf(b);
    }
  }

  /** A new, empty store of {@code buckets} buckets spread over the cluster's nodes. */
  public static <K, V> DsmKvStore<K, V> create(Dsm dsm, int buckets) {
    return new DsmKvStore<>(
        dsm,
        dsm.<HashMap<K, V>>mutexVec(buckets, i -> new HashMap<>(), DVec.Placement.ROUND_ROBIN));
  }

  /** The store whose table arrived in a message on the node of {@code dsm}. */
  public static <K, V> DsmKvStore<K, V> over(Dsm dsm, DVec<DMutex<HashMap<K, V>>> table) {
    return new DsmKvStore<>(dsm, Objects.requireNonNull(table, "table"));
  }

  /** The table, to send to another node (send {@code table().share()} to keep this handle). */
  public DVec<DMutex<HashMap<K, V>>> table() {
    return table;
  }

  /** The value of {@code key}, or {@code null}; must not be modified. One one-sided read. */
  public V get(K key) {
    return buckets.get(bucketOf(key)).read(m -> m.get(key));
  }

  /** Stores {@code value} under {@code key}; returns once the bucket's home committed it. */
  public void set(K key, V value) {
    Objects.requireNonNull(value, "value");
    write(key, value, false);
  }

  /** Removes {@code key}; returns whether it was present. */
  public boolean delete(K key) {
    return write(key, null, true);
  }

  /**
   * Whether writes to other nodes travel in batches (the default) or each as its own {@link
   * DMutex#update}; for measuring what batching buys.
   */
  DsmKvStore<K, V> batching(boolean on) {
    batching = on;
    return this;
  }

  /** Number of buckets. */
  public int buckets() {
    return buckets.size();
  }

  /** Lets go of this node's handle of the table; the store is freed when every handle has. */
  @Override
  public void close() {
    table.drop();
  }

  private boolean write(K key, V value, boolean delete) {
    int b = bucketOf(key);
    if (homes[b].equals(dsm.self())) {
      try (DMut<HashMap<K, V>> bucket = buckets.get(b).lock()) {
        return apply(bucket.get(), key, value, delete);
      }
    }
    if (!batching) {
      return buckets.get(b).update(m -> apply(m, key, value, delete));
    }
    CompletableFuture<Boolean> done = new CompletableFuture<>();
    batchers
        .computeIfAbsent(homes[b], Batcher::new)
        .submit(new Pending<>(b, key, value, delete, done));
    try {
      return done.get(WRITE_DEADLINE.toMillis(), TimeUnit.MILLISECONDS);
    } catch (ExecutionException e) {
      if (e.getCause() instanceof RuntimeException r) {
        throw r;
      }
      throw new IllegalStateException(e.getCause());
    } catch (TimeoutException e) {
      throw new DsmTimeoutException(
          buckets.get(b).address(),
          "a write of " + key + " was not acknowledged within " + WRITE_DEADLINE,
          e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
  }

  private static <K, V> boolean apply(HashMap<K, V> bucket, K key, V value, boolean delete) {
    if (delete) {
      return bucket.remove(key) != null;
    }
    bucket.put(key, value);
    return true;
  }

  private int bucketOf(K key) {
    int h = Objects.requireNonNull(key, "key").hashCode();
    h ^= h >>> 16;
    h *= 0x7feb352d;
    h ^= h >>> 15;
    return Math.floorMod(h, buckets.size());
  }

  private record Pending<K, V>(
      int bucket, K key, V value, boolean delete, CompletableFuture<Boolean> done) {}

  /** The writes on their way to one node: at most one batch in flight, the rest queued. */
  private final class Batcher {
    private final NodeId home;
    private final ArrayDeque<Pending<K, V>> queue = new ArrayDeque<>();
    private boolean inFlight;

    Batcher(NodeId home) {
      this.home = home;
    }

    void submit(Pending<K, V> write) {
      List<Pending<K, V>> batch;
      synchronized (this) {
        queue.add(write);
        if (inFlight) {
          return; // leaves with the next batch, when the one in flight returns
        }
        inFlight = true;
        batch = drain();
      }
      send(batch);
    }

    private List<Pending<K, V>> drain() {
      List<Pending<K, V>> batch = new ArrayList<>(queue);
      queue.clear();
      return batch;
    }

    private void send(List<Pending<K, V>> batch) {
      if (batch.size() == 1) {
        // Alone: the function goes to the bucket itself, the cheapest round trip there is.
        Pending<K, V> w = batch.get(0);
        K key = w.key();
        V value = w.value();
        boolean delete = w.delete();
        CompletionStage<Boolean> one;
        try {
          one = buckets.get(w.bucket()).updateAsync(m -> apply(m, key, value, delete));
        } catch (RuntimeException e) {
          one = CompletableFuture.failedFuture(e);
        }
        one.whenComplete((present, failure) -> finished(batch, failure, i -> present));
        return;
      }
      // What the task takes to the home: a handle per distinct bucket (its own share of the
      // mutex, let go of there, at the home, which costs no message), and the writes.
      ArrayList<DMutex<HashMap<K, V>>> handles = new ArrayList<>();
      Map<Integer, Integer> slot = new HashMap<>();
      int[] which = new int[batch.size()];
      ArrayList<K> keys = new ArrayList<>(batch.size());
      ArrayList<V> values = new ArrayList<>(batch.size());
      boolean[] deletes = new boolean[batch.size()];
      for (int i = 0; i < batch.size(); i++) {
        Pending<K, V> w = batch.get(i);
        which[i] =
            slot.computeIfAbsent(
                w.bucket(),
                b -> {
                  handles.add(buckets.get(b).clone());
                  return handles.size() - 1;
                });
        keys.add(w.key());
        values.add(w.value());
        deletes[i] = w.delete();
      }
      CompletionStage<boolean[]> sent;
      try {
        sent =
            dsm.spawnOn(
                home,
                () -> {
                  boolean[] results = new boolean[which.length];
                  for (int i = 0; i < which.length; i++) {
                    try (DMut<HashMap<K, V>> bucket = handles.get(which[i]).lock()) {
                      results[i] = apply(bucket.get(), keys.get(i), values.get(i), deletes[i]);
                    }
                  }
                  return results;
                });
      } catch (RuntimeException e) {
        handles.forEach(DMutex::drop);
        sent = CompletableFuture.failedFuture(e);
      }
      sent.whenComplete((results, failure) -> finished(batch, failure, i -> results[i]));
    }

    /** Completes a batch's writes, then sends what queued meanwhile, if anything. */
    private void finished(
        List<Pending<K, V>> batch, Throwable failure, java.util.function.IntPredicate result) {
      for (int i = 0; i < batch.size(); i++) {
        if (failure != null) {
          batch.get(i).done().completeExceptionally(unwrap(failure));
        } else {
          batch.get(i).done().complete(result.test(i));
        }
      }
      List<Pending<K, V>> next;
      synchronized (this) {
        if (queue.isEmpty()) {
          inFlight = false;
          return;
        }
        next = drain();
      }
      send(next);
    }
  }

  private static Throwable unwrap(Throwable t) {
    return t instanceof CompletionException && t.getCause() != null ? t.getCause() : t;
  }
}
