package dev.pekkodsm.coherence;

import static dev.pekkodsm.coherence.BorrowState.Attempt.GONE;
import static dev.pekkodsm.coherence.BorrowState.Attempt.GRANTED;
import static dev.pekkodsm.coherence.BorrowState.Attempt.MUST_WAIT;
import static dev.pekkodsm.coherence.BorrowState.Kind.EXCLUSIVE;
import static dev.pekkodsm.coherence.BorrowState.Kind.LEND;
import static dev.pekkodsm.coherence.BorrowState.Kind.SHARED;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pekkodsm.coherence.BorrowState.Phase;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class BorrowStateTest {

  static final NodeId A = NodeId.of(0xA);
  static final NodeId B = NodeId.of(0xB);
  static final long W = LendLedger.INITIAL_WEIGHT;

  final BorrowState s = new BorrowState(0);

  @Test
  void shouldAllowManySharedBorrowsAtOnce() {
    assertEquals(GRANTED, s.tryAcquire(SHARED, null, 0, null));
    assertEquals(GRANTED, s.tryAcquire(SHARED, null, 0, null));
    assertEquals(GRANTED, s.tryAcquire(LEND, B, W, null));
    assertEquals(2, s.readers());
  }

  @Test
  void shouldNotGrantAWriterWhileReadersOrLendsExist() {
    s.tryAcquire(SHARED, null, 0, null);
    assertEquals(MUST_WAIT, s.tryAcquire(EXCLUSIVE, null, 0, "w"));
    s.endShared();
    s.tryAcquire(LEND, B, W, null);
    assertEquals(MUST_WAIT, s.tryAcquire(EXCLUSIVE, null, 0, "w"));
    s.lends().release(B, W);
    assertEquals(GRANTED, s.tryAcquire(EXCLUSIVE, null, 0, "w"));
  }

  @Test
  void shouldNotGrantAnythingWhileAWriterHoldsTheObject() {
    s.tryAcquire(EXCLUSIVE, null, 0, "w");
    assertEquals(MUST_WAIT, s.tryAcquire(SHARED, null, 0, null));
    assertEquals(MUST_WAIT, s.tryAcquire(LEND, B, W, null));
    assertEquals(MUST_WAIT, s.tryAcquire(EXCLUSIVE, null, 0, "w2"));
  }

  @Test
  void shouldAdvanceTheColorOnlyAfterAWrite() {
    s.tryAcquire(EXCLUSIVE, null, 0, "transfer check");
    assertFalse(s.endExclusive(false));
    assertEquals(0, s.color());
    s.tryAcquire(EXCLUSIVE, null, 0, "write");
    assertFalse(s.endExclusive(true));
    assertEquals(1, s.color());
  }

  @Test
  void shouldSayWhenTheColorRunsOut() {
    BorrowState old = new BorrowState(Integer.MAX_VALUE);
    old.tryAcquire(EXCLUSIVE, null, 0, "w");
    assertTrue(old.endExclusive(true));
    assertEquals(Integer.MAX_VALUE, old.color(), "not wrapped to a used color");
    old.resetColor(0);
    assertEquals(0, old.color());
  }

  @Test
  void shouldServeWaitersInArrivalOrder() {
    s.tryAcquire(SHARED, null, 0, null);
    var writer = s.enqueue(EXCLUSIVE, 100, null, 0, "w", "writer");
    // A reader arriving after a queued writer waits behind it, even though it is compatible now.
    assertEquals(MUST_WAIT, s.tryAcquire(SHARED, null, 0, null));
    var reader1 = s.enqueue(SHARED, 100, null, 0, null, "r1");
    var reader2 = s.enqueue(SHARED, 100, null, 0, null, "r2");
    assertEquals(List.of(), s.grantWaiting());
    s.endShared();
    assertEquals(List.of(writer), s.grantWaiting());
    assertTrue(s.hasWriter());
    s.endExclusive(true);
    assertEquals(List.of(reader1, reader2), s.grantWaiting(), "consecutive readers together");
    assertEquals(2, s.readers());
  }

  @Test
  void shouldLetLocalReadersPassAWriterThatWaitsForLends() {
    s.tryAcquire(LEND, B, W, null);
    s.enqueue(EXCLUSIVE, 100, null, 0, "w", "writer");
    assertEquals(
        GRANTED,
        s.tryAcquire(SHARED, null, 0, null),
        "the writer cannot go before the lend is back anyway");
    assertEquals(MUST_WAIT, s.tryAcquire(LEND, A, W, null), "new lends would starve the writer");
    s.endShared();
    s.lends().release(B, W);
    assertEquals(
        MUST_WAIT,
        s.tryAcquire(SHARED, null, 0, null),
        "once the lends are back, readers queue behind the writer");
    assertEquals(1, s.grantWaiting().size());
    assertTrue(s.hasWriter());
  }

  @Test
  void shouldExpireWaitersAtTheirDeadlineAndUnblockThoseBehind() {
    s.tryAcquire(LEND, B, W, null);
    var writer = s.enqueue(EXCLUSIVE, 50, null, 0, "w", "writer");
    var reader = s.enqueue(SHARED, 500, null, 0, null, "reader");
    assertEquals(List.of(), s.expire(49));
    assertEquals(List.of(writer), s.expire(50));
    assertEquals(List.of(reader), s.grantWaiting());
  }

  @Test
  void shouldDescribeTheHolders() {
    s.tryAcquire(SHARED, null, 0, null);
    s.tryAcquire(LEND, A, W, null);
    s.tryAcquire(LEND, B, W, null);
    s.tryAcquire(LEND, B, W, null);
    s.enqueue(EXCLUSIVE, 100, null, 0, "w", null);
    var h = s.holders();
    assertEquals(1, h.readers());
    assertNull(h.writer());
    assertEquals(Map.of(A, 1, B, 2), h.lentRefs());
    assertEquals(3, h.lentCount());
    assertEquals(1, h.queued());
  }

  @Test
  void shouldRefuseEverythingOnceRetiredAndHandBackTheQueue() {
    s.tryAcquire(EXCLUSIVE, null, 0, "handover");
    var late = s.enqueue(SHARED, 100, null, 0, null, "late");
    assertEquals(List.of(late), s.retire(Phase.MOVED));
    assertEquals(Phase.MOVED, s.phase());
    assertEquals(GONE, s.tryAcquire(SHARED, null, 0, null));
    assertThrows(IllegalStateException.class, () -> s.enqueue(SHARED, 1, null, 0, null, null));
  }

  @Test
  void shouldRequireTheExclusiveBorrowToRetireExceptWhenLost() {
    assertThrows(IllegalStateException.class, () -> s.retire(Phase.DROPPED));
    s.tryAcquire(SHARED, null, 0, null);
    s.retire(Phase.LOST);
    assertEquals(Phase.LOST, s.phase());
  }

  @Test
  void shouldHoldAnExclusiveBorrowGrantedWithoutADescription() {
    assertEquals(GRANTED, s.tryAcquire(EXCLUSIVE, null, 0, null));
    assertTrue(s.hasWriter());
    assertEquals(MUST_WAIT, s.tryAcquire(SHARED, null, 0, null));
    s.endExclusive(false);
  }

  @Test
  void shouldRejectUnbalancedReleases() {
    assertThrows(IllegalStateException.class, s::endShared);
    assertThrows(IllegalStateException.class, () -> s.endExclusive(true));
  }

  @Test
  void shouldReportTheEarliestDeadline() {
    assertEquals(Long.MAX_VALUE, s.nextDeadlineNs());
    s.tryAcquire(EXCLUSIVE, null, 0, "w");
    s.enqueue(SHARED, 300, null, 0, null, null);
    s.enqueue(SHARED, 200, null, 0, null, null);
    assertEquals(200, s.nextDeadlineNs());
  }
}
