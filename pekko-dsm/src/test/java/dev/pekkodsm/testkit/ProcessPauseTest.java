package dev.pekkodsm.testkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pekkodsm.Dsm;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@link ProcessCluster#pause} and {@link ProcessCluster#resume} on a real process: a paused node
 * runs nothing (its state is stopped and a task sent to it does not run) for a pause shorter than
 * the failure detector tolerates, and runs the task once resumed; an exited process cannot be
 * signalled.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class ProcessPauseTest {

  /** The process state letter in {@code /proc/<pid>/stat}: T when stopped by a signal. */
  private static char state(long pid) throws Exception {
    String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
    return stat.charAt(stat.lastIndexOf(')') + 2);
  }

  @Test
  void shouldNotAnswerWhilePausedAnswerOnceResumedAndRefuseAnExitedProcess() throws Exception {
    try (ProcessCluster cluster = ProcessCluster.withProcesses(1).start()) {
      Dsm driver = cluster.driver();
      long pid = cluster.pid(0);
      assertEquals(
          7,
          driver
              .spawnOn(cluster.nodeId(0), () -> 7)
              .toCompletableFuture()
              .get(30, TimeUnit.SECONDS));
      NodeConfig.Failover failover = cluster.failover();
      assertTrue(
          failover.acceptableHeartbeatPause().compareTo(Duration.ofSeconds(3)) > 0,
          "the pause below must stay under what the detector tolerates: " + failover);

      cluster.pause(0);
      try {
        assertEquals('T', state(pid), "the process is stopped");
        CompletableFuture<Integer> task =
            driver.spawnOn(cluster.nodeId(0), () -> 8).toCompletableFuture();
        assertThrows(
            TimeoutException.class,
            () -> task.get(2, TimeUnit.SECONDS),
            "a paused process runs no task");
        assertFalse(task.isDone(), "nor fails it: it is not yet unreachable");
        cluster.resume(0);
        assertEquals(8, task.get(30, TimeUnit.SECONDS), "the resumed process runs the task");
        assertTrue(state(pid) != 'T', "the process runs again");
      } finally {
        cluster.resume(0);
      }
      assertTrue(cluster.address(0).isPresent(), "a short pause leaves the node a member");

      cluster.kill(0);
      IllegalStateException e = assertThrows(IllegalStateException.class, () -> cluster.pause(0));
      assertTrue(e.getMessage().contains("has exited"), e.getMessage());
    }
  }
}
