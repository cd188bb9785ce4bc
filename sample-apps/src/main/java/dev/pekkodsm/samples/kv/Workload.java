package dev.pekkodsm.samples.kv;

import java.time.Duration;

/**
 * What the client threads do: YCSB-style GETs and SETs of {@link KvSpec#keys()} keys chosen by a
 * zipfian distribution (constant {@code zipf}; {@code 0} = uniform), {@code readRatio} of them
 * GETs, by {@code threadsPerNode} threads on every node, for {@code warmup} then {@code duration}.
 * Runs with the same {@code seed} choose the same keys in the same order per thread.
 */
public record Workload(
    double readRatio,
    double zipf,
    int threadsPerNode,
    Duration warmup,
    Duration duration,
    long seed) {

  /** YCSB workload A: update heavy. */
  public static final double YCSB_A = 0.5;

  /** YCSB workload B: read mostly. */
  public static final double YCSB_B = 0.95;

  /** YCSB workload C: read only. */
  public static final double YCSB_C = 1.0;

  /** DRust's KV workload: 90 % GETs. */
  public static final double DRUST = 0.9;

  /** Checks the values. */
  public Workload {
    if (!(readRatio >= 0 && readRatio <= 1)) {
      throw new IllegalArgumentException("readRatio=" + readRatio + " must be within [0, 1]");
    }
    if (!(zipf >= 0 && zipf < 1)) {
      throw new IllegalArgumentException(
          "zipf=" + zipf + " must be within [0, 1) (0 = uniform; YCSB uses 0.99)");
    }
    if (threadsPerNode <= 0) {
      throw new IllegalArgumentException("threadsPerNode=" + threadsPerNode + " must be > 0");
    }
    if (warmup.isNegative()) {
      throw new IllegalArgumentException("warmup=" + warmup + " must not be negative");
    }
    if (duration.isNegative() || duration.isZero()) {
      throw new IllegalArgumentException("duration=" + duration + " must be > 0");
    }
  }
}
