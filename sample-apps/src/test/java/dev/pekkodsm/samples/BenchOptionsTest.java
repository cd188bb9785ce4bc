package dev.pekkodsm.samples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.util.concurrent.Callable;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** The options and duties every {@code ./dsm bench} command shares. */
class BenchOptionsTest {

  @Command(name = "probe")
  static final class Probe implements Callable<Integer> {
    @Mixin BenchOptions common;

    @Option(names = "--nodes", defaultValue = "3")
    int nodes;

    @Override
    public Integer call() throws Exception {
      return common.validate(
          () -> {
            if (nodes < 1) {
              throw new IllegalArgumentException("--nodes=" + nodes + " must be at least 1");
            }
            return 0;
          });
    }
  }

  @Test
  void shouldNameTheRunsFolderByKindAndTime() {
    assertEquals(
        Path.of("results", "kv-20250131-235958"),
        BenchOptions.folder(Path.of("results"), "kv", LocalDateTime.of(2025, 1, 31, 23, 59, 58)));
  }

  @Test
  void shouldTurnARejectedOptionIntoAUsageError() {
    StringWriter err = new StringWriter();
    CommandLine cli = Cli.commandLine(new Probe(), new String[0]);
    cli.setErr(new PrintWriter(err, true));
    assertEquals(Cli.EXIT_USAGE, cli.execute("--nodes=0"));
    assertTrue(err.toString().startsWith("./probe: --nodes=0 must be at least 1"), err.toString());
    assertEquals(0, Cli.commandLine(new Probe(), new String[0]).execute());
  }

  @Test
  void shouldRunInThisJvmInProcessOrAsAForkedChildOnly() {
    Probe forked = new Probe();
    new CommandLine(forked).parseArgs();
    assertFalse(forked.common.inThisJvm());
    assertThrows(IllegalStateException.class, () -> forked.common.writeResult("x"));

    Probe inProcess = new Probe();
    new CommandLine(inProcess).parseArgs("--in-process");
    assertTrue(inProcess.common.inThisJvm());
    assertFalse(inProcess.common.forkedChild());

    Probe child = new Probe();
    new CommandLine(child).parseArgs("--result-file=/tmp/r.json");
    assertTrue(child.common.inThisJvm());
    assertTrue(child.common.forkedChild());
  }
}
