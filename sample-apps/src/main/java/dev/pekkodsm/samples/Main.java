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

  /** Runs the tour on an embedded three-node cluster. */
  @Command(
      name = "tour",
      mixinStandardHelpOptions = true,
      description = "Walk through the DSM on an embedded three-node cluster in this JVM.")
  static final class TourCommand implements Callable<Integer> {
    @Override
    public Integer call() {
      new Tour(System.out).run();
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
