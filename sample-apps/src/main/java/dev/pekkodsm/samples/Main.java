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
    subcommands = {Main.TourCommand.class})
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

  public static void main(String[] args) {
    // Initialize logging before the actor systems start logging from several threads at once.
    org.slf4j.LoggerFactory.getILoggerFactory();
    int code = new CommandLine(new Main()).execute(args);
    System.exit(code);
  }
}
