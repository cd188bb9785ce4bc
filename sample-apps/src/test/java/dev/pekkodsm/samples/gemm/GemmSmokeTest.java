package dev.pekkodsm.samples.gemm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The harness's quick mode on every system, on 3 nodes and a 4 x 4 grid (which 3 does not divide):
 * correct products, counted traffic, and the report.
 */
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class GemmSmokeTest {

  @Test
  void shouldMultiplyCorrectlyOnEverySystemAndWriteTheReport(@TempDir Path dir) throws Exception {
    GemmSpec spec = new GemmSpec(256, 64, GemmSpec.Inputs.RANDOM, 7, 1);
    GemmBench bench = new GemmBench(spec, System.out, false);
    List<GemmResult> results = new ArrayList<>();
    for (String system : GemmBench.SYSTEMS.keySet()) {
      GemmResult r = bench.run(system, 3);
      results.add(r);
      assertTrue(r.correct(), system + " computed a wrong product: " + r);
      assertEquals(0.0, r.freivaldsMaxError(), system);
      assertEquals(16, r.exactCellsChecked(), system + ": one exact cell per tile");
      if (!system.equals("local")) {
        assertEquals(3, r.nodes(), system);
        // Every node needs tiles that live on the others.
        assertTrue(r.bytesMoved() >= spec.tileBytes(), system + " moved nothing: " + r);
        assertTrue(r.messages() > 0, system + " sent no message: " + r);
      }
    }
    GemmResult dsm = results.get(0);
    GemmResult messages = results.get(4);
    // One-sided reads, each tile once per node that needs it: what the messages peer sends too
    // (plus the snapshots' headers).
    assertTrue(
        dsm.bytesMoved() >= messages.bytesMoved()
            && dsm.bytesMoved() < messages.bytesMoved() + 64 * 1024,
        "dsm read " + dsm.bytesMoved() + " bytes, messages sent " + messages.bytesMoved());
    GemmReport report = new GemmReport(results, Map.of("test", true));
    assertEquals(1.0, report.timeOverDsm(dsm), 1e-9);
    List<Path> files = report.write(dir);
    assertTrue(files.contains(dir.resolve("results.json")));
    assertEquals(results.size() + 1, Files.readAllLines(dir.resolve("results.csv")).size());
    assertTrue(Files.size(dir.resolve("time-3n-256-tile64.png")) > 1000);
  }
}
