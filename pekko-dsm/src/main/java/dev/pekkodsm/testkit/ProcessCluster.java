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
 *
 * <p>Faults to inject: {@link #kill} (SIGKILL, a crash), {@link #pause} and {@link #resume}
 * (SIGSTOP and SIGCONT, a long GC pause or a starved CPU), {@link #terminate} (SIGTERM, a graceful
 * stop).
 */
public final class ProcessCluster implements AutoCloseable {

  private final List<Process> processes;
  private final List<Ready> ready;
  private final ActorSystem<Void> driver;
  private final Path logs;
  private final boolean ownsLogs;
  private final Thread reaper;

  /** Processes stopped by {@link #pause} and not resumed since; resumed before they are stopped. */
  private final java.util.Set<Integer> paused = java.util.concurrent.ConcurrentHashMap.newKeySet();

  private ProcessCluster(
      List<Process> processes,
      List<Ready> ready,
      ActorSystem<Void> driver,
      Path logs,
      boolean ownsLogs) {
    this.processes = processes;
    this.ready = ready;
    this.driver = driver;
    this.logs = logs;
    this.ownsLogs = ownsLogs;
    this.reaper =
        new Thread(
            () -> {
              destroyAll();
              deleteLogs();
            },
            "pekko-dsm-process-cluster-reaper");
    Runtime.getRuntime().addShutdownHook(reaper);
  }

  /** What a process said when it was ready: its node id and its arena folder. */
  private record Ready(NodeId id, Path arena) {}

  /** A builder of a cluster with {@code nodes} processes (the driver comes on top). */
  public static Builder withProcesses(int nodes) {
    return new Builder(nodes);
  }

  /** Builds a {@link ProcessCluster}. */
  public static final class Builder {
    private final int nodes;
    private Config config = ConfigFactory.empty();
    private final Map<Integer, Config> perNode = new HashMap<>();
    private Duration timeout = Duration.ofSeconds(90);
    private final List<String> jvmOptions =
        new ArrayList<>(
            // Several JVMs share this host's cores: small heaps, the serial collector and the
            // quick compiler keep start-up from starving the cluster's heartbeats.
            List.of("-Xmx384m", "-Xss512k", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1"));
    private Path logs;
    private LogLevel nodeLogLevel;

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

    /**
     * Where the processes' configurations and logs go, kept after {@link #close()}. By default a
     * fresh temporary folder, deleted by {@link #close()}.
     */
    public Builder logs(Path folder) {
      this.logs = folder;
      return this;
    }

    /**
     * How much the node processes log, each to its {@code node-<i>.log}: {@code warn} (problems
     * only), {@code info} (also membership, downing, sharding's coordinator and regions, the DSM's
     * reactions to a member leaving) or {@code debug}, for pekko-dsm's and Pekko's loggers alike.
     * The processes are given a logging configuration of their own ({@code node-logback.xml} in the
     * log folder); the driver's Pekko log level is set to match, and where its lines go is the
     * calling JVM's logging configuration. By default the processes log as the class path's logging
     * configuration says, and Pekko at WARNING.
     *
     * @throws IllegalArgumentException if {@code level} is not error, warn, info or debug
     */
    public Builder nodeLogLevel(String level) {
      this.nodeLogLevel = LogLevel.of(level);
      return this;
    }

    /** Every node's configuration, the driver's included, before its address. */
    private NodeConfig.Builder nodeConfig() {
      NodeConfig.Builder node =
          NodeConfig.builder()
              .name(SYSTEM)
              .failover(FAILOVER)
              .quiet()
              .config(NodeConfig.PROMPT_REHOMING)
              .config(STARTING_SIDE_BY_SIDE);
      if (nodeLogLevel != null) {
        node.config(nodeLogLevel.pekkoConfig());
      }
      return node.config(config);
    }

    /** Starts the processes and the driver, and waits until every node is Up and ready. */
    public ProcessCluster start() {
      long deadline = System.nanoTime() + timeout.toNanos();
      List<Process> started = new ArrayList<>();
      ActorSystem<Void> driver = null;
      Path folder = null;
      try {
        folder = logs != null ? logs : Files.createTempDirectory("pekko-dsm-cluster-");
        Files.createDirectories(folder);
        List<String> options = new ArrayList<>(jvmOptions);
        if (nodeLogLevel != null) {
          Path logback = folder.resolve("node-logback.xml");
          Files.writeString(logback, nodeLogLevel.logbackXml(), StandardCharsets.UTF_8);
          options.add("-Dlogback.configurationFile=" + logback.toAbsolutePath());
        }
        int[] ports = freePorts(nodes + 1);
        String seed = "127.0.0.1:" + ports[0];
        List<CompletableFuture<Ready>> ready = new ArrayList<>();
        for (int i = 0; i < nodes; i++) {
          Path conf = folder.resolve("node-" + i + ".conf");
          Config own =
              nodeConfig()
                  .config(perNode.getOrDefault(i, ConfigFactory.empty()))
                  .skipDsmCheck()
                  .overlay();
          Files.writeString(conf, render(own), StandardCharsets.UTF_8);
          List<String> command = new ArrayList<>();
          command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
          command.addAll(options);
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
            nodeConfig().host("127.0.0.1").port(ports[nodes]).seeds(List.of(seed)).build();
        driver = ActorSystem.create(Behaviors.empty(), SYSTEM, driverConfig);
        // Sharding's coordinator reads its state from every member: the driver's DSM (and so
        // its shard region) must start now, not after the processes report ready.
        CompletableFuture<Void> driverReady = Dsm.get(driver).ready().toCompletableFuture();
        List<Ready> readies = new ArrayList<>();
        for (int i = 0; i < nodes; i++) {
          long left = Math.max(1, deadline - System.nanoTime());
          try {
            readies.add(ready.get(i).get(left, TimeUnit.NANOSECONDS));
          } catch (Exception e) {
            throw new IllegalStateException(
                "process " + i + " did not become ready: " + e + "\n" + tail(folder, i), e);
          }
        }
        driverReady.get(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
        ProcessCluster cluster = new ProcessCluster(started, readies, driver, folder, logs == null);
        while (!cluster.allUp()) {
          if (System.nanoTime() - deadline > 0) {
            cluster.close();
            throw new IllegalStateException("not all " + (nodes + 1) + " nodes came Up");
          }
          Thread.sleep(50);
        }
        for (Ready r : readies) {
          Dsm.get(driver)
              .internalNode()
              .awaitPeer(r.id())
              .get(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
        }
        return cluster;
      } catch (IOException e) {
        cleanUp(started, driver, logs == null ? folder : null);
        throw new UncheckedIOException("cannot start the process cluster", e);
      } catch (Exception e) {
        cleanUp(started, driver, logs == null ? folder : null);
        throw e instanceof RuntimeException r
            ? r
            : new IllegalStateException("the process cluster did not start: " + e, e);
      }
    }
  }

  static final String SYSTEM = "pekko-dsm";

  /** A log level of the node processes ({@link Builder#nodeLogLevel}). */
  public enum LogLevel {
    ERROR("ERROR", "ERROR"),
    WARN("WARNING", "WARN"),
    INFO("INFO", "INFO"),
    DEBUG("DEBUG", "DEBUG");

    private final String pekko;
    private final String logback;

    LogLevel(String pekko, String logback) {
      this.pekko = pekko;
      this.logback = logback;
    }

    /**
     * The level named {@code level}, in any case.
     *
     * @throws IllegalArgumentException if it is not error, warn, info or debug
     */
    public static LogLevel of(String level) {
      for (LogLevel l : values()) {
        if (l.name().equalsIgnoreCase(level == null ? "" : level.strip())) {
          return l;
        }
      }
      throw new IllegalArgumentException(
          "node log level '" + level + "' is not one of error, warn, info, debug");
    }

    /**
     * Pekko's side: its level, its events through SLF4J (so Logback's levels apply), and the
     * cluster's own INFO lines (membership, downing) when the level lets them through.
     */
    String pekkoConfig() {
      return String.join(
          "\n",
          "pekko.loglevel = " + pekko,
          "pekko.loggers = [\"org.apache.pekko.event.slf4j.Slf4jLogger\"]",
          "pekko.logging-filter = \"org.apache.pekko.event.slf4j.Slf4jLoggingFilter\"",
          "pekko.cluster.log-info = " + (compareTo(INFO) >= 0 ? "on" : "off"));
    }

    /** A Logback configuration: every line on standard output (the process's log), with times. */
    String logbackXml() {
      return String.join(
          "\n",
          "<configuration>",
          "  <appender name=\"STDOUT\" class=\"ch.qos.logback.core.ConsoleAppender\">",
          "    <encoder>",
          "      <pattern>%d{HH:mm:ss.SSS} %-5level [%thread] %logger{36} - %msg%n</pattern>",
          "    </encoder>",
          "  </appender>",
          "  <logger name=\"dev.pekkodsm\" level=\"" + logback + "\"/>",
          "  <logger name=\"org.apache.pekko\" level=\"" + logback + "\"/>",
          "  <root level=\"WARN\">",
          "    <appender-ref ref=\"STDOUT\"/>",
          "  </root>",
          "</configuration>",
          "");
    }
  }

  /**
   * Deadlines of a JVM's start, for JVMs that start together on a busy host's cores: binding
   * Artery's port and starting the logger take milliseconds, but Pekko's 3 s and 5 s run out when
   * the JVMs starve each other.
   */
  static final String STARTING_SIDE_BY_SIDE =
      "pekko.remote.artery.bind.bind-timeout = 20s\npekko.logger-startup-timeout = 30s";

  /**
   * Failure detection of a process cluster: {@link NodeConfig.Failover#FAST}, with a longer pause
   * and stable-after, because several JVMs start side by side on the host's cores and must not
   * mistake each other's start-up for a crash. A killed process is removed in about ten seconds.
   */
  static final NodeConfig.Failover FAILOVER =
      NodeConfig.Failover.FAST
          .withAcceptableHeartbeatPause(Duration.ofSeconds(5))
          .withStableAfter(Duration.ofSeconds(3));

  private static void cleanUp(List<Process> started, ActorSystem<Void> driver, Path ownFolder) {
    if (driver != null) {
      driver.terminate();
    }
    started.forEach(Process::destroyForcibly);
    for (Process p : started) {
      try {
        p.waitFor(10, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    if (ownFolder != null) {
      deleteFolder(ownFolder);
    }
  }

  private static void deleteFolder(Path folder) {
    try (var walk = Files.walk(folder)) {
      for (Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    } catch (IOException | UncheckedIOException e) {
      // best effort: the folder is in the temporary directory
    }
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

  /** Copies a process's output to its log and completes with what its READY line says. */
  private static CompletableFuture<Ready> watchOutput(Process process, Path log) {
    CompletableFuture<Ready> ready = new CompletableFuture<>();
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
                    // READY <node id> <address> <arena folder, to the end of the line>
                    String[] fields = line.split(" ", 4);
                    ready.complete(
                        new Ready(
                            NodeId.of(Long.parseUnsignedLong(fields[1], 16)), Path.of(fields[3])));
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
    return ready.get(i).id();
  }

  /** The arena folder of process {@code i}. */
  public Path arena(int i) {
    return ready.get(i).arena();
  }

  /** The Artery address of process {@code i}, as the driver knows it; empty once it left. */
  public java.util.Optional<org.apache.pekko.actor.Address> address(int i) {
    long uid = nodeId(i).value();
    for (var member : Cluster.get(driver).state().getMembers()) {
      if (member.uniqueAddress().longUid() == uid) {
        return java.util.Optional.of(member.address());
      }
    }
    return java.util.Optional.empty();
  }

  /** Asks process {@code i} to stop (SIGTERM), as {@code kill} or a service manager would. */
  public void terminate(int i) {
    processes.get(i).destroy();
  }

  /**
   * Waits up to {@code timeout} for process {@code i} to exit and returns its exit code.
   *
   * @throws IllegalStateException if it is still running then
   */
  public int awaitExit(int i, Duration timeout) {
    try {
      if (!processes.get(i).waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
        throw new IllegalStateException(
            "process " + i + " still runs after " + timeout.toSeconds() + " s:\n" + logTail(i));
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
    return processes.get(i).exitValue();
  }

  /** Everything process {@code i} printed so far. */
  public String log(int i) {
    try {
      return Files.readString(logs.resolve("node-" + i + ".log"));
    } catch (IOException e) {
      return "(no log: " + e + ")";
    }
  }

  /** The driver's actor system, a member of the cluster inside this JVM. */
  public ActorSystem<Void> driverSystem() {
    return driver;
  }

  /** The driver's DSM. */
  public Dsm driver() {
    return Dsm.get(driver);
  }

  /**
   * The folder holding the processes' configurations and logs; deleted by {@link #close()} unless
   * it was given to the builder.
   */
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

  /**
   * Stops process {@code i} with SIGSTOP, as a long GC pause or a starved CPU would: it keeps its
   * sockets, its memory and its arena, but runs nothing (sends no heartbeat, answers no message)
   * until {@link #resume}. A pause longer than the failure detector tolerates gets it downed and
   * removed by the others; resumed, it finds itself downed and exits. Returns once the process is
   * stopped (where {@code /proc} tells; elsewhere once the signal is sent).
   *
   * @throws IllegalStateException if the process has exited, the signal cannot be sent, or the
   *     process is not stopped within 5 s
   */
  public void pause(int i) {
    signal(i, "STOP");
    paused.add(i);
    awaitStopped(i, true);
  }

  /**
   * Lets process {@code i}, stopped by {@link #pause}, run again (SIGCONT).
   *
   * @throws IllegalStateException if the process has exited, or the signal cannot be sent
   */
  public void resume(int i) {
    signal(i, "CONT");
    paused.remove(i);
    awaitStopped(i, false);
  }

  /**
   * Waits up to 5 s until process {@code i} is stopped by a signal, or no longer is, as its {@code
   * /proc/<pid>/stat} state says ({@code T}): the kernel stops a process's threads after {@code
   * kill} returns. Returns at once where there is no {@code /proc}, or once the process has exited.
   */
  private void awaitStopped(int i, boolean stopped) {
    Path stat = Path.of("/proc", String.valueOf(processes.get(i).pid()), "stat");
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    try {
      while (processes.get(i).isAlive() && Files.exists(stat)) {
        String line = Files.readString(stat);
        boolean isStopped = line.charAt(line.lastIndexOf(')') + 2) == 'T';
        if (isStopped == stopped) {
          return;
        }
        if (System.nanoTime() - deadline > 0) {
          throw new IllegalStateException(
              "process " + i + " is " + (stopped ? "not stopped" : "still stopped") + " after 5 s");
        }
        Thread.sleep(5);
      }
    } catch (IOException e) {
      // the process exited while we looked
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while waiting for process " + i, e);
    }
  }

  /** The operating system's process id of process {@code i}. */
  public long pid(int i) {
    return processes.get(i).pid();
  }

  /**
   * The failure detection and downing the cluster runs with, read from the driver's configuration
   * (every member has the same, or it could not have joined).
   */
  public NodeConfig.Failover failover() {
    return NodeConfig.Failover.from(driver.settings().config());
  }

  /**
   * Sends signal {@code name} to process {@code i} with {@code kill}, waiting up to 10 s for it.
   */
  private void signal(int i, String name) {
    Process process = processes.get(i);
    if (!process.isAlive()) {
      throw new IllegalStateException(
          "process "
              + i
              + " has exited (code "
              + process.exitValue()
              + "); cannot send SIG"
              + name);
    }
    try {
      Process kill =
          new ProcessBuilder("kill", "-" + name, String.valueOf(process.pid()))
              .redirectErrorStream(true)
              .start();
      if (!kill.waitFor(10, TimeUnit.SECONDS)) {
        kill.destroyForcibly();
        throw new IllegalStateException("kill -" + name + " " + process.pid() + " took over 10 s");
      }
      if (kill.exitValue() != 0) {
        String said = new String(kill.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        throw new IllegalStateException(
            "kill -" + name + " " + process.pid() + " failed: " + said.strip());
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot run kill -" + name, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while sending SIG" + name, e);
    }
  }

  /** The last lines process {@code i} printed. */
  public String logTail(int i) {
    return tail(logs, i);
  }

  private void destroyAll() {
    for (int i : List.copyOf(paused)) {
      try {
        resume(i); // a stopped process would not act on SIGTERM
      } catch (RuntimeException e) {
        // it has exited, or kill failed: SIGKILL below stops it all the same
      }
    }
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

  private void deleteLogs() {
    if (ownsLogs) {
      deleteFolder(logs);
    }
  }

  /**
   * Stops the driver and every process (forcibly if a process does not stop within 5 s), and
   * deletes the log folder unless it was given to the builder.
   */
  @Override
  public void close() {
    driver.terminate();
    destroyAll();
    deleteLogs();
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
