package dev.pekkodsm.testkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.Address;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Down;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * What a node process leaves behind and how it exits, on separate JVMs: SIGTERM leaves and removes
 * its arena (exit 0); kill -9 leaves its arena until the next node starting on the host removes it
 * (and only it); a node the cluster downs exits 1 with one line saying why.
 */
@Timeout(value = 240, unit = TimeUnit.SECONDS)
class NodeProcessTest {

  @Test
  void shouldCleanUpOnSigtermLeaveKilledArenasToTheNextNodeAndExitOneWhenDowned() {
    Path logs;
    try (ProcessCluster cluster = ProcessCluster.withProcesses(3).start()) {
      logs = cluster.logs();
      Path stopped = cluster.arena(1);
      Path killed = cluster.arena(2);
      Path live = cluster.arena(0);
      assertTrue(
          Files.isDirectory(stopped) && Files.isDirectory(killed) && Files.isDirectory(live));

      cluster.terminate(1);
      assertEquals(
          DsmNodeMain.EXIT_LEFT, cluster.awaitExit(1, Duration.ofSeconds(30)), cluster.log(1));
      assertFalse(Files.exists(stopped), "SIGTERM removed the arena " + stopped);

      cluster.kill(2);
      assertTrue(Files.isDirectory(killed), "kill -9 leaves the arena behind");
      try (LocalCluster next = LocalCluster.withNodes(1).start()) {
        assertFalse(Files.exists(killed), "a node starting on the host removed the dead arena");
        assertTrue(Files.isDirectory(live), "and left the live process's arena alone");
        assertTrue(Files.isDirectory(next.dsm(0).internalNode().arena().folder()));
      }

      Address address = cluster.address(0).orElseThrow();
      Cluster.get(cluster.driverSystem()).manager().tell(new Down(address));
      assertEquals(
          DsmNodeMain.EXIT_FAILED, cluster.awaitExit(0, Duration.ofSeconds(60)), cluster.log(0));
      String log = cluster.log(0);
      long lines = log.lines().filter(l -> l.contains("stopped: the cluster downed it")).count();
      assertEquals(1, lines, "one line says why it stopped:\n" + log);
      assertTrue(log.contains("exiting with code 1 so that a supervisor restarts it"), log);
      assertFalse(Files.exists(live), "a downed node removes its arena on the way out too");
    }
    assertFalse(Files.exists(logs), "the cluster's temporary folder is gone");
  }
}
