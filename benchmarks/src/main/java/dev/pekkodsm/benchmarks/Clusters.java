package dev.pekkodsm.benchmarks;

import dev.pekkodsm.testkit.LocalCluster;
import org.slf4j.LoggerFactory;

/** Starts the two-node clusters the benchmarks measure. */
final class Clusters {

  private Clusters() {}

  /**
   * Starts two nodes in this JVM with {@link Payload} registered and {@code extraConfig} (HOCON,
   * may be empty) on both.
   */
  static LocalCluster twoNodes(String extraConfig) {
    // Initialize logging on this thread first: if the two actor systems raced to do it, SLF4J
    // would print a replay warning into the benchmark's output.
    LoggerFactory.getILoggerFactory();
    return LocalCluster.withNodes(2)
        .register(Payload.class, Payload.REGISTRY_ID)
        .config(extraConfig)
        .start();
  }
}
