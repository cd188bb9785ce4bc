package dev.pekkodsm.samples.chaos;

import dev.pekkodsm.ObjectLostException;
import dev.pekkodsm.samples.kv.DsmKvStore;
import dev.pekkodsm.samples.kv.KvValues;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The clients of a chaos run, all in the driver's JVM, on one store handle: they load every key,
 * run the workload until told to stop (carrying on through failures: an operation that throws is
 * recorded and the client goes on with its next one), and read every key at the end. Every
 * operation's invocation and return go into the {@link History}; every SET writes a version no
 * other SET of the run writes.
 */
final class ChaosClients {

  /** How often the final reads retry a key whose read failed with a transient error. */
  private static final long RETRY_MS = 200;

  private final DsmKvStore<Long, byte[]> store;
  private final History history;
  private final int keys;
  private final int valueBytes;
  private final AtomicLong versions = new AtomicLong(1);
  private final List<Thread> threads = new ArrayList<>();
  private volatile boolean stopped;

  ChaosClients(DsmKvStore<Long, byte[]> store, History history, int keys, int valueBytes) {
    this.store = store;
    this.history = history;
    this.keys = keys;
    this.valueBytes = valueBytes;
  }

  /**
   * Stores every key once, from {@code loaders} clients, and returns when all have returned; a SET
   * that fails is recorded like any other.
   *
   * @throws IllegalStateException if the load does not finish within {@code limit}
   */
  void load(int loaders, Duration limit) throws InterruptedException {
    List<Thread> loading = new ArrayList<>();
    for (int t = 0; t < loaders; t++) {
      int first = t;
      History.Log log = history.newClient();
      Thread thread =
          new Thread(
              () -> {
                for (long key = first; key < keys; key += loaders) {
                  set(log, key);
                }
              },
              "chaos-loader-" + t);
      thread.setDaemon(true);
      loading.add(thread);
      thread.start();
    }
    joinAll(loading, limit, "loading " + keys + " keys");
  }

  /** Starts {@code threads} clients doing {@code readRatio} GETs of uniformly chosen keys. */
  void start(int count, double readRatio, long seed) {
    for (int t = 0; t < count; t++) {
      History.Log log = history.newClient();
      SplittableRandom random = new SplittableRandom(seed * 1_000_003L + t);
      Thread thread =
          new Thread(
              () -> {
                while (!stopped) {
                  long key = random.nextInt(keys);
                  if (random.nextDouble() < readRatio) {
                    get(log, key);
                  } else {
                    set(log, key);
                  }
                }
              },
              "chaos-client-" + t);
      thread.setDaemon(true);
      threads.add(thread);
      thread.start();
    }
  }

  /**
   * Tells the clients to stop and waits up to {@code limit} for each to finish its operation; a
   * client still inside one then is left behind (a daemon thread), and its operation stays in the
   * history as never returned.
   *
   * @return how many clients were left behind
   */
  int stop(Duration limit) throws InterruptedException {
    stopped = true;
    long deadline = System.nanoTime() + limit.toNanos();
    int stuck = 0;
    for (Thread thread : threads) {
      thread.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime())));
      stuck += thread.isAlive() ? 1 : 0;
    }
    return stuck;
  }

  /**
   * Reads every key once, in one client, after the workload; a read that fails with anything but
   * {@link ObjectLostException} (which is final) is tried again every {@value #RETRY_MS} ms until
   * {@code limit} has passed, so a key that is only slow to come back is not taken for lost.
   */
  void readAll(Duration limit) throws InterruptedException {
    History.Log log = history.newClient();
    long deadline = System.nanoTime() + limit.toNanos();
    List<Long> retry = new ArrayList<>();
    for (long key = 0; key < keys; key++) {
      if (!get(log, key)) {
        retry.add(key);
      }
    }
    while (!retry.isEmpty() && System.nanoTime() < deadline) {
      TimeUnit.MILLISECONDS.sleep(RETRY_MS);
      List<Long> again = new ArrayList<>();
      for (long key : retry) {
        if (!get(log, key)) {
          again.add(key);
        }
      }
      retry = again;
    }
  }

  /** A GET; returns whether it succeeded or failed for good ({@link ObjectLostException}). */
  private boolean get(History.Log log, long key) {
    log.invoke(Op.Kind.GET, key, 0);
    try {
      byte[] value = store.get(key);
      log.ok(
          value == null
              ? Op.ABSENT
              : KvValues.isValueOf(key, value) && KvValues.version(value) > 0
                  ? KvValues.version(value)
                  : Op.MALFORMED);
      return true;
    } catch (RuntimeException e) {
      log.fail(e);
      return e instanceof ObjectLostException;
    }
  }

  private void set(History.Log log, long key) {
    long version = versions.getAndIncrement();
    byte[] value = KvValues.of(key, version, valueBytes);
    log.invoke(Op.Kind.SET, key, version);
    try {
      store.set(key, value);
      log.ok(0);
    } catch (RuntimeException e) {
      log.fail(e);
    }
  }

  private static void joinAll(List<Thread> all, Duration limit, String what)
      throws InterruptedException {
    long deadline = System.nanoTime() + limit.toNanos();
    for (Thread thread : all) {
      thread.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime())));
      if (thread.isAlive()) {
        throw new IllegalStateException(
            what + " did not finish within " + limit.toSeconds() + " s: an operation hangs");
      }
    }
  }
}
