package dev.pekkodsm.samples.chaos;

import dev.pekkodsm.samples.kv.DsmTransport;
import dev.pekkodsm.samples.kv.KvValues;
import java.time.Duration;

/**
 * What a chaos run does: {@code nodes} node processes (the driver, whose JVM runs the clients,
 * comes on top), {@code keys} keys of {@code valueBytes} in {@code buckets} buckets, {@code
 * threads} clients doing {@code readRatio} GETs on uniformly chosen keys; {@code warmup} of
 * workload, then {@code fault} on process {@code victim}, then {@code after} more once the fault is
 * over. Validated when built, with messages that name the value.
 *
 * @param pause how long a {@link Fault#PAUSE} lasts; {@code null} to choose it from the cluster's
 *     failure detection ({@link ChaosRun#defaultPause})
 * @param removalTimeout how long to wait for the cluster to remove a killed or downed node
 * @param slack what an operation may take beyond the DSM's own deadline before it counts as hung
 * @param replication the value given to the nodes as {@code pekko.dsm.replication.factor}
 */
public record ChaosSettings(
    int nodes,
    Fault fault,
    int victim,
    Duration warmup,
    Duration pause,
    Duration after,
    Duration removalTimeout,
    int keys,
    int buckets,
    int valueBytes,
    double readRatio,
    int threads,
    DsmTransport transport,
    int replication,
    Duration slack,
    long seed) {

  /** Checks the values. */
  public ChaosSettings {
    check(
        nodes >= 2 && nodes <= 16, "nodes=%d: must be 2 to 16 (one of them is the victim)", nodes);
    check(
        victim >= 0 && victim < nodes,
        "victim=%d: must be a process index, 0 to %d",
        victim,
        nodes - 1);
    positive("warmup", warmup);
    check(pause == null || !pause.isNegative() && !pause.isZero(), "pause=%s: must be > 0", pause);
    positive("after", after);
    positive("removalTimeout", removalTimeout);
    check(keys >= 1, "keys=%d: must be at least 1", keys);
    check(buckets >= 1, "buckets=%d: must be at least 1", buckets);
    check(
        valueBytes >= KvValues.HEADER_BYTES,
        "valueBytes=%d: must be at least %d (the version every value carries)",
        valueBytes,
        KvValues.HEADER_BYTES);
    check(readRatio >= 0 && readRatio <= 1, "readRatio=%s: must be within [0, 1]", readRatio);
    check(threads >= 1, "threads=%d: must be at least 1", threads);
    check(
        replication == 0 || replication == 1,
        "replication=%d: must be 0 (one copy) or 1 (a backup)",
        replication);
    check(!slack.isNegative(), "slack=%s: must not be negative", slack);
  }

  private static void check(boolean ok, String format, Object... args) {
    if (!ok) {
      throw new IllegalArgumentException(String.format(format, args));
    }
  }

  private static void positive(String name, Duration d) {
    check(!d.isNegative() && !d.isZero(), "%s=%s: must be > 0", name, d);
  }
}
