package dev.pekkodsm.samples.kv;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The harness's quick mode on every system, every pekko-dsm system over both transports:
 * correctness, what each result records, and the report; not speed.
 */
@Timeout(value = 420, unit = TimeUnit.SECONDS)
class KvSmokeTest {

  /** The systems that promise linearizable GETs, so that a stale read fails them. */
  private static final Set<String> LINEARIZABLE =
      Set.of("dsm", "dsm-replicated", "delegation", "hazelcast", "hazelcast-nobackup", "local");

  @Test
  void shouldRunEverySystemWithoutStaleReadsAndWriteTheReport(@TempDir Path dir) throws Exception {
    assertEquals(
        LINEARIZABLE,
        KvBench.SYSTEMS.values().stream()
            .filter(KvSystemType::linearizable)
            .map(KvSystemType::name)
            .collect(Collectors.toSet()),
        "every pekko-dsm variant and every linearizable peer is gated on stale reads");
    KvSpec spec = new KvSpec(500, 48, 32);
    Workload workload =
        new Workload(0.9, 0.99, 2, Duration.ofMillis(500), Duration.ofSeconds(1), 1);
    KvBench bench = new KvBench(spec, workload, System.out, false);
    List<KvResult> results = new ArrayList<>();
    for (KvSystemType type : KvBench.SYSTEMS.values()) {
      for (DsmTransport transport :
          type.dsm() ? List.of(DsmTransport.values()) : List.of(DsmTransport.SHM)) {
        KvResult r = bench.run(type.name(), 3, transport);
        results.add(r);
        String run = type.name() + " over " + r.transport();
        assertTrue(r.ops() > 0, run + " did no operation: " + r);
        assertEquals(0, r.errors(), run + " failed: " + r.firstError());
        assertEquals(0, r.malformedReads(), run + " returned bytes of no value");
        assertTrue(r.reads() > 0, run + " was not checked");
        assertEquals(type.linearizable(), r.linearizable(), run);
        if (type.linearizable()) {
          assertEquals(0, r.staleReads(), run + " must be linearizable");
        }
        String expectedTransport =
            type.dsm() ? transport.configName() : type.name().equals("local") ? "none" : "tcp";
        assertEquals(expectedTransport, r.transport(), type.name());
        assertMessagesWithinDesign(type.name(), r);
      }
    }
    assertEquals(List.of(), KvGate.violations(results));
    KvReport report = new KvReport(results, Map.of("test", true));
    List<Path> files = report.write(dir);
    assertTrue(files.contains(dir.resolve("results.json")));
    assertEquals(results.size() + 1, Files.readString(dir.resolve("results.csv")).lines().count());
    assertTrue(Files.size(dir.resolve("throughput-3n-read0.90.png")) > 1000);
  }

  /**
   * Messages per operation at 90 % GETs on 3 nodes, where 2/3 of the keys live on another node. A
   * count taken over a longer interval than the operations (as when Hazelcast's lagging metrics
   * were read while the clients ran on) lands far above the upper bounds.
   */
  private static void assertMessagesWithinDesign(String system, KvResult r) {
    double perOp = r.messagesPerOp();
    switch (system + "/" + r.transport()) {
      // Over shm a GET and an uncontended SET send nothing; a locker that finds its bucket held
      // queues at the home (a request and a grant).
      case "dsm/shm" -> assertTrue(perOp < 1, system + ": " + perOp);
      // Over tcp a remote GET is one request to the read server and its reply (1.2 per op); a
      // remote SET two (the lock with the value, the write with the unlock) while the handle's
      // last view of the lock word is right, up to four when it is not: 0.3 to 0.5 per op.
      case "dsm/tcp" -> assertTrue(perOp > 1.0 && perOp < 3.0, system + " over tcp: " + perOp);
      // A remote GET is a request and a response (1.2 per op); a SET adds at most a backup and
      // its acknowledgement: at most 2.2 per op.
      case "hazelcast/tcp", "hazelcast-nobackup/tcp", "hazelcast-nearcache/tcp" ->
          assertTrue(
              perOp < 2.5 && (system.endsWith("nearcache") || perOp > 1.0), system + ": " + perOp);
      default -> {}
    }
  }
}
