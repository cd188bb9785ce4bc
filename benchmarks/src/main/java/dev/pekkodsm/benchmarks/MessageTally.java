package dev.pekkodsm.benchmarks;

import dev.pekkodsm.testkit.LocalCluster;
import java.time.Duration;
import java.util.function.ToIntFunction;
import org.openjdk.jmh.infra.BenchmarkParams;

/**
 * Counts the DSM protocol messages that one trial's measured operations put on the wire, on every
 * node of the cluster, and prints them per operation at the end of the trial, with the snapshots
 * each node's arena holds then (an operation that leaked a slot would show here). Warmup operations
 * count too: the ratio is the same, and more operations make it exact.
 *
 * <p>Counting is one increment of a plain field per operation, far below the cost of anything it is
 * used with. Not thread-safe: for the benchmark's single thread.
 */
final class MessageTally {

  private static final Duration QUIET = Duration.ofMillis(300);

  private final LocalCluster cluster;
  private long sentBefore;
  private long ops;

  MessageTally(LocalCluster cluster) {
    this.cluster = cluster;
  }

  /**
   * Starts counting once no node has sent a DSM message for a moment, so that nothing of the setup
   * (a handle's arrival is announced to its home asynchronously) is counted as the measurement's.
   */
  void start() {
    sentBefore = cluster.awaitQuiet(QUIET);
    ops = 0;
  }

  /** Counts one measured operation. */
  void op() {
    ops++;
  }

  /** The operations counted since {@link #start()}. */
  long ops() {
    return ops;
  }

  /**
   * {@link #report(String, int)} for the method {@code params} measured, expecting {@code
   * expectedPerOp} of that method's name.
   */
  void report(BenchmarkParams params, ToIntFunction<String> expectedPerOp) {
    String benchmark = params.getBenchmark();
    String method = benchmark.substring(benchmark.lastIndexOf('.') + 1);
    report(method, expectedPerOp.applyAsInt(method));
  }

  /**
   * Prints the DSM messages per operation of {@code benchmark} since {@link #start()}, against
   * {@code expectedPerOp} (negative: nothing expected, for a baseline outside the DSM).
   */
  void report(String benchmark, int expectedPerOp) {
    long messages = cluster.messagesSent() - sentBefore;
    double perOp = ops == 0 ? Double.NaN : (double) messages / ops;
    String verdict;
    if (expectedPerOp < 0) {
      verdict = "a baseline: its messages are not the DSM's";
    } else if (messages == (long) expectedPerOp * ops) {
      verdict = "as designed: " + expectedPerOp;
    } else {
      verdict = "UNEXPECTED: expected " + expectedPerOp;
    }
    StringBuilder slots = new StringBuilder();
    for (int i = 0; i < cluster.size(); i++) {
      slots.append(i == 0 ? "" : ", ").append("node ").append(i).append(' ');
      slots.append(cluster.dsm(i).counters().arenaSlots());
    }
    System.out.printf(
        "%nDSM MESSAGES PER OPERATION of %s: %.3f (%s)%n"
            + "  %d messages over %d operations; arena slots live: %s%n",
        benchmark, perOp, verdict, messages, ops, slots);
  }
}
