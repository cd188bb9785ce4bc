package dev.pekkodsm.testkit;

import com.typesafe.config.Config;
import dev.pekkodsm.Dsm;
import dev.pekkodsm.internal.DsmNode;
import dev.pekkodsm.memory.PeerEndpoint;
import java.io.IOException;
import java.io.PrintStream;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.pekko.actor.CoordinatedShutdown;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs one pekko-dsm node in this JVM until it is stopped: the process behind {@code ./dsm node}
 * and {@link ProcessCluster}.
 *
 * <pre>
 * java -cp ... dev.pekkodsm.testkit.DsmNodeMain [--config FILE]... [--name SYSTEM]
 *     [--host HOST] [--port PORT] [--seed HOST:PORT]...
 * </pre>
 *
 * The configuration is built by {@link NodeConfig}: the {@code --config} files in order over the
 * cluster basics and the classpath's {@code application.conf}, then the flags. Everything a user
 * can get wrong (a missing file, a bad port or seed, a bad {@code pekko.dsm} setting, a port in
 * use) is reported in one line with exit code {@value #EXIT_USAGE} before anything starts. Once the
 * node is Up and its DSM ready it prints one line {@code READY <node id> <artery address> <arena
 * folder>} on standard output.
 *
 * <p>SIGTERM (or the end of standard input, with {@code --stdin-watch}) leaves the cluster
 * gracefully and exits with {@value #EXIT_LEFT}; the node's arena is removed on the way out. A node
 * the cluster removes (downed by the Split Brain Resolver, quarantined, refused) logs one line
 * saying why and exits with {@value #EXIT_FAILED}, so that a supervisor restarts it.
 */
public final class DsmNodeMain {

  /** The node left the cluster because it was asked to (SIGTERM, Ctrl-C, its parent gone). */
  public static final int EXIT_LEFT = 0;

  /** The node stopped for a failure: the cluster removed it, or it could not start or join. */
  public static final int EXIT_FAILED = 1;

  /** Bad arguments or configuration: nothing was started. */
  public static final int EXIT_USAGE = 2;

  private static final Logger log = LoggerFactory.getLogger(DsmNodeMain.class);
  private static final long READY_TIMEOUT_SECONDS = 90;

  private DsmNodeMain() {}

  public static void main(String[] args) {
    int code;
    try {
      code = run(args);
    } catch (IllegalArgumentException e) {
      System.err.println("pekko-dsm node: " + e.getMessage());
      code = EXIT_USAGE;
    }
    System.exit(code);
  }

  private static int run(String[] args) {
    NodeConfig.Builder builder = NodeConfig.builder();
    String name = "pekko-dsm";
    List<String> seeds = new ArrayList<>();
    boolean stdinWatch = false;
    for (int i = 0; i < args.length; i++) {
      String arg = args[i];
      switch (arg) {
        case "--config" -> builder.configFile(Path.of(value(args, ++i, arg)));
        case "--name" -> name = value(args, ++i, arg);
        case "--host" -> builder.host(value(args, ++i, arg));
        case "--port" -> builder.port(number(value(args, ++i, arg), arg));
        case "--seed" -> seeds.add(value(args, ++i, arg));
        case "--stdin-watch" -> stdinWatch = true;
        default -> throw new IllegalArgumentException("unknown argument: " + arg);
      }
    }
    Config config = builder.name(name).seeds(seeds).build();
    checkBindable(config);
    return run(config, name, stdinWatch, System.out);
  }

  private static String value(String[] args, int i, String flag) {
    if (i >= args.length) {
      throw new IllegalArgumentException(flag + " needs a value");
    }
    return args[i];
  }

  private static int number(String value, String flag) {
    try {
      return Integer.parseInt(value);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(flag + " " + value + " is not a number", e);
    }
  }

  /**
   * Checks that Artery's TCP port is free, so that a port in use is reported in one line rather
   * than as Artery's bind failure.
   *
   * @throws IllegalArgumentException if the address cannot be bound, saying why
   */
  public static void checkBindable(Config config) {
    String transport = config.getString("pekko.remote.artery.transport");
    if (!transport.equals("tcp") && !transport.equals("tls-tcp")) {
      return;
    }
    String host = config.getString("pekko.remote.artery.bind.hostname");
    if (host.isEmpty()) {
      host = config.getString("pekko.remote.artery.canonical.hostname");
    }
    String bindPort = config.getString("pekko.remote.artery.bind.port");
    int port =
        bindPort.isEmpty()
            ? config.getInt("pekko.remote.artery.canonical.port")
            : config.getInt("pekko.remote.artery.bind.port");
    if (port == 0 || host.startsWith("<")) {
      return; // any free port, or an address Pekko finds itself
    }
    try (ServerSocket probe = new ServerSocket()) {
      probe.setReuseAddress(true); // as Artery binds: a port in TIME_WAIT is free
      probe.bind(new InetSocketAddress(host, port));
    } catch (BindException e) {
      throw new IllegalArgumentException(
          "port "
              + port
              + " on "
              + host
              + " is in use (is a node already running there?); choose another --port",
          e);
    } catch (IOException e) {
      throw new IllegalArgumentException(
          "cannot listen on " + host + ":" + port + ": " + e.getMessage(), e);
    }
  }

  /**
   * Starts a node with {@code config} as actor system {@code name}, prints its READY line on {@code
   * out}, and runs it until it stops.
   *
   * @return {@link #EXIT_LEFT} if it left because it was asked to, {@link #EXIT_FAILED} if the
   *     cluster removed it or it could not start
   */
  public static int run(Config config, String name, boolean stdinWatch, PrintStream out) {
    ExitCode exit = new ExitCode();
    ActorSystem<Void> system;
    try {
      system = ActorSystem.create(Behaviors.empty(), name, config);
    } catch (Exception e) { // Artery's bind timeout arrives as a checked TimeoutException
      log.error("pekko-dsm node could not start: {}", rootMessage(e));
      return EXIT_FAILED;
    }
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  // Leaves the cluster and removes the arena, even where the configuration turned
                  // Pekko's own JVM shutdown hook off.
                  system.terminate();
                  try {
                    system.getWhenTerminated().toCompletableFuture().get(10, TimeUnit.SECONDS);
                  } catch (Exception e) {
                    // the JVM is going away anyway
                  }
                  // The exit code is the node's, whoever started the shutdown (a signal too).
                  Runtime.getRuntime().halt(exit.decide(() -> stopped(system, name)));
                },
                "pekko-dsm-shutdown"));
    Dsm dsm;
    try {
      dsm = Dsm.get(system);
      dsm.ready().toCompletableFuture().get(READY_TIMEOUT_SECONDS, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      system.terminate();
      return exit.decide(() -> EXIT_FAILED);
    } catch (ExecutionException | TimeoutException | RuntimeException e) {
      if (system.getWhenTerminated().toCompletableFuture().isDone()) {
        return exit.decide(() -> stopped(system, name));
      }
      log.error(
          "pekko-dsm node at {} could not start: {}; exiting with code {}",
          system.address(),
          e instanceof TimeoutException
              ? "it did not join a cluster within " + READY_TIMEOUT_SECONDS + " s (no seed node?)"
              : rootMessage(e),
          EXIT_FAILED);
      int code = exit.decide(() -> EXIT_FAILED);
      system.terminate();
      awaitTermination(system);
      return code;
    }
    DsmNode node = dsm.internalNode();
    PeerEndpoint endpoint = node.endpoint();
    out.println(
        "pekko-dsm node "
            + dsm.self().hex()
            + " up at "
            + system.address()
            + "; arena "
            + endpoint.arena().directory()
            + (endpoint.hasTcp()
                ? "; tcp read server " + endpoint.tcpHost() + ":" + endpoint.tcpPort()
                : "")
            + "; transport "
            + node.settings().transport.name().toLowerCase(Locale.ROOT));
    out.println(
        "READY " + dsm.self().hex() + " " + system.address() + " " + endpoint.arena().directory());
    out.flush();
    if (stdinWatch) {
      watchStdin();
    }
    awaitTermination(system);
    return exit.decide(() -> stopped(system, name));
  }

  /** The process's exit code, decided once by whoever gets there first: main or the hook. */
  private static final class ExitCode {
    private Integer code;

    synchronized int decide(java.util.function.IntSupplier why) {
      if (code == null) {
        code = why.getAsInt();
      }
      return code;
    }
  }

  /** A parent that dies without killing this process closes its stdin: leave with it. */
  private static void watchStdin() {
    Thread watch =
        new Thread(
            () -> {
              try {
                while (System.in.read() >= 0) {
                  // keep reading until the parent goes away
                }
              } catch (IOException e) {
                // parent gone
              }
              System.exit(EXIT_LEFT);
            },
            "pekko-dsm-stdin-watch");
    watch.setDaemon(true);
    watch.start();
  }

  private static void awaitTermination(ActorSystem<Void> system) {
    try {
      system.getWhenTerminated().toCompletableFuture().get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (ExecutionException e) {
      // terminated all the same
    }
  }

  /** The exit code of a node whose system has terminated, after one log line if it failed. */
  private static int stopped(ActorSystem<Void> system, String name) {
    Optional<CoordinatedShutdown.Reason> reason =
        CoordinatedShutdown.get(Adapter.toClassic(system)).getShutdownReason();
    String why = reason.map(DsmNodeMain::failure).orElse(null);
    if (why == null) {
      return EXIT_LEFT;
    }
    log.error(
        "pekko-dsm node {} at {} stopped: {}; exiting with code {} so that a supervisor restarts"
            + " it",
        name,
        system.address(),
        why,
        EXIT_FAILED);
    return EXIT_FAILED;
  }

  /** Why a shutdown is a failure, or null if the node was asked to stop. */
  private static String failure(CoordinatedShutdown.Reason reason) {
    if (reason == CoordinatedShutdown.jvmExitReason()
        || reason == CoordinatedShutdown.actorSystemTerminateReason()
        || reason == CoordinatedShutdown.clusterLeavingReason()) {
      return null;
    }
    if (reason == CoordinatedShutdown.clusterDowningReason()) {
      return "the cluster downed it (it was unreachable or quarantined, and the split brain"
          + " resolver removed it)";
    }
    if (reason == CoordinatedShutdown.clusterJoinUnsuccessfulReason()) {
      return "it could not join the seed nodes in time";
    }
    if (reason == CoordinatedShutdown.incompatibleConfigurationDetectedReason()) {
      return "the cluster refused it: its configuration is incompatible with the members'";
    }
    return "shut down for " + reason;
  }

  private static String rootMessage(Throwable e) {
    Throwable t = e;
    while (t.getCause() != null && t.getCause() != t) {
      t = t.getCause();
    }
    return t.getMessage() != null ? t.getMessage() : t.toString();
  }
}
