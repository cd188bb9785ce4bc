package dev.pekkodsm.samples.socialnet;

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

/** The harness's quick mode on every variant: the checks and the report, not speed. */
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class SocialNetSmokeTest {

  @Test
  void shouldRunEveryVariantWithEveryAnswerCheckedAndNothingLeftOver(@TempDir Path dir)
      throws Exception {
    SocialNetBench.Spec spec =
        new SocialNetBench.Spec(
            3,
            new MediaShape(1, 64, 48),
            6,
            10,
            8,
            Duration.ofMillis(500),
            Duration.ofSeconds(1),
            Duration.ofSeconds(1),
            7,
            1,
            8,
            Duration.ofSeconds(20));
    SocialNetBench bench = new SocialNetBench(spec, System.out);
    List<SnResult> results = new ArrayList<>();
    for (String variant : SocialNet.VARIANTS) {
      SnResult r = bench.fixed(variant, Workload.MIXED, List.of(30.0), "fixed").get(0);
      results.add(r);
      assertEquals(0, r.errors(), variant + " failed: " + r.firstError());
      assertTrue(r.requests() > 10, variant + " did too little: " + r);
      assertTrue(r.checked() > r.requests(), variant + " was not checked: " + r);
      assertTrue(r.mediaVerified() > 0, variant + " media not verified: " + r);
      assertTrue(r.correct(), variant + ": " + r);
      assertTrue(r.wireBytesPerRequest() > 0, variant + " sent nothing? " + r);
    }
    SnResult dsm = results.get(0);
    assertTrue(dsm.dsmMessagesPerRequest() > 0, "dsm passes handles: " + dsm);
    assertTrue(dsm.oneSidedBytesPerRequest() > 0, "dsm reads media one-sided: " + dsm);
    SnReport report = new SnReport(results, Map.of("test", true));
    List<Path> files = report.write(dir);
    assertTrue(files.contains(dir.resolve("results.json")));
    assertEquals(4, Files.readAllLines(dir.resolve("results.csv")).size());
    assertTrue(Files.size(dir.resolve("latency-mixed-1x64x48.png")) > 1000);
  }
}
