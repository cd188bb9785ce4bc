package dev.pekkodsm.samples.kv;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class KvGateTest {

  private static KvResult result(
      String system, boolean linearizable, long stale, long malformed, long errors) {
    return KvResults.of(system, linearizable, stale, malformed, errors);
  }

  @Test
  void shouldPassCleanResultsAndTheNearCachesStaleReads() {
    assertEquals(
        List.of(),
        KvGate.violations(
            List.of(
                result("dsm", true, 0, 0, 0), result("hazelcast-nearcache", false, 12_345, 0, 0))));
  }

  @Test
  void shouldFailStaleReadsOfEveryLinearizableSystem() {
    List<String> violations =
        KvGate.violations(
            List.of(result("hazelcast", true, 1, 0, 0), result("delegation", true, 2, 0, 0)));
    assertEquals(2, violations.size(), violations.toString());
    assertTrue(violations.get(0).startsWith("hazelcast (tcp, 3 nodes, 90 % GETs): 1 stale reads"));
    assertTrue(violations.get(1).contains("promises linearizable GETs"), violations.get(1));
  }

  @Test
  void shouldFailErrorsAndMalformedReadsOfEverySystemTheNearCacheIncluded() {
    List<String> violations =
        KvGate.violations(
            List.of(
                result("hazelcast-nearcache", false, 5, 0, 3),
                result("hazelcast-nearcache", false, 0, 1, 0),
                result("local", true, 0, 0, 1)));
    assertEquals(3, violations.size(), violations.toString());
    assertTrue(violations.get(0).contains("3 failed operations, first: "), violations.get(0));
    assertTrue(violations.get(0).contains("ask timed out"), violations.get(0));
    assertTrue(violations.get(1).contains("1 GETs returned bytes that are no value of the key"));
    assertTrue(violations.get(2).startsWith("local "), violations.get(2));
  }
}
