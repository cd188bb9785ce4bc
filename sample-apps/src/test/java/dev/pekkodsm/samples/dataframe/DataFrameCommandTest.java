package dev.pekkodsm.samples.dataframe;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pekkodsm.samples.Main;
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

/** {@code ./dsm bench dataframe} end to end, and its answers to bad arguments. */
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class DataFrameCommandTest {

  @Test
  void shouldRunEachSystemInItsOwnJvmCheckTheAnswersAndWriteTheReport(@TempDir Path dir)
      throws Exception {
    int code =
        new CommandLine(new Main())
            .execute(
                "bench",
                "dataframe",
                "--systems=duckdb,dsm",
                "--nodes=2",
                "--rows=1e4",
                "--k=10",
                "--runs=1",
                "--no-progress",
                "--data-dir=" + dir.resolve("data"),
                "--results=" + dir.resolve("results"));
    assertEquals(0, code, "exit code 0: every answer matched DuckDB's");
    assertTrue(Files.exists(dir.resolve("data").resolve("G1_1e4_1e1_0_0.bin")), "cached table");
    Path run;
    try (Stream<Path> runs = Files.list(dir.resolve("results"))) {
      run = runs.filter(p -> p.getFileName().toString().startsWith("dataframe-")).findFirst().get();
    }
    List<String> rows = Files.readAllLines(run.resolve("results.csv"));
    assertEquals(1 + 2 * 11, rows.size(), rows.toString());
    assertTrue(rows.get(12).startsWith("dsm,2,10000,10,q1,"), rows.get(12));
    assertTrue(rows.get(12).contains(",ok,"), "checked against DuckDB: " + rows.get(12));
    assertTrue(Files.readString(run.resolve("results.json")).contains("\"dsm/duckdb\""));
  }

  @Test
  void shouldRejectBadArgumentsWithAClearMessageBeforeStartingAnything(@TempDir Path dir) {
    assertRejected(dir, "unknown question 'q11'", "--questions=q1,q11");
    assertRejected(dir, "does not exist", "--data-file=" + dir.resolve("missing.bin"));
    assertRejected(dir, "must be a positive multiple of k=100", "--rows=12345");
    assertRejected(dir, "unknown system spark", "--systems=duckdb,spark");
    assertRejected(dir, "not a whole count", "--rows=many");
    assertRejected(dir, "--nodes=0 must be at least 1", "--nodes=0");
    assertFalse(Files.exists(dir.resolve("data")), "nothing generated");
  }

  private static void assertRejected(Path dir, String message, String... args) {
    StringWriter err = new StringWriter();
    CommandLine cli = new CommandLine(new Main());
    cli.setErr(new PrintWriter(err));
    String[] all =
        Stream.concat(
                Stream.of("bench", "dataframe", "--data-dir=" + dir.resolve("data")),
                Stream.of(args))
            .toArray(String[]::new);
    assertEquals(2, cli.execute(all), String.join(" ", args));
    assertTrue(err.toString().contains(message), err.toString());
  }
}
