package dev.pekkodsm.samples.socialnet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code ./dsm bench socialnet}: arguments checked before anything starts, and a forked run. */
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class SocialNetCommandTest {

  static int run(StringWriter err, String... args) {
    CommandLine cli = new CommandLine(new SocialNetCommand());
    cli.setErr(new PrintWriter(err));
    return cli.execute(args);
  }

  @Test
  void shouldRefuseBadArgumentsWithAClearMessage() {
    String[][] bad = {
      {"--variants=dsm,redis", "unknown variant redis"},
      {"--workloads=browse", "unknown workload browse"},
      {"--media=5x480", "is not FRAMESxWIDTHxHEIGHT"},
      {"--media=100x1920x1080", "at most"},
      {"--duration=soon", "is not a duration"},
      {"--rates=0", "must be in (0, 1000000]"},
      {"--nodes=0", "--nodes=0 must be in [1, 16]"},
      {"--page=0", "page=0 must be in [1, 100]"},
    };
    for (String[] b : bad) {
      StringWriter err = new StringWriter();
      assertEquals(2, run(err, b[0]), b[0]);
      assertTrue(err.toString().contains(b[1]), b[0] + ": " + err);
    }
  }

  @Test
  void shouldRunAVariantInAJvmOfItsOwnAndWriteTheReport(@TempDir Path dir) throws Exception {
    int code =
        run(new StringWriter(), "--smoke", "--variants=dsm", "--quiet-users=4", "--results=" + dir);
    assertEquals(0, code, "every answer passed the checks");
    Path run;
    try (Stream<Path> runs = Files.list(dir)) {
      run = runs.filter(p -> p.getFileName().toString().startsWith("socialnet-")).findFirst().get();
    }
    List<String> rows = Files.readAllLines(run.resolve("results.csv"));
    assertEquals(2, rows.size(), rows.toString());
    assertTrue(rows.get(1).startsWith("dsm,mixed,1x64x48,"), rows.get(1));
    assertTrue(Files.readString(run.resolve("results.json")).contains("\"jvmPerVariant\" : true"));
  }
}
