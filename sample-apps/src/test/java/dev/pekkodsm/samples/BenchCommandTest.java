package dev.pekkodsm.samples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code ./dsm bench kv} end to end: each system in a JVM of its own, then the report. */
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class BenchCommandTest {

  @Test
  void shouldRunEachSystemInItsOwnJvmAndWriteTheReport(@TempDir Path dir) throws Exception {
    int code =
        new CommandLine(new Main())
            .execute(
                "bench",
                "kv",
                "--smoke",
                "--no-progress",
                "--systems=local,dsm",
                "--nodes=1",
                "--results=" + dir);
    assertEquals(0, code, "exit code: 0 when dsm and delegation saw no stale read");
    Path run;
    try (Stream<Path> runs = Files.list(dir)) {
      run = runs.filter(p -> p.getFileName().toString().startsWith("kv-")).findFirst().get();
    }
    List<String> rows = Files.readAllLines(run.resolve("results.csv"));
    assertEquals(3, rows.size(), "a header and one row per system: " + rows);
    assertTrue(rows.get(1).startsWith("local,1,2,0.90"), rows.get(1));
    assertTrue(rows.get(2).startsWith("dsm,1,2,0.90"), rows.get(2));
    String json = Files.readString(run.resolve("results.json"));
    assertTrue(json.contains("\"jvmPerSystem\" : true"), json);
  }

  @Test
  void shouldRejectAnUnknownSystemAndABadDuration() {
    CommandLine cli = new CommandLine(new Main());
    assertEquals(2, cli.execute("bench", "kv", "--systems=redis"));
    assertEquals(2, cli.execute("bench", "kv", "--duration=soon"));
  }
}
