package dev.pekkodsm.samples;

import com.typesafe.config.Config;
import dev.pekkodsm.testkit.DsmNodeMain;
import dev.pekkodsm.testkit.NodeConfig;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ScopeType;
import picocli.CommandLine.Spec;

/**
 * The {@code ./dsm} command line. Errors follow {@link Cli}: one or two lines, exit code 2 for a
 * usage error, a trace only with {@code --verbose} or for a bug.
 */
@Command(
    name = "dsm",
    mixinStandardHelpOptions = true,
    version = "pekko-dsm 0.1.0-SNAPSHOT",
    description = "pekko-dsm: a distributed shared memory for Apache Pekko.",
    subcommands = {
      Main.TourCommand.class,
      Main.NodeCommand.class,
      BenchCommand.class,
      ChaosCommand.class
    })
public final class Main implements Callable<Integer> {

  @Option(
      names = "--verbose",
      scope = ScopeType.INHERIT,
      description = "print stack traces with errors")
  boolean verbose;

  /** Whether {@code --verbose} was given anywhere on the command line (set before parsing). */
  private boolean tracing;

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
    @Spec CommandSpec spec;

    @Option(
        names = "--config",
        description =
            "HOCON file of the cluster to join, layered over the classpath's config; repeat to"
                + " layer several (later ones win), e.g. conf/fast-failover.conf last")
    List<Path> configs = new ArrayList<>();

    @Option(
        names = "--join",
        description = "HOST:PORT of a seed node to join; repeat for several (overrides the config)")
    List<String> join = new ArrayList<>();

    @Option(
        names = "--name",
        defaultValue = "pekko-dsm",
        description = "the cluster's actor system name (default ${DEFAULT-VALUE})")
    String name;

    @Option(names = "--host", description = "address this JVM's node binds")
    String host;

    @Option(
        names = "--port",
        description = "Artery port of this JVM's node (default: any free port)")
    Integer port;

    @Option(
        names = "--wait",
        defaultValue = "60",
        description = "seconds to wait for two other DSM nodes (default ${DEFAULT-VALUE})")
    int waitSeconds;

    @Override
    public Integer call() {
      Tour tour = new Tour(System.out);
      boolean embedded = configs.isEmpty() && join.isEmpty();
      Config config = null;
      if (!embedded) {
        Cli.check(spec, waitSeconds > 0, "--wait %d: must be at least 1 (seconds)", waitSeconds);
        for (String seed : join) {
          Cli.option(spec, "--join", () -> NodeConfig.checkHostPort(seed));
        }
        Config remote =
            Cli.usage(spec, () -> TourNodes.remoteConfig(configs, name, host, port, join));
        Cli.option(spec, "--port", () -> DsmNodeMain.checkBindable(remote));
        config = remote;
      }
      TourNodes nodes =
          embedded
              ? tour.startEmbedded()
              : TourNodes.join(config, name, Duration.ofSeconds(waitSeconds), System.out);
      try (nodes) {
        tour.run(nodes);
      } catch (RuntimeException e) {
        // Said before the nodes leave: leaving a cluster that lost a member takes seconds.
        PrintWriter err = spec.commandLine().getErr();
        return Cli.report(spec, e, err, ((Main) spec.root().userObject()).tracing);
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
        "Examples: conf/multi-jvm.conf (three JVMs on one host), conf/multi-host-tcp.conf;"
            + " add --config conf/fast-failover.conf (on every node) to fail over in seconds.",
        "Exit codes: 0 when it left as asked, 1 when the cluster removed it or it could not start,"
            + " 2 for bad arguments or configuration."
      })
  static final class NodeCommand implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Option(
        names = "--config",
        description =
            "HOCON file layered over the classpath's application.conf; repeat to layer several"
                + " (later ones win)")
    List<Path> configs = new ArrayList<>();

    @Option(
        names = "--name",
        defaultValue = "pekko-dsm",
        description = "actor system name; the same on every node (default ${DEFAULT-VALUE})")
    String name;

    @Option(names = "--host", description = "address Artery binds and advertises")
    String host;

    @Option(names = "--port", description = "Artery port of this node")
    Integer port;

    @Option(
        names = "--seed",
        description = "HOST:PORT of a seed node; repeat for several (overrides the config)")
    List<String> seeds = new ArrayList<>();

    @Override
    public Integer call() {
      for (String seed : seeds) {
        Cli.option(spec, "--seed", () -> NodeConfig.checkHostPort(seed));
      }
      Config config =
          Cli.usage(
              spec,
              () ->
                  NodeConfig.builder()
                      .configFiles(configs)
                      .name(name)
                      .host(host)
                      .port(port)
                      .seeds(seeds)
                      .build());
      Cli.option(spec, "--port", () -> DsmNodeMain.checkBindable(config));
      return DsmNodeMain.run(config, name, false, System.out);
    }
  }

  /** Runs {@code ./dsm} with {@code args} and returns its exit code (what {@link #main} exits). */
  static int run(String... args) {
    return run(new PrintWriter(System.err, true), args);
  }

  /** {@link #run(String...)} with errors written to {@code err}. */
  static int run(PrintWriter err, String... args) {
    Main main = new Main();
    main.tracing = java.util.Arrays.asList(args).contains("--verbose");
    CommandLine cli = Cli.commandLine(main, args);
    cli.setErr(err);
    return cli.execute(args);
  }

  public static void main(String[] args) {
    // Initialize logging before the actor systems start logging from several threads at once.
    org.slf4j.LoggerFactory.getILoggerFactory();
    System.exit(run(args));
  }
}
