package dev.pekkodsm.testkit;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dev.pekkodsm.Dsm;
import dev.pekkodsm.internal.DsmNode;
import dev.pekkodsm.memory.PeerEndpoint;
import java.io.File;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

/**
 * Runs one pekko-dsm node in this JVM until it is stopped: the process behind {@code ./dsm node}
 * and {@link ProcessCluster}.
 *
 * <pre>
 * java -cp ... dev.pekkodsm.testkit.DsmNodeMain [--config FILE] [--name SYSTEM]
 *     [--host HOST] [--port PORT] [--seed HOST:PORT]...
 * </pre>
 *
 * {@code --config} is a HOCON file layered over the classpath's {@code application.conf}; the other
 * flags override its Artery address and seed nodes. Once the node is Up and its DSM ready it prints
 * one line {@code READY <node id> <artery address> <transport>} on standard output. SIGTERM (or the
 * end of standard input, with {@code --stdin-watch}) leaves the cluster gracefully.
 */
public final class DsmNodeMain {

  private DsmNodeMain() {}

  public static void main(String[] args) throws Exception {
    String configFile = null;
    String name = "pekko-dsm";
    String host = null;
    Integer port = null;
    boolean stdinWatch = false;
    List<String> seeds = new ArrayList<>();
    for (int i = 0; i < args.length; i++) {
      String arg = args[i];
      switch (arg) {
        case "--config" -> configFile = value(args, ++i, arg);
        case "--name" -> name = value(args, ++i, arg);
        case "--host" -> host = value(args, ++i, arg);
        case "--port" -> port = Integer.parseInt(value(args, ++i, arg));
        case "--seed" -> seeds.add(value(args, ++i, arg));
        case "--stdin-watch" -> stdinWatch = true;
        default -> {
          System.err.println("unknown argument: " + arg);
          System.exit(2);
        }
      }
    }
    ActorSystem<Void> system = start(configFile, name, host, port, seeds);
    Dsm dsm = Dsm.get(system);
    dsm.ready().toCompletableFuture().get(60, TimeUnit.SECONDS);
    DsmNode node = dsm.internalNode();
    PeerEndpoint endpoint = node.endpoint();
    System.out.println(
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
            + node.settings().transport.name().toLowerCase(java.util.Locale.ROOT));
    System.out.println("READY " + dsm.self().hex() + " " + system.address());
    System.out.flush();
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  system.terminate();
                  try {
                    system.getWhenTerminated().toCompletableFuture().get(10, TimeUnit.SECONDS);
                  } catch (Exception e) {
                    // the JVM is going away anyway
                  }
                },
                "pekko-dsm-shutdown"));
    if (stdinWatch) {
      // A parent that dies without killing us closes our stdin: leave with it.
      Thread watch =
          new Thread(
              () -> {
                try {
                  while (System.in.read() >= 0) {
                    // keep reading until the parent goes away
                  }
                } catch (java.io.IOException e) {
                  // parent gone
                }
                System.exit(0);
              },
              "pekko-dsm-stdin-watch");
      watch.setDaemon(true);
      watch.start();
    }
    system.getWhenTerminated().toCompletableFuture().get();
    System.exit(0);
  }

  private static String value(String[] args, int i, String flag) {
    if (i >= args.length) {
      System.err.println(flag + " needs a value");
      System.exit(2);
    }
    return args[i];
  }

  /** Starts the node's actor system and joins the seeds (or itself, if it is the first seed). */
  static ActorSystem<Void> start(
      String configFile, String name, String host, Integer port, List<String> seeds) {
    Config config = config(ConfigFactory.load(), configFile, name, host, port, seeds);
    return ActorSystem.create(Behaviors.empty(), name, config);
  }

  /**
   * A node's configuration as {@code ./dsm node} builds it: {@code configFile} (optional) layered
   * over {@code base}, then {@code host}, {@code port} and {@code seeds} (HOST:PORT of an actor
   * system called {@code name}) over both; each of those is left alone when null or empty.
   *
   * @throws IllegalArgumentException if {@code configFile} does not exist
   */
  public static Config config(
      Config base, String configFile, String name, String host, Integer port, List<String> seeds) {
    Config layered = base;
    if (configFile != null) {
      File file = new File(configFile);
      if (!file.isFile()) {
        throw new IllegalArgumentException("no such config file: " + file.getAbsolutePath());
      }
      layered = ConfigFactory.parseFile(file).withFallback(layered);
    }
    Config overrides = ConfigFactory.empty();
    if (host != null) {
      overrides =
          ConfigFactory.parseString("pekko.remote.artery.canonical.hostname = \"" + host + "\"")
              .withFallback(overrides);
    }
    if (port != null) {
      overrides =
          ConfigFactory.parseString("pekko.remote.artery.canonical.port = " + port)
              .withFallback(overrides);
    }
    if (!seeds.isEmpty()) {
      List<String> addresses = new ArrayList<>();
      for (String seed : seeds) {
        addresses.add("\"pekko://" + name + "@" + seed + "\"");
      }
      overrides =
          ConfigFactory.parseString(
                  "pekko.cluster.seed-nodes = [" + String.join(", ", addresses) + "]")
              .withFallback(overrides);
    }
    return overrides.withFallback(layered).resolve();
  }
}
