package dev.pekkodsm.testkit;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dev.pekkodsm.Dsm;
import dev.pekkodsm.coherence.NodeId;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.typed.Cluster;

/**
 * A cluster of separate JVM processes on this host, one node each ({@link DsmNodeMain}), joined by
 * a driver node inside the calling JVM, so that tests and tools can act on the cluster through the
 * driver's {@link Dsm} (tasks placed with {@code spawnOn} run in the processes).
 *
 * <p>Nodes talk Artery TCP over 127.0.0.1. Each process's output goes to {@code node-<i>.log} in
 * the cluster's log folder. Every process is killed by {@link #close()}, by a JVM shutdown hook if
 * the caller never closes, and by itself when this JVM dies (it watches its standard input).
 */
public final class ProcessCluster implements AutoCloseable {

  private final List<Process> processes;
  private final List<NodeId> ids;
  private final ActorSystem<Void> driver;
  private final Path logs;
  private final Thread reaper;

  private ProcessCluster(
      List<Process> processes, List<NodeId> ids, ActorSystem<Void> driver, Path logs) {
    this.processes = processes;
    this.ids = ids;
    this.driver = driver;
    this.logs = logs;
    this.reaper = new Thread(this::destroyAll, "pekko-dsm-process-cluster-reaper");
    Runtime.getRuntime().addShutdownHook(reaper);
  }

  /** A builder of a cluster with {@code nodes} processes (the driver comes on top). */
  public static Builder withProcesses(int nodes) {
    return new Builder(nodes);
  }

  /** Builds a {@link ProcessCluster}. */
  public static final class Builder {
    private final int nodes;
    private Config config = ConfigFactory.parseString(BASE);
    private final Map<Integer, Config> perNode = new HashMap<>();
    private Duration timeout = Duration.ofSeconds(90);
    private final List<String> jvmOptions =
        new ArrayList<>(
            // Several JVMs share this host's cores: small heaps, the serial collector and the
            // quick compiler keep start-up from starving the cluster's heartbeats.
            List.of("-Xmx384m", "-Xss512k", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1"));
    private Path logs;

    Builder(int nodes) {
      if (nodes < 1) {
        throw new IllegalArgumentException("nodes=" + nodes + " must be >= 1");
      }
      this.nodes = nodes;
    }

    /** HOCON for every node, the driver included. */
    public Builder config(String hocon) {
      config = ConfigFactory.parseString(hocon).withFallback(config);
      return this;
    }

    /** HOCON for process {@code index} only. */
    public Builder nodeConfig(int index, String hocon) {
      perNode.merge(
          index, ConfigFactory.parseString(hocon), (old, extra) -> extra.withFallback(old));
      return this;
    }

    /** How long the whole cluster may take to come up. */
    public Builder startTimeout(Duration startTimeout) {
      this.timeout = startTimeout;
      return this;
    }

    /** Where the processes' logs go (a fresh temporary folder by default). */
    public Builder logs(Path folder) {
      this.logs = folder;
      return this;
    }

    /** Starts the processes and the driver, and waits until every node is Up and ready. */
    public ProcessCluster start() {
      long deadline = System.nanoTime() + timeout.toNanos();
      List<Process> started = new ArrayList<>();
      ActorSystem<Void> driver = null;
      try {
        Path folder = logs != null ? logs : Files.createTempDirectory("pekko-dsm-cluster-");
        Files.createDirectories(folder);
        int[] ports = freePorts(nodes + 1);
        String seed = "127.0.0.1:" + ports[0];
        List<CompletableFuture<NodeId>> ready = new ArrayList<>();
        for (int i = 0; i < nodes; i++) {
          Path conf = folder.resolve("node-" + i + ".conf");
          Config own = perNode.getOrDefault(i, ConfigFactory.empty()).withFallback(config);
          Files.writeString(conf, render(own), StandardCharsets.UTF_8);
          List<String> command = new ArrayList<>();
          command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
          command.addAll(jvmOptions);
          command.add("-cp");
          command.add(System.getProperty("java.class.path"));
          command.add(DsmNodeMain.class.getName());
          command.addAll(
              List.of(
                  "--config",
                  conf.toString(),
                  "--name",
                  SYSTEM,
                  "--host",
                  "127.0.0.1",
                  "--port",
                  String.valueOf(ports[i]),
                  "--seed",
                  seed,
                  "--stdin-watch"));
          Path log = folder.resolve("node-" + i + ".log");
          Process process =
              new ProcessBuilder(command)
                  .redirectErrorStream(true)
                  .redirectInput(ProcessBuilder.Redirect.PIPE)
                  .start();
          started.add(process);
          ready.add(watchOutput(process, log));
        }
        Config driverConfig =
            ConfigFactory.parseString(
                    "pekko.remote.artery.canonical.hostname = \"127.0.0.1\"\n"
                        + "pekko.remote.artery.canonical.port = "
                        + ports[nodes]
                        + "\npekko.cluster.seed-nodes = [\"pekko://"
                        + SYSTEM
                        + "@"
                        + seed
                        + "\"]")
                .withFallback(config)
                .withFallback(ConfigFactory.load())
                .resolve();
        driver = ActorSystem.create(Behaviors.empty(), SYSTEM, driverConfig);
        // Sharding's coordinator reads its state from every member: the driver's DSM (and so
        // its shard region) must start now, not after the processes report ready.
        CompletableFuture<Void> driverReady = Dsm.get(driver).ready().toCompletableFuture();
        List<NodeId> ids = new ArrayList<>();
        for (int i = 0; i < nodes; i++) {
          long left = Math.max(1, deadline - System.nanoTime());
          try {
            ids.add(ready.get(i).get(left, TimeUnit.NANOSECONDS));
          } catch (Exception e) {
            throw new IllegalStateException(
                "process " + i + " did not become ready: " + e + "\n" + tail(folder, i), e);
          }
        }
        driverReady.get(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
        ProcessCluster cluster = new ProcessCluster(started, ids, driver, folder);
        while (!cluster.allUp()) {
          if (System.nanoTime() - deadline > 0) {
            cluster.close();
            throw new IllegalStateException("not all " + (nodes + 1) + " nodes came Up");
          }
          Thread.sleep(50);
        }
        for (NodeId id : ids) {
          Dsm.get(driver)
              .internalNode()
              .awaitPeer(id)
              .get(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
        }
        return cluster;
      } catch (IOException e) {
        cleanUp(started, driver);
        throw new UncheckedIOException("cannot start the process cluster", e);
      } catch (Exception e) {
        cleanUp(started, driver);
        throw e instanceof RuntimeException r
            ? r
            : new IllegalStateException("the process cluster did not start: " + e, e);
      }
    }
  }

  static final String SYSTEM = "pekko-dsm";

  /**
   * What every node of a process cluster runs with unless told otherwise: Artery TCP, the Split
   * Brain Resolver, and failure detection tuned for one busy host: a killed process is removed in
   * about ten seconds, and JVMs starting side by side do not mistake each other for dead.
   */
  static final String BASE =
      String.join(
          "\n",
          "pekko.actor.provider = cluster",
          "pekko.remote.artery.transport = tcp",
          "pekko.cluster.jmx.enabled = off",
          "pekko.cluster.log-info = off",
          "pekko.cluster.gossip-interval = 200ms",
          "pekko.cluster.leader-actions-interval = 200ms",
          "pekko.cluster.unreachable-nodes-reaper-interval = 250ms",
          "pekko.cluster.failure-detector.heartbeat-interval = 200ms",
          "pekko.cluster.failure-detector.acceptable-heartbeat-pause = 5s",
          "pekko.cluster.failure-detector.expected-response-after = 200ms",
          "pekko.cluster.downing-provider-class = "
              + "\"org.apache.pekko.cluster.sbr.SplitBrainResolverProvider\"",
          "pekko.cluster.split-brain-resolver.active-strategy = keep-majority",
          "pekko.cluster.split-brain-resolver.stable-after = 3s",
          "pekko.cluster.sharding.retry-interval = 200ms",
          "pekko.loglevel = WARNING",
          "pekko.log-dead-letters = off",
          "pekko.log-dead-letters-during-shutdown = off");

  private static void cleanUp(List<Process> started, ActorSystem<Void> driver) {
    if (driver != null) {
      driver.terminate();
    }
    started.forEach(Process::destroyForcibly);
  }

  private static String render(Config config) {
    return config.root().render(com.typesafe.config.ConfigRenderOptions.concise());
  }

  private static int[] freePorts(int count) throws IOException {
    int[] ports = new int[count];
    List<ServerSocket> held = new ArrayList<>();
    try {
      for (int i = 0; i < count; i++) {
        ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
        held.add(socket);
        ports[i] = socket.getLocalPort();
      }
    } finally {
      for (ServerSocket socket : held) {
        socket.close();
      }
    }
    return ports;
  }

  /** Copies a process's output to its log and completes with its node id at READY. */
  private static CompletableFuture<NodeId> watchOutput(Process process, Path log) {
    CompletableFuture<NodeId> ready = new CompletableFuture<>();
    Thread pump =
        new Thread(
            () -> {
              try (BufferedReader in =
                      new BufferedReader(
                          new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
                  var out = Files.newBufferedWriter(log, StandardCharsets.UTF_8)) {
                for (String line; (line = in.readLine()) != null; ) {
                  out.write(line);
                  out.newLine();
                  out.flush();
                  if (line.startsWith("READY ")) {
                    ready.complete(NodeId.of(Long.parseUnsignedLong(line.split(" ")[1], 16)));
                  }
                }
              } catch (IOException e) {
                ready.completeExceptionally(e);
              }
              ready.completeExceptionally(
                  new IllegalStateException("the process exited before it was ready"));
            },
            "pekko-dsm-process-output");
    pump.setDaemon(true);
    pump.start();
    return ready;
  }

  private static String tail(Path folder, int i) {
    try {
      List<String> lines = Files.readAllLines(folder.resolve("node-" + i + ".log"));
      return String.join("\n", lines.subList(Math.max(0, lines.size() - 30), lines.size()));
    } catch (IOException e) {
      return "(no log: " + e + ")";
    }
  }

  private boolean allUp() {
    var members = Cluster.get(driver).state().getMembers();
    int up = 0;
    for (var member : members) {
      if (member.status() == MemberStatus.up()) {
        up++;
      }
    }
    return up == processes.size() + 1;
  }

  /** The number of processes (the driver not included). */
  public int size() {
    return processes.size();
  }

  /** The node id of process {@code i}. */
  public NodeId nodeId(int i) {
    return ids.get(i);
  }

  /** The driver's actor system, a member of the cluster inside this JVM. */
  public ActorSystem<Void> driverSystem() {
    return driver;
  }

  /** The driver's DSM. */
  public Dsm driver() {
    return Dsm.get(driver);
  }

  /** The folder holding the processes' configurations and logs. */
  public Path logs() {
    return logs;
  }

  /** Kills process {@code i} at once (SIGKILL), as a crash would. */
  public void kill(int i) {
    processes.get(i).destroyForcibly();
    try {
      processes.get(i).waitFor(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** The last lines process {@code i} printed. */
  public String logTail(int i) {
    return tail(logs, i);
  }

  private void destroyAll() {
    for (Process p : processes) {
      p.destroy();
    }
    for (Process p : processes) {
      try {
        if (!p.waitFor(5, TimeUnit.SECONDS)) {
          p.destroyForcibly();
        }
      } catch (InterruptedException e) {
        p.destroyForcibly();
        Thread.currentThread().interrupt();
      }
    }
  }

  /** Stops the driver and every process (forcibly if a process does not stop within 5 s). */
  @Override
  public void close() {
    driver.terminate();
    destroyAll();
    try {
      driver.getWhenTerminated().toCompletableFuture().get(10, TimeUnit.SECONDS);
    } catch (Exception e) {
      // the processes are gone; the driver's shutdown is best effort
    }
    try {
      Runtime.getRuntime().removeShutdownHook(reaper);
    } catch (IllegalStateException e) {
      // already shutting down
    }
  }
}
