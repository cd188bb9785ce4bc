package dev.pekkodsm.samples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.pekkodsm.coherence.NodeId;
import dev.pekkodsm.testkit.ProcessCluster;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.slf4j.LoggerFactory;

/**
 * The tour in remote mode: this JVM is node 1, and nodes 2 and 3 are separate JVM processes, as
 * with {@code ./dsm tour --config conf/multi-jvm.conf} against nodes started by {@code ./dsm node}.
 * The processes get the samples' classes and registrations from this module's classpath.
 */
@Timeout(value = 240, unit = TimeUnit.SECONDS)
class TourAcrossProcessesTest {

  @Test
  void shouldRunEveryStepWithNodesTwoAndThreeInOtherProcessesAndLogNoError() {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8);
    // Errors logged by the driver, this JVM's node; the processes' go to their logs.
    Logger root = (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
    ListAppender<ILoggingEvent> logged = new ListAppender<>();
    logged.start();
    root.addAppender(logged);
    List<String> errors = new ArrayList<>();
    // Three processes, so the tour picks two of them and the cluster has a member it does not
    // drive, as a cluster met in the wild may.
    try (ProcessCluster cluster =
        ProcessCluster.withProcesses(3).config("pekko.dsm.borrow-timeout = 2s").start()) {
      try (TourNodes nodes =
          TourNodes.joined(cluster.driverSystem(), Duration.ofSeconds(60), out, () -> {})) {
        Set<NodeId> processes = Set.of(cluster.nodeId(0), cluster.nodeId(1), cluster.nodeId(2));
        assertTrue(processes.contains(nodes.id(2)) && processes.contains(nodes.id(3)));
        assertEquals(cluster.driver().self(), nodes.id(1));
        new Tour(out).run(nodes);
      }
      for (int i = 0; i < cluster.size(); i++) {
        int node = i;
        cluster
            .log(i)
            .lines()
            .filter(line -> line.contains(" ERROR "))
            .forEach(line -> errors.add("process " + node + ": " + line));
      }
    } finally {
      root.detachAppender(logged);
    }
    for (ILoggingEvent e : logged.list) {
      if (e.getLevel() == Level.ERROR) {
        errors.add("driver: " + e.getLoggerName() + " - " + e.getFormattedMessage());
      }
    }
    String said = bytes.toString(StandardCharsets.UTF_8);
    System.out.print(said); // kept in the test's output file
    TourTest.assertEveryStep(said);
    assertTrue(said.contains("on the cluster's other members"), said);
    assertEquals(List.of(), errors, "a healthy cluster logs no ERROR");
  }

  @Test
  void shouldSayHowToStartTheNodesWhenTooFewAreUp() {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8);
    try (ProcessCluster cluster = ProcessCluster.withProcesses(1).start()) {
      IllegalStateException e =
          assertThrows(
              IllegalStateException.class,
              () ->
                  TourNodes.joined(cluster.driverSystem(), Duration.ofSeconds(10), out, () -> {}));
      assertTrue(e.getMessage().startsWith("found 1 of the 2 other DSM nodes"), e.getMessage());
      assertTrue(e.getMessage().contains("./dsm node --config conf/multi-jvm.conf"));
    }
  }

  /** Joins, as the tour does, a cluster whose only seed is {@code seed}; expects a failure. */
  private static IllegalStateException joinFails(String seed, Duration wait) {
    PrintStream out = new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8);
    return assertThrows(
        IllegalStateException.class,
        () ->
            TourNodes.join(
                TourNodes.remoteConfig(List.of(), "tour-alone", null, null, List.of(seed)),
                "tour-alone",
                wait,
                out));
  }

  @Test
  void shouldSayAtOnceThatNoSeedIsListening() {
    long startNs = System.nanoTime();
    IllegalStateException e = joinFails("127.0.0.1:9", Duration.ofSeconds(60));
    long tookMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startNs);
    assertTrue(
        e.getMessage().startsWith("no seed node is listening at 127.0.0.1:9"), e.getMessage());
    assertTrue(e.getMessage().contains("./dsm node --config conf/multi-jvm.conf"));
    // Well inside the 60 s the tour would wait for a cluster to answer.
    assertTrue(tookMs < 30_000, "reported after " + tookMs + " ms");
  }

  @Test
  void shouldGiveUpJoiningWithAClearMessageWhenASeedListensButNeverAnswers() throws Exception {
    try (ServerSocket mute = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
      IllegalStateException e =
          joinFails("127.0.0.1:" + mute.getLocalPort(), Duration.ofSeconds(5));
      assertTrue(e.getMessage().contains("did not join the cluster within 5 s"), e.getMessage());
    }
  }
}
