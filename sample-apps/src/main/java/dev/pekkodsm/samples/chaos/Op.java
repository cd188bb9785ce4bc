package dev.pekkodsm.samples.chaos;

/**
 * One operation of a chaos run's history: who invoked what on which key, when, and how it ended.
 * Times are nanoseconds since the history's origin (one clock: every client runs in the driver's
 * JVM).
 *
 * @param client the client that invoked it (each client invokes one operation at a time)
 * @param key the key
 * @param kind GET or SET
 * @param value for a SET, the version it wrote (unique per SET of the run); for a completed GET,
 *     the version it read, {@link #ABSENT} if the key had no value, {@link #MALFORMED} if the bytes
 *     were no value of the key; {@link #UNKNOWN} for a GET that failed or never completed
 * @param invokeNs when it was invoked
 * @param completeNs when it returned or threw; {@link #NEVER} if it had not when the run ended
 * @param error {@code null} if it succeeded, else the kind of error it threw (the exception's
 *     simple class name, e.g. {@code ObjectLostException}); a SET that failed is in doubt: it may
 *     or may not have taken effect
 */
public record Op(
    int client, long key, Kind kind, long value, long invokeNs, long completeNs, String error) {

  /** What an operation does. */
  public enum Kind {
    GET,
    SET
  }

  /** A GET that found no value. */
  public static final long ABSENT = 0;

  /** A GET whose bytes were no value of its key (corruption, or another key's value). */
  public static final long MALFORMED = -2;

  /** The value of a GET that did not return one. */
  public static final long UNKNOWN = -1;

  /** The completion time of an operation that never returned. */
  public static final long NEVER = Long.MAX_VALUE;

  /** The error kind of an operation that never returned. */
  public static final String PENDING = "pending";

  /** Checks the values. */
  public Op {
    if (kind == Kind.SET && value <= 0) {
      throw new IllegalArgumentException("a SET writes a version > 0, not " + value);
    }
    if (completeNs != NEVER && completeNs < invokeNs) {
      throw new IllegalArgumentException(
          "completeNs=" + completeNs + " < invokeNs=" + invokeNs + " (key " + key + ")");
    }
    if (completeNs == NEVER && !PENDING.equals(error)) {
      throw new IllegalArgumentException("an operation that never returned has error=pending");
    }
  }

  /** A SET of {@code version} that succeeded. */
  public static Op set(int client, long key, long version, long invokeNs, long completeNs) {
    return new Op(client, key, Kind.SET, version, invokeNs, completeNs, null);
  }

  /** A GET that returned {@code version} ({@link #ABSENT} for nothing). */
  public static Op get(int client, long key, long version, long invokeNs, long completeNs) {
    return new Op(client, key, Kind.GET, version, invokeNs, completeNs, null);
  }

  /** An operation that threw {@code error} (for a SET, {@code value} is the version it tried). */
  public static Op failed(
      int client, long key, Kind kind, long value, long invokeNs, long completeNs, String error) {
    return new Op(
        client, key, kind, kind == Kind.GET ? UNKNOWN : value, invokeNs, completeNs, error);
  }

  /** An operation that had not returned when the run ended. */
  public static Op pending(int client, long key, Kind kind, long value, long invokeNs) {
    return new Op(client, key, kind, kind == Kind.GET ? UNKNOWN : value, invokeNs, NEVER, PENDING);
  }

  /** Whether it returned normally. */
  public boolean ok() {
    return error == null;
  }

  /** Whether it returned at all, normally or with an error. */
  public boolean completed() {
    return completeNs != NEVER;
  }

  /** How long it took, or {@link #NEVER} if it never returned. */
  public long latencyNs() {
    return completed() ? completeNs - invokeNs : NEVER;
  }
}
