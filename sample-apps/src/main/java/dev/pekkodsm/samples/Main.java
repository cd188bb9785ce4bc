package dev.pekkodsm.samples;

import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code ./dsm} command line. */
@Command(
    name = "dsm",
    mixinStandardHelpOptions = true,
    version = "pekko-dsm 0.1.0-SNAPSHOT",
    description = "pekko-dsm: a distributed shared memory for Apache Pekko.",
    subcommands = {Main.TourCommand.class, Main.NodeCommand.class, BenchCommand.class})
public final class Main implements Callable<Integer> {

  @Override
  public Integer call() {
    CommandLine.usage(this, System.out);
    return 0;
  }

  /** Runs the tour on an embedded three-node cluster, or from this JVM against a running one. */
  @Command(
      name = "tour",
      mixinStandardHelpOptions = true,
      description = {
        "Walk through the DSM on three nodes: by default an embedded cluster in this JVM.",
        "With --config or --join, this JVM joins a running cluster as node 1 and drives two of"
            + " its nodes (the first two Up, in address order) as nodes 2 and 3, e.g. three"
            + " nodes started with ./dsm node --config conf/multi-jvm.conf --port 25521 (25522,"
            + " 25523), then: ./dsm tour --config conf/multi-jvm.conf"
      })
  static final class TourCommand implements Callable<Integer> {
    @CommandLine.Option(
        names = "--config",
        description = "HOCON file of the cluster to join, layered over the classpath's config")
    String config;

    @CommandLine.Option(
        names = "--join",
        description = "HOST:PORT of a seed node to join; repeat for several (overrides the config)")
    java.util.List<String> join = new java.util.ArrayList<>();

    @CommandLine.Option(
        names = "--name",
        defaultValue = "pekko-dsm",
        description = "the cluster's actor system name (default ${DEFAULT-VALUE})")
    String name;

    @CommandLine.Option(names = "--host", description = "address this JVM's node binds")
    String host;

    @CommandLine.Option(
        names = "--port",
        description = "Artery port of this JVM's node (default: any free port)")
    Integer port;

    @CommandLine.Option(
        names = "--wait",
        defaultValue = "60",
        description = "seconds to wait for two other DSM nodes (default ${DEFAULT-VALUE})")
    int waitSeconds;

    @Override
    public Integer call() {
      Tour tour = new Tour(System.out);
      if (config == null && join.isEmpty()) {
        tour.run();
        return 0;
      }
      try (TourNodes nodes =
          TourNodes.join(
              TourNodes.remoteConfig(config, name, host, port, join),
              name,
              java.time.Duration.ofSeconds(waitSeconds),
              System.out)) {
        tour.run(nodes);
      } catch (IllegalArgumentException | IllegalStateException e) {
        System.err.println("./dsm tour: " + e.getMessage());
        return 1;
      }
      return 0;
    }
  }

  /** Runs one node of a multi-JVM cluster in this JVM until it is stopped. */
  @Command(
      name = "node",
      mixinStandardHelpOptions = true,
      description = {
        "Run one pekko-dsm node in this JVM until it is stopped (Ctrl-C leaves the cluster).",
        "Examples: conf/multi-jvm.conf (three JVMs on one host), conf/multi-host-tcp.conf."
      })
  static final class NodeCommand implements Callable<Integer> {
    @CommandLine.Option(
        names = "--config",
        description = "HOCON file layered over the classpath's application.conf")
    String config;

    @CommandLine.Option(
        names = "--name",
        defaultValue = "pekko-dsm",
        description = "actor system name; the same on every node (default ${DEFAULT-VALUE})")
    String name;

    @CommandLine.Option(names = "--host", description = "address Artery binds and advertises")
    String host;

    @CommandLine.Option(names = "--port", description = "Artery port of this node")
    Integer port;

    @CommandLine.Option(
        names = "--seed",
        description = "HOST:PORT of a seed node; repeat for several (overrides the config)")
    java.util.List<String> seeds = new java.util.ArrayList<>();

    @Override
    public Integer call() throws Exception {
      java.util.List<String> args = new java.util.ArrayList<>();
      if (config != null) {
        args.addAll(java.util.List.of("--config", config));
      }
      args.addAll(java.util.List.of("--name", name));
      if (host != null) {
        args.addAll(java.util.List.of("--host", host));
      }
      if (port != null) {
        args.addAll(java.util.List.of("--port", String.valueOf(port)));
      }
      for (String seed : seeds) {
        args.addAll(java.util.List.of("--seed", seed));
      }
      dev.pekkodsm.testkit.DsmNodeMain.main(args.toArray(new String[0]));
      return 0;
    }
  }

  public static void main(String[] args) {
    // Initialize logging before the actor systems start logging from several threads at once.
    org.slf4j.LoggerFactory.getILoggerFactory();
    int code = new CommandLine(new Main()).execute(args);
    System.exit(code);
  }
}
