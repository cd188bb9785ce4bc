package dev.pekkodsm.samples.chaos;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pekkodsm.samples.chaos.Op.Kind;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The checker on histories written by hand; times are milliseconds, written as nanoseconds. */
class ChaosCheckerTest {

  private static final long MS = 1_000_000;
  private static final Timeline NO_FAULT = new Timeline(0, 50 * MS, 50 * MS, 100 * MS);
  private static final long DEADLINE = 10 * MS;

  private static Op set(long key, long version, long invokeMs, long completeMs) {
    return Op.set(0, key, version, invokeMs * MS, completeMs * MS);
  }

  private static Op get(long key, long version, long invokeMs, long completeMs) {
    return Op.get(1, key, version, invokeMs * MS, completeMs * MS);
  }

  private static Op failed(long key, Kind kind, long version, long invokeMs, long completeMs) {
    return Op.failed(2, key, kind, version, invokeMs * MS, completeMs * MS, "ObjectLostException");
  }

  private static ChaosVerdict check(Op... ops) {
    return ChaosChecker.check(List.of(ops), NO_FAULT, DEADLINE);
  }

  @Test
  void shouldFindNothingWrongInACorrectHistory() {
    ChaosVerdict v =
        check(
            set(1, 1, 0, 1), get(1, 1, 2, 3), set(1, 2, 4, 5), get(1, 2, 6, 7), get(1, 2, 90, 91));
    assertEquals(List.of(), v.violations());
    assertEquals(2, v.acknowledgedSets());
    assertEquals(3, v.reads());
    assertEquals(0, v.keysUnchecked());
  }

  @Test
  void shouldCountAnAcknowledgedSetLostWhenTheLastReadShowsAnOlderValue() {
    ChaosVerdict v = check(set(1, 1, 0, 1), set(1, 2, 4, 5), get(1, 1, 90, 91));
    assertEquals(1, v.lostSets(), v.examples().toString());
    assertEquals(1, v.keysWithLostSets());
    assertEquals(1, v.staleReads(), "the read itself is stale too");
    assertTrue(v.examples().stream().anyMatch(e -> e.startsWith("lost: SET of key 1 to v2")));
    Timeline later = new Timeline(1 * MS, 50 * MS, 50 * MS, 100 * MS);
    ChaosVerdict shifted =
        ChaosChecker.check(
            List.of(set(1, 1, 1, 2), set(1, 2, 4, 5), get(1, 1, 90, 91)), later, DEADLINE);
    assertTrue(
        shifted
            .examples()
            .contains(
                "lost: SET of key 1 to v2 acknowledged at 0.004 s; the last" + " read returned v1"),
        "examples count from the workload's start: " + shifted.examples());
  }

  @Test
  void shouldCountTheLatestAcknowledgedSetsLostWhenEveryLaterReadFails() {
    ChaosVerdict v =
        check(
            set(7, 1, 0, 1),
            set(7, 2, 2, 3),
            failed(7, Kind.GET, 0, 60, 61),
            failed(7, Kind.GET, 0, 70, 71));
    assertEquals(1, v.lostSets(), "v2, the one a correct store must still show");
    assertEquals(0, v.staleReads());
    assertEquals(1, v.keysUnavailableAtEnd());
    assertTrue(v.longestUnavailableToEnd());
    assertEquals(11.0, v.longestUnavailableMs(), 1e-9);
    assertEquals(Map.of("ObjectLostException", 2L), v.errorKinds());
  }

  @Test
  void shouldNotCountAnInDoubtSetLostWhetherOrNotItIsVisible() {
    Op ack = set(3, 1, 0, 1);
    Op inDoubt = Op.failed(0, 3, Kind.SET, 2, 2 * MS, 3 * MS, "DsmTimeoutException");
    ChaosVerdict seen = check(ack, inDoubt, get(3, 2, 90, 91));
    assertEquals(List.of(), seen.violations(), "the in-doubt SET took effect");
    ChaosVerdict unseen = check(ack, inDoubt, get(3, 1, 90, 91));
    assertEquals(List.of(), unseen.violations(), "it did not");
    ChaosVerdict lateEffect = check(ack, inDoubt, get(3, 2, 90, 91), get(3, 1, 95, 96));
    assertEquals(0, lateEffect.lostSets(), "v1 is not older than an in-doubt SET");
    assertEquals(0, lateEffect.staleReads());
  }

  @Test
  void shouldNotCountAReadOverlappingAWriteStale() {
    // v2 is written from 10 to 20 ms; reads during it may return v1 or v2, in any order.
    ChaosVerdict v =
        check(
            set(5, 1, 0, 1),
            set(5, 2, 10, 20),
            get(5, 2, 11, 12),
            get(5, 1, 13, 14),
            get(5, 2, 21, 22));
    assertEquals(List.of(), v.violations());
    // Concurrent acknowledged SETs: either may be last; neither is lost.
    ChaosVerdict concurrent =
        check(set(6, 1, 0, 10), set(6, 2, 5, 15), get(6, 1, 20, 21), get(6, 1, 30, 31));
    assertEquals(List.of(), concurrent.violations());
  }

  @Test
  void shouldCountAReadStaleOnlyWhenAnAcknowledgedSetPrecededIt() {
    ChaosVerdict v =
        check(
            set(2, 1, 0, 1), set(2, 2, 5, 6), get(2, 1, 7, 8), get(2, 2, 9, 10), get(2, 2, 90, 91));
    assertEquals(1, v.staleReads());
    assertEquals(0, v.lostSets(), "the last read shows v2: stale once, not lost");
    ChaosVerdict absent = check(set(2, 1, 0, 1), get(2, Op.ABSENT, 3, 4), get(2, 1, 90, 91));
    assertEquals(1, absent.staleReads(), "no value after an acknowledged SET is stale");
    ChaosVerdict beforeLoad = check(get(2, Op.ABSENT, 0, 1), set(2, 1, 2, 3), get(2, 1, 90, 91));
    assertEquals(List.of(), beforeLoad.violations());
  }

  @Test
  void shouldCountBytesNoSetWroteAsMalformed() {
    ChaosVerdict v =
        check(set(4, 1, 0, 1), get(4, 99, 2, 3), get(4, Op.MALFORMED, 4, 5), get(4, 1, 90, 91));
    assertEquals(2, v.malformedReads());
    assertEquals(0, v.staleReads());
  }

  @Test
  void shouldCountOperationsPastTheDeadlineOrNeverReturnedAsHung() {
    ChaosVerdict v =
        check(
            set(1, 1, 0, 1),
            set(1, 2, 2, 2 + 11),
            get(1, 2, 20, 20 + 10),
            Op.pending(3, 1, Kind.SET, 3, 40 * MS),
            get(1, 2, 41, 42));
    assertEquals(2, v.hungOps(), v.examples().toString());
    assertEquals(1, v.neverCompleted());
    assertEquals(11.0, v.slowestOpMs(), 1e-9);
    assertEquals(0, v.slowOps(), "none took over a second");
    ChaosVerdict slow = ChaosChecker.check(List.of(set(1, 1, 0, 1001)), NO_FAULT, 2000 * MS);
    assertEquals(1, slow.slowOps());
    assertEquals(0, slow.hungOps());
    assertEquals(1, v.keysUnchecked(), "a SET that never returned leaves the key unchecked");
    assertEquals(0, v.lostSets());
  }

  @Test
  void shouldMeasureTheLongestRunOfFailuresOfAKey() {
    ChaosVerdict v =
        check(
            set(1, 1, 0, 1),
            failed(1, Kind.GET, 0, 10, 12),
            failed(1, Kind.SET, 2, 13, 15),
            failed(1, Kind.GET, 0, 16, 30),
            get(1, 1, 31, 32), // served again: the run was 10..30 ms
            failed(2, Kind.GET, 0, 40, 45),
            get(2, Op.ABSENT, 46, 47),
            set(1, 3, 50, 51),
            get(1, 3, 90, 91));
    assertEquals(20.0, v.longestUnavailableMs(), 1e-9);
    assertEquals(1, v.longestUnavailableKey());
    assertFalse(v.longestUnavailableToEnd());
    assertEquals(0, v.keysUnavailableAtEnd());
    assertEquals(Map.of("ObjectLostException", 4L), v.errorKinds());
  }

  @Test
  void shouldCountAnOperationThatSucceededOnlyAfterALongWaitAsUnavailability() {
    ChaosVerdict v =
        check(
            set(1, 1, 0, 1),
            get(1, 1, 10, 12),
            set(1, 2, 20, 2_520), // blocked 2.5 s, then acknowledged
            get(1, 2, 2_521, 2_522),
            failed(2, Kind.GET, 0, 3_000, 3_010),
            get(2, Op.ABSENT, 3_011, 3_012));
    assertEquals(2_500.0, v.longestUnavailableMs(), 1e-9);
    assertEquals(1, v.longestUnavailableKey());
    assertFalse(v.longestUnavailableToEnd());
  }

  @Test
  void shouldMeasureThroughputInEachWindowOfTheTimeline() {
    Timeline t = new Timeline(0, 1000 * MS, 3000 * MS, 4000 * MS);
    ChaosVerdict v =
        ChaosChecker.check(
            List.of(
                set(1, 1, 0, 100),
                get(1, 1, 200, 300),
                get(1, 1, 1000, 1500),
                failed(1, Kind.GET, 0, 1600, 1700),
                get(1, 1, 3500, 3600),
                get(1, 1, 4100, 4200)),
            t,
            10_000 * MS);
    assertEquals(2.0, v.beforeOpsPerSec(), 1e-9);
    assertEquals(0.5, v.duringOpsPerSec(), 1e-9, "one success in 2 s; the failure not counted");
    assertEquals(1.0, v.afterOpsPerSec(), 1e-9, "the read after the end is not counted");
    assertTrue(Double.isNaN(check(set(1, 1, 0, 1)).duringOpsPerSec()), "no fault, no window");
  }

  @Test
  void shouldRefuseTwoSetsOfOneVersion() {
    assertThrows(IllegalArgumentException.class, () -> check(set(1, 1, 0, 1), set(1, 1, 2, 3)));
  }
}
