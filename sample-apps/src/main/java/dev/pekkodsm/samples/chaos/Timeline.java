package dev.pekkodsm.samples.chaos;

/**
 * When a chaos run's workload ran and when its fault struck and was over, in nanoseconds of the
 * history's clock. They cut the workload into three windows, for throughput: <em>before</em> the
 * fault {@code [startNs, faultNs)}, <em>during</em> it {@code [faultNs, recoveredNs)}, and
 * <em>after</em> it {@code [recoveredNs, endNs)}. Without a fault, {@code faultNs == recoveredNs}
 * and the window during it is empty.
 *
 * @param startNs the workload began (the keys were loaded)
 * @param faultNs the fault was injected (the kill or the SIGSTOP sent)
 * @param recoveredNs the fault was over: the killed node removed from the cluster, or the paused
 *     node resumed and, if it was downed, removed
 * @param endNs the workload was told to stop
 */
public record Timeline(long startNs, long faultNs, long recoveredNs, long endNs) {

  /** Checks the order. */
  public Timeline {
    if (!(startNs <= faultNs && faultNs <= recoveredNs && recoveredNs <= endNs)) {
      throw new IllegalArgumentException(
          "expected start <= fault <= recovered <= end, got "
              + startNs
              + ", "
              + faultNs
              + ", "
              + recoveredNs
              + ", "
              + endNs);
    }
  }
}
