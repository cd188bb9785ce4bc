package dev.pekkodsm.testkit;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@link ProcessCluster.Builder#nodeLogLevel}: the node processes log Pekko's cluster and the DSM
 * at INFO when asked, and keep to the class path's quieter configuration otherwise.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class ProcessClusterLogLevelTest {

  /** Pekko's INFO line of a node that has started its cluster extension. */
  private static final String CLUSTER_INFO = "Started up successfully";

  @Test
  void shouldLogPekkosClusterAtInfoOnlyWhenAsked() {
    try (ProcessCluster cluster = ProcessCluster.withProcesses(1).nodeLogLevel("info").start()) {
      String log = cluster.log(0);
      assertTrue(log.contains(CLUSTER_INFO), "Pekko's cluster at INFO:\n" + log);
    }
    try (ProcessCluster cluster = ProcessCluster.withProcesses(1).start()) {
      assertFalse(cluster.log(0).contains(CLUSTER_INFO), "quiet by default:\n" + cluster.log(0));
    }
  }

  @Test
  void shouldRefuseAnUnknownLevelNamingTheChoices() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> ProcessCluster.withProcesses(1).nodeLogLevel("verbose"));
    assertTrue(e.getMessage().contains("error, warn, info, debug"), e.getMessage());
  }
}
