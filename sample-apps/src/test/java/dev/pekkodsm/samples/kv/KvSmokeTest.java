package dev.pekkodsm.samples.kv;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The harness's quick mode on every system: correctness and the report, not speed. */
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class KvSmokeTest {

  @Test
  void shouldRunEverySystemWithoutStaleReadsAndWriteTheReport(@TempDir Path dir) throws Exception {
    KvSpec spec = new KvSpec(500, 48, 32);
    Workload workload =
        new Workload(0.9, 0.99, 2, Duration.ofMillis(500), Duration.ofSeconds(1), 1);
    KvBench bench = new KvBench(spec, workload, System.out, false);
    List<KvResult> results = new ArrayList<>();
    for (String system : KvBench.SYSTEMS.keySet()) {
      KvResult r = bench.run(system, 3);
      results.add(r);
      assertTrue(r.ops() > 0, system + " did no operation: " + r);
      assertEquals(0, r.errors(), system + " failed: " + r.firstError());
      assertEquals(0, r.malformedReads(), system + " returned bytes of no value");
      assertTrue(r.reads() > 0, system + " was not checked");
      if (system.equals("dsm") || system.equals("delegation") || system.equals("local")) {
        assertEquals(0, r.staleReads(), system + " must be linearizable");
      }
    }
    KvResult dsm = results.get(0);
    assertTrue(dsm.messagesPerOp() < 1, "GETs send no message: " + dsm.messagesPerOp());
    KvReport report = new KvReport(results, Map.of("test", true));
    List<Path> files = report.write(dir);
    assertTrue(files.contains(dir.resolve("results.json")));
    assertTrue(Files.readString(dir.resolve("results.csv")).lines().count() == results.size() + 1);
    assertTrue(Files.size(dir.resolve("throughput-3n-read0.90.png")) > 1000);
  }
}
