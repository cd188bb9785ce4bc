package dev.pekkodsm.samples.kv;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.Test;

class StaleReadCheckerTest {

  private static byte[] write(StaleReadChecker checker, long key, byte[][] store) {
    long[] start = new long[1];
    long version = checker.beginWrite(key, start);
    byte[] value = KvValues.of(key, version, 16);
    store[(int) key] = value;
    checker.endWrite(key, version, start[0]);
    return value;
  }

  @Test
  void shouldFlagAReadOfAValueOverwrittenBeforeTheReadBegan() {
    StaleReadChecker checker = new StaleReadChecker(4);
    byte[][] store = new byte[4][];
    byte[] first = write(checker, 1, store);
    byte[] second = write(checker, 1, store);

    assertFalse(checker.endRead(1, checker.beginRead(1), second), "the latest value is fresh");
    assertTrue(checker.endRead(1, checker.beginRead(1), first), "the overwritten one is stale");
    assertEquals(2, checker.reads());
    assertEquals(1, checker.staleReads());
  }

  @Test
  void shouldNotFlagValuesOfOverlappingWrites() {
    StaleReadChecker checker = new StaleReadChecker(1);
    byte[][] store = new byte[1][];
    write(checker, 0, store);
    long[] a = new long[1];
    long[] b = new long[1];
    long va = checker.beginWrite(0, a);
    long vb = checker.beginWrite(0, b);
    // b completes first, then a: the store may have ordered them either way.
    checker.endWrite(0, vb, b[0]);
    checker.endWrite(0, va, a[0]);
    assertFalse(checker.endRead(0, checker.beginRead(0), KvValues.of(0, va, 16)));
    assertFalse(checker.endRead(0, checker.beginRead(0), KvValues.of(0, vb, 16)));
    assertEquals(0, checker.staleReads());
  }

  @Test
  void shouldNotFlagAReadThatBeganBeforeTheOverwriteCompleted() {
    StaleReadChecker checker = new StaleReadChecker(1);
    byte[][] store = new byte[1][];
    byte[] old = write(checker, 0, store);
    long begun = checker.beginRead(0); // the read starts ...
    write(checker, 0, store); // ... a write completes meanwhile ...
    assertFalse(checker.endRead(0, begun, old), "... and the read may still return the old one");
  }

  @Test
  void shouldFlagAMissingValueOnceTheKeyWasWrittenAndCountMalformedBytes() {
    StaleReadChecker checker = new StaleReadChecker(2);
    assertFalse(checker.endRead(0, checker.beginRead(0), null), "nothing written yet");
    byte[] value = write(checker, 0, new byte[2][]);
    assertTrue(checker.endRead(0, checker.beginRead(0), null), "written, then missing");
    assertFalse(checker.endRead(1, checker.beginRead(1), value), "key 0's bytes under key 1");
    byte[] torn = value.clone();
    torn[10] ^= 1;
    checker.endRead(0, checker.beginRead(0), torn);
    assertEquals(2, checker.malformedReads());
  }

  /** A store whose readers keep the first value they saw of each key, forever. */
  private static final class StaleCacheKv extends InMemoryKv {
    private final ConcurrentHashMap<Long, byte[]> cache = new ConcurrentHashMap<>();

    @Override
    byte[] get(long key) {
      return cache.computeIfAbsent(key, map::get);
    }
  }

  @Test
  void shouldCatchADeliberatelyStaleReaderInARealRun() throws Exception {
    KvSpec spec = new KvSpec(200, 32, 16);
    Workload workload =
        new Workload(0.5, 0.99, 2, Duration.ofMillis(100), Duration.ofMillis(500), 7);
    KvBench bench = new KvBench(spec, workload, System.out, false);
    KvResult stale = bench.run("stale-cache", true, new StaleCacheKv());
    assertTrue(stale.staleReads() > 0, "the checker must see the stale cache: " + stale);
    assertEquals(0, stale.malformedReads());

    KvResult fresh = bench.run("local", true, LocalKv.start(2, spec, DsmTransport.SHM));
    assertEquals(0, fresh.staleReads(), "a ConcurrentHashMap is linearizable: " + fresh);
    assertTrue(fresh.reads() > 1000);

    // The gate fails the stale cache when it claims linearizability, and only then.
    List<String> violations = KvGate.violations(List.of(stale, fresh));
    assertEquals(1, violations.size(), violations.toString());
    assertTrue(violations.get(0).startsWith("stale-cache (none, 2 nodes, 50 % GETs): "));
    KvResult allowed = bench.run("stale-cache", false, new StaleCacheKv());
    assertTrue(allowed.staleReads() > 0);
    assertEquals(List.of(), KvGate.violations(List.of(allowed, fresh)));
  }
}
