package dev.pekkodsm.samples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.pekkodsm.samples.kv.KvResult;
import dev.pekkodsm.samples.kv.KvResults;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
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
  void shouldRunEachSystemInItsOwnJvmOverEachTransportAndWriteTheReport(@TempDir Path dir)
      throws Exception {
    int code =
        new CommandLine(new Main())
            .execute(
                "bench",
                "kv",
                "--smoke",
                "--no-progress",
                "--systems=local,dsm",
                "--transport=shm,tcp",
                "--nodes=2",
                "--results=" + dir);
    assertEquals(0, code, "exit code: 0 when no system failed a gate");
    Path run;
    try (Stream<Path> runs = Files.list(dir)) {
      run = runs.filter(p -> p.getFileName().toString().startsWith("kv-")).findFirst().get();
    }
    List<String> rows = Files.readAllLines(run.resolve("results.csv"));
    assertEquals(4, rows.size(), "a header and one row per system and transport: " + rows);
    assertTrue(rows.get(0).startsWith("system,transport,linearizable,nodes"), rows.get(0));
    assertTrue(rows.get(1).startsWith("local,none,true,2,2,0.90"), rows.get(1));
    assertTrue(rows.get(2).startsWith("dsm,shm,true,2,2,0.90"), rows.get(2));
    assertTrue(rows.get(3).startsWith("dsm,tcp,true,2,2,0.90"), rows.get(3));

    JsonNode json = new ObjectMapper().readTree(run.resolve("results.json").toFile());
    assertTrue(json.get("run").get("jvmPerSystem").asBoolean(), json.toString());
    assertEquals("tcp", json.get("results").get(2).get("transport").asText());
    // Three runs of 1 s warm-up and 2 s measured each lie between the start and the end.
    LocalDateTime started = LocalDateTime.parse(json.get("run").get("started").asText());
    LocalDateTime finished = LocalDateTime.parse(json.get("run").get("finished").asText());
    assertTrue(
        Duration.between(started, finished).compareTo(Duration.ofSeconds(9)) >= 0,
        "started " + started + ", finished " + finished);
    assertEquals(
        "kv-" + started.format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")),
        run.getFileName().toString(),
        "the folder is named by the start time");
  }

  @Test
  void shouldRejectAnUnknownSystemTransportAndDuration() {
    CommandLine cli = new CommandLine(new Main());
    assertEquals(2, cli.execute("bench", "kv", "--systems=redis"));
    assertEquals(2, cli.execute("bench", "kv", "--transport=rdma"));
    assertEquals(2, cli.execute("bench", "kv", "--duration=soon"));
  }

  @Test
  void shouldExitWithGateFailedAndNameEachBrokenCondition() {
    KvResult clean = result("dsm", true, 0, 0);
    KvResult nearCache = result("hazelcast-nearcache", false, 900, 0);
    KvResult stale = result("hazelcast", true, 1, 0);
    KvResult failing = result("hazelcast-nearcache", false, 0, 2);

    ByteArrayOutputStream err = new ByteArrayOutputStream();
    PrintStream out = new PrintStream(err, true, StandardCharsets.UTF_8);
    assertEquals(0, BenchCommand.Kv.exitCode(List.of(clean, nearCache), out));
    assertEquals("", err.toString(StandardCharsets.UTF_8));

    assertEquals(
        BenchCommand.Kv.GATE_FAILED,
        BenchCommand.Kv.exitCode(List.of(clean, nearCache, stale, failing), out));
    String printed = err.toString(StandardCharsets.UTF_8);
    assertTrue(printed.contains("hazelcast (tcp, 3 nodes, 90 % GETs): 1 stale reads"), printed);
    assertTrue(
        printed.contains("hazelcast-nearcache (tcp, 3 nodes, 90 % GETs): 2 failed"), printed);
    assertEquals(2, printed.lines().filter(l -> l.startsWith("  ")).count(), printed);
  }

  private static KvResult result(String system, boolean linearizable, long stale, long errors) {
    return KvResults.of(system, linearizable, stale, 0, errors);
  }
}
