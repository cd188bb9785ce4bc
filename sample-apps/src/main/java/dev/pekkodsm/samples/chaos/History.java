package dev.pekkodsm.samples.chaos;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Records a chaos run's history: each client has a {@link Log} it appends every operation's
 * invocation and completion to; {@link #ops()} merges them. Times come from one {@link
 * System#nanoTime()} origin.
 *
 * <p>Thread-safe: a log is written by its client's thread only, under the log's own (uncontended)
 * lock, so that {@link #ops()} can read it while the client runs, or after its thread hangs inside
 * an operation, which then appears as never completed.
 */
public final class History {

  private final long originNs;
  private final List<Log> logs = new ArrayList<>();
  private final Map<String, String> firstMessages = new ConcurrentHashMap<>();

  /** A history whose times count from now. */
  public History() {
    this.originNs = System.nanoTime();
  }

  /** Nanoseconds since the origin, now. */
  public long nowNs() {
    return System.nanoTime() - originNs;
  }

  /** A new client's log; its id is its index. */
  public synchronized Log newClient() {
    Log log = new Log(logs.size());
    logs.add(log);
    return log;
  }

  /**
   * Every operation so far, client by client, each client's in invocation order; an operation
   * invoked and not yet returned is included as never completed ({@link Op#pending}).
   */
  public synchronized List<Op> ops() {
    List<Op> all = new ArrayList<>();
    for (Log log : logs) {
      log.copyTo(all);
    }
    return all;
  }

  /** The message of the first error of each kind, for the report: what the error said. */
  public Map<String, String> firstMessages() {
    return new TreeMap<>(firstMessages);
  }

  /** One client's operations, one at a time: {@link #invoke}, then {@link #ok} or {@link #fail}. */
  public final class Log {
    private final int client;
    private final List<Op> done = new ArrayList<>();
    private Op.Kind kind;
    private long key;
    private long value;
    private long invokeNs = -1;

    private Log(int client) {
      this.client = client;
    }

    /** This client's id. */
    public int client() {
      return client;
    }

    /** An operation is invoked now ({@code value}: the version a SET writes, 0 for a GET). */
    public synchronized void invoke(Op.Kind opKind, long opKey, long opValue) {
      if (invokeNs >= 0) {
        throw new IllegalStateException("client " + client + " invoked before its last returned");
      }
      kind = opKind;
      key = opKey;
      value = opValue;
      invokeNs = nowNs();
    }

    /** The operation returned now; {@code read} is a GET's version ({@link Op#ABSENT}...). */
    public synchronized void ok(long read) {
      long now = nowNs();
      done.add(
          kind == Op.Kind.SET
              ? Op.set(client, key, value, invokeNs, now)
              : Op.get(client, key, read, invokeNs, now));
      invokeNs = -1;
    }

    /** The operation threw {@code error} now. */
    public synchronized void fail(Throwable error) {
      long now = nowNs();
      String errorKind = errorKind(error);
      done.add(Op.failed(client, key, kind, value, invokeNs, now, errorKind));
      firstMessages.computeIfAbsent(errorKind, k -> String.valueOf(unwrap(error).getMessage()));
      invokeNs = -1;
    }

    private synchronized void copyTo(List<Op> all) {
      all.addAll(done);
      if (invokeNs >= 0) {
        all.add(Op.pending(client, key, kind, value, invokeNs));
      }
    }
  }

  /** The kind of an error: its exception's simple name, past the wrappers of futures. */
  static String errorKind(Throwable error) {
    return unwrap(error).getClass().getSimpleName().intern();
  }

  private static Throwable unwrap(Throwable error) {
    Throwable t = error;
    while ((t instanceof java.util.concurrent.CompletionException
            || t instanceof java.util.concurrent.ExecutionException)
        && t.getCause() != null) {
      t = t.getCause();
    }
    return t;
  }
}
