package dev.pekkodsm.samples.chaos;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * What {@link ChaosChecker} found in a history. Times are milliseconds; throughputs are successful
 * operations per second, {@code NaN} for an empty window.
 *
 * @param ops operations in the history (load, workload and final reads)
 * @param succeeded operations that returned normally
 * @param failed operations that threw
 * @param neverCompleted operations that had not returned when the run ended
 * @param acknowledgedSets SETs that returned normally
 * @param lostSets acknowledged SETs no longer visible: the key's last read after all its writes
 *     completed returned an older value, or every such read failed
 * @param keysWithLostSets keys with at least one lost SET
 * @param keysUnchecked keys with acknowledged SETs that could not be checked for loss: no read came
 *     after all their writes had returned (or a write never returned)
 * @param reads GETs that returned
 * @param staleReads GETs that returned a value older than a SET acknowledged before they began
 * @param malformedReads GETs that returned bytes no SET of the key wrote
 * @param hungOps operations that took longer than the deadline, or never returned
 * @param deadlineMs the deadline an operation must return within (the DSM's, plus slack)
 * @param slowestOpMs the longest time an operation that returned took
 * @param slowOps operations that returned after more than {@link ChaosChecker#SLOW_NS}, hung or not
 * @param longestUnavailableMs the longest interval in which every operation on one key failed
 * @param longestUnavailableKey that key, or -1 if no operation failed
 * @param longestUnavailableToEnd whether that key was still unavailable when the run ended
 * @param keysUnavailableAtEnd keys whose last operations all failed
 * @param beforeOpsPerSec throughput before the fault
 * @param duringOpsPerSec throughput while the fault lasted
 * @param afterOpsPerSec throughput after the fault was over
 * @param errorKinds how many operations failed with each kind of error
 * @param examples the first few findings of each sort, in words
 */
public record ChaosVerdict(
    long ops,
    long succeeded,
    long failed,
    long neverCompleted,
    long acknowledgedSets,
    long lostSets,
    long keysWithLostSets,
    long keysUnchecked,
    long reads,
    long staleReads,
    long malformedReads,
    long hungOps,
    double deadlineMs,
    double slowestOpMs,
    long slowOps,
    double longestUnavailableMs,
    long longestUnavailableKey,
    boolean longestUnavailableToEnd,
    long keysUnavailableAtEnd,
    double beforeOpsPerSec,
    double duringOpsPerSec,
    double afterOpsPerSec,
    Map<String, Long> errorKinds,
    List<String> examples) {

  /** Copies the collections. */
  public ChaosVerdict {
    errorKinds = Map.copyOf(errorKinds);
    examples = List.copyOf(examples);
  }

  /** What makes the run fail: lost acknowledged SETs, stale or malformed reads, hung operations. */
  public List<String> violations() {
    List<String> found = new ArrayList<>();
    if (lostSets > 0) {
      found.add(lostSets + " acknowledged SET(s) lost, on " + keysWithLostSets + " key(s)");
    }
    if (staleReads > 0) {
      found.add(staleReads + " stale read(s)");
    }
    if (malformedReads > 0) {
      found.add(malformedReads + " malformed read(s)");
    }
    if (hungOps > 0) {
      found.add(
          hungOps
              + " operation(s) hung past the deadline of "
              + Math.round(deadlineMs)
              + " ms ("
              + neverCompleted
              + " never returned)");
    }
    return found;
  }
}
