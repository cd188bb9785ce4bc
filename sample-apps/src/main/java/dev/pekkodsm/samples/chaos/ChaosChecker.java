package dev.pekkodsm.samples.chaos;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.LongPredicate;

/**
 * Checks a chaos run's history after the fact: a pure function of the operations, the run's {@link
 * Timeline} and the deadline, so that it can be tested on histories written by hand.
 *
 * <p>Only what is provable counts. Every SET writes a unique version, and a SET that threw is in
 * doubt: it may have taken effect, or may yet, so it is never ordered before anything. A value
 * {@code v} is <em>older</em> than an acknowledged SET {@code w} of the same key when {@code v}'s
 * SET was acknowledged before {@code w} was invoked (so every linearization orders it first), or
 * {@code v} is no value at all. Per key:
 *
 * <ul>
 *   <li><b>Stale read</b>: a GET that returned a value older than some SET acknowledged before the
 *       GET was invoked (as {@code StaleReadChecker} counts in {@code ./dsm bench kv}). A read that
 *       overlaps a write may return either value.
 *   <li><b>Lost acknowledged SET</b>: the key's <em>settled</em> reads are the GETs invoked after
 *       every SET of the key had returned (in the run, the final reads). The acknowledged SETs that
 *       no other acknowledged SET follows are the ones a correct store must still show (or a newer,
 *       in-doubt one); each is lost if the last settled read that returned gave a value older than
 *       it, or if every settled read failed (the value is never visible again). A key with a SET
 *       that never returned, or with no settled read, is not checked.
 *   <li><b>Hung operation</b>: one that took longer than the deadline, or never returned.
 *   <li><b>Unavailability</b>: a run of operations on the key, consecutive in invocation order,
 *       that all failed, from the first one's invocation to the last one's return.
 * </ul>
 *
 * <p>Throughput counts the successful operations that returned within each window of the timeline.
 */
public final class ChaosChecker {

  /** An operation that takes longer than this is slow (counted, not a finding). */
  public static final long SLOW_NS = 1_000_000_000L;

  /** Findings described in words, per sort. */
  static final int EXAMPLES_PER_SORT = 3;

  private ChaosChecker() {}

  /**
   * Checks {@code history}; an operation that took longer than {@code deadlineNs} has hung.
   *
   * @throws IllegalArgumentException if two SETs wrote the same version
   */
  public static ChaosVerdict check(List<Op> history, Timeline timeline, long deadlineNs) {
    Op[] ops = history.toArray(new Op[0]);
    Arrays.sort(ops, Comparator.comparingLong(Op::key).thenComparingLong(Op::invokeNs));
    Tally tally = new Tally(timeline.startNs());
    for (int from = 0; from < ops.length; ) {
      int to = from;
      while (to < ops.length && ops[to].key() == ops[from].key()) {
        to++;
      }
      checkKey(Arrays.copyOfRange(ops, from, to), tally);
      from = to;
    }
    long succeeded = 0;
    long failed = 0;
    long never = 0;
    long hung = 0;
    long slowest = 0;
    long slow = 0;
    long[] okInWindow = new long[3];
    Map<String, Long> errorKinds = new TreeMap<>();
    for (Op op : ops) {
      if (!op.completed()) {
        never++;
      } else if (op.ok()) {
        succeeded++;
      } else {
        failed++;
      }
      if (!op.ok()) {
        errorKinds.merge(op.error(), 1L, Long::sum);
      }
      if (op.completed()) {
        slowest = Math.max(slowest, op.latencyNs());
        slow += op.latencyNs() > SLOW_NS ? 1 : 0;
      }
      if (op.latencyNs() > deadlineNs) {
        hung++;
        tally.example(
            "hung",
            String.format(
                Locale.ROOT,
                "%s of key %d by client %d invoked at %.3f s %s",
                op.kind(),
                op.key(),
                op.client(),
                tally.at(op.invokeNs()),
                op.completed()
                    ? String.format(Locale.ROOT, "took %.3f s", seconds(op.latencyNs()))
                    : "never returned"));
      }
      if (op.ok()) {
        int window = window(op.completeNs(), timeline);
        if (window >= 0) {
          okInWindow[window]++;
        }
      }
    }
    return new ChaosVerdict(
        ops.length,
        succeeded,
        failed,
        never,
        tally.acknowledged,
        tally.lost,
        tally.keysWithLost,
        tally.unchecked,
        tally.reads,
        tally.stale,
        tally.malformed,
        hung,
        deadlineNs / 1e6,
        slowest / 1e6,
        slow,
        tally.longestUnavailableNs / 1e6,
        tally.longestUnavailableKey,
        tally.longestUnavailableToEnd,
        tally.unavailableAtEnd,
        rate(okInWindow[0], timeline.faultNs() - timeline.startNs()),
        rate(okInWindow[1], timeline.recoveredNs() - timeline.faultNs()),
        rate(okInWindow[2], timeline.endNs() - timeline.recoveredNs()),
        errorKinds,
        tally.examples());
  }

  /** What the per-key checks add up. */
  private static final class Tally {
    /** Times in the examples count from here: the start of the workload. */
    final long startNs;

    long acknowledged;
    long lost;
    long keysWithLost;
    long unchecked;
    long reads;
    long stale;
    long malformed;
    long longestUnavailableNs;
    long longestUnavailableKey = -1;
    boolean longestUnavailableToEnd;
    long unavailableAtEnd;
    final Map<String, List<String>> examples = new TreeMap<>();

    Tally(long startNs) {
      this.startNs = startNs;
    }

    /** Seconds since the start of the workload. */
    double at(long ns) {
      return (ns - startNs) / 1e9;
    }

    void example(String sort, String text) {
      List<String> some = examples.computeIfAbsent(sort, s -> new ArrayList<>());
      if (some.size() < EXAMPLES_PER_SORT) {
        some.add(sort + ": " + text);
      }
    }

    List<String> examples() {
      List<String> all = new ArrayList<>();
      examples.values().forEach(all::addAll);
      return all;
    }
  }

  /** How many operations on the keys {@code keys} accepts failed with each kind of error. */
  public static Map<String, Long> errorKinds(List<Op> history, LongPredicate keys) {
    Map<String, Long> kinds = new TreeMap<>();
    for (Op op : history) {
      if (!op.ok() && keys.test(op.key())) {
        kinds.merge(op.error(), 1L, Long::sum);
      }
    }
    return kinds;
  }

  /**
   * The longest, in milliseconds, that an operation took to fail with {@code errorKind}; 0 if none
   * did.
   */
  public static double slowestFailureMs(List<Op> history, String errorKind) {
    long slowest = 0;
    for (Op op : history) {
      if (op.completed() && errorKind.equals(op.error())) {
        slowest = Math.max(slowest, op.latencyNs());
      }
    }
    return slowest / 1e6;
  }

  /**
   * The longest, in milliseconds, that an operation on the keys {@code keys} accepts, invoked after
   * {@code invokedAfterNs}, took to fail; 0 if none failed.
   */
  public static double slowestFailureMs(List<Op> history, LongPredicate keys, long invokedAfterNs) {
    long slowest = 0;
    for (Op op : history) {
      if (op.completed() && !op.ok() && op.invokeNs() > invokedAfterNs && keys.test(op.key())) {
        slowest = Math.max(slowest, op.latencyNs());
      }
    }
    return slowest / 1e6;
  }

  /** The checks of one key's operations, sorted by invocation. */
  private static void checkKey(Op[] ops, Tally tally) {
    long key = ops[0].key();
    // Every SET of the key by version: the acknowledged ones order what they wrote.
    Map<Long, Op> sets = new HashMap<>();
    List<Op> acknowledged = new ArrayList<>();
    long settledNs = Long.MIN_VALUE;
    boolean allSetsReturned = true;
    for (Op op : ops) {
      if (op.kind() == Op.Kind.SET) {
        if (sets.put(op.value(), op) != null) {
          throw new IllegalArgumentException("two SETs of key " + key + " wrote " + op.value());
        }
        if (op.ok()) {
          acknowledged.add(op);
        }
        if (op.completed()) {
          settledNs = Math.max(settledNs, op.completeNs());
        } else {
          allSetsReturned = false;
        }
      }
    }
    tally.acknowledged += acknowledged.size();
    // Acknowledged SETs by return, with the latest invocation among those returned so far.
    acknowledged.sort(Comparator.comparingLong(Op::completeNs));
    long[] returnedNs = new long[acknowledged.size()];
    long[] latestInvokeNs = new long[acknowledged.size()];
    long latest = Long.MIN_VALUE;
    for (int i = 0; i < returnedNs.length; i++) {
      returnedNs[i] = acknowledged.get(i).completeNs();
      latest = Math.max(latest, acknowledged.get(i).invokeNs());
      latestInvokeNs[i] = latest;
    }
    Op lastSettledRead = null;
    boolean settledReadFailed = false;
    for (Op op : ops) {
      if (op.kind() != Op.Kind.GET || !op.completed()) {
        continue;
      }
      boolean settled = op.invokeNs() > settledNs;
      if (!op.ok()) {
        settledReadFailed |= settled;
        continue;
      }
      tally.reads++;
      if (op.value() == Op.MALFORMED
          || (op.value() != Op.ABSENT && !sets.containsKey(op.value()))) {
        tally.malformed++;
        tally.example("malformed", "GET of key " + key + " returned " + describe(op.value()));
        continue;
      }
      if (settled) {
        lastSettledRead = op;
      }
      // The latest invocation among SETs acknowledged before this GET was invoked.
      int before = countBelow(returnedNs, op.invokeNs());
      if (before > 0 && olderThan(op.value(), sets, latestInvokeNs[before - 1])) {
        tally.stale++;
        tally.example(
            "stale",
            String.format(
                Locale.ROOT,
                "GET of key %d invoked at %.3f s returned %s, older than a SET acknowledged"
                    + " before",
                key,
                tally.at(op.invokeNs()),
                describe(op.value())));
      }
    }
    if (!acknowledged.isEmpty()) {
      if (!allSetsReturned || (lastSettledRead == null && !settledReadFailed)) {
        tally.unchecked++;
      } else {
        long lost = 0;
        for (Op w : acknowledged) {
          boolean frontier = w.completeNs() >= latest; // no acknowledged SET began after it
          if (frontier
              && (lastSettledRead == null
                  || olderThan(lastSettledRead.value(), sets, w.invokeNs()))) {
            lost++;
            tally.example(
                "lost",
                String.format(
                    Locale.ROOT,
                    "SET of key %d to v%d acknowledged at %.3f s; %s",
                    key,
                    w.value(),
                    tally.at(w.completeNs()),
                    lastSettledRead == null
                        ? "every later read failed"
                        : "the last read returned " + describe(lastSettledRead.value())));
          }
        }
        tally.lost += lost;
        tally.keysWithLost += lost > 0 ? 1 : 0;
      }
    }
    unavailability(ops, tally);
  }

  /** Whether {@code value} is provably older than a SET invoked at {@code invokedNs}. */
  private static boolean olderThan(long value, Map<Long, Op> sets, long invokedNs) {
    if (value == Op.ABSENT) {
      return true;
    }
    Op set = sets.get(value);
    return set != null && set.ok() && set.completeNs() < invokedNs;
  }

  /**
   * The longest run of failed operations of one key, and whether it lasts to the key's end. An
   * operation that succeeded only after more than {@link #SLOW_NS} was unavailable until it
   * returned: it joins the run (or makes one) and then ends it.
   */
  private static void unavailability(Op[] ops, Tally tally) {
    long runStart = -1;
    long runEnd = -1;
    for (Op op : ops) {
      if (!op.completed()) {
        continue; // counted as hung; it neither ends nor extends a run
      }
      if (op.ok()) {
        if (op.latencyNs() > SLOW_NS) {
          runStart = runStart < 0 ? op.invokeNs() : Math.min(runStart, op.invokeNs());
          runEnd = Math.max(runEnd, op.completeNs());
        }
        if (runStart >= 0) {
          closeRun(op.key(), runEnd - runStart, false, tally);
          runStart = -1;
          runEnd = -1;
        }
      } else {
        if (runStart < 0) {
          runStart = op.invokeNs();
          runEnd = op.completeNs();
        }
        runEnd = Math.max(runEnd, op.completeNs());
      }
    }
    if (runStart >= 0) {
      tally.unavailableAtEnd++;
      closeRun(ops[0].key(), runEnd - runStart, true, tally);
    }
  }

  private static void closeRun(long key, long lengthNs, boolean toEnd, Tally tally) {
    if (lengthNs > tally.longestUnavailableNs || tally.longestUnavailableKey < 0) {
      tally.longestUnavailableNs = lengthNs;
      tally.longestUnavailableKey = key;
      tally.longestUnavailableToEnd = toEnd;
    }
  }

  /** How many of the sorted {@code values} are below {@code limit}. */
  private static int countBelow(long[] values, long limit) {
    int lo = 0;
    int hi = values.length;
    while (lo < hi) {
      int mid = (lo + hi) >>> 1;
      if (values[mid] < limit) {
        lo = mid + 1;
      } else {
        hi = mid;
      }
    }
    return lo;
  }

  /** 0 before the fault, 1 during it, 2 after it, -1 outside the workload. */
  private static int window(long ns, Timeline t) {
    if (ns < t.startNs() || ns >= t.endNs()) {
      return -1;
    }
    return ns < t.faultNs() ? 0 : ns < t.recoveredNs() ? 1 : 2;
  }

  private static double rate(long ops, long windowNs) {
    return windowNs <= 0 ? Double.NaN : ops / (windowNs / 1e9);
  }

  private static double seconds(long ns) {
    return ns / 1e9;
  }

  private static String describe(long value) {
    if (value == Op.ABSENT) {
      return "no value";
    }
    if (value == Op.MALFORMED) {
      return "malformed bytes";
    }
    return "v" + value;
  }
}
