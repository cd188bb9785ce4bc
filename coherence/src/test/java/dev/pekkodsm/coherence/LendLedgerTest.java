package dev.pekkodsm.coherence;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import org.junit.jupiter.api.Test;

class LendLedgerTest {

  static final NodeId A = NodeId.of(1);
  static final NodeId B = NodeId.of(2);
  static final NodeId C = NodeId.of(3);
  static final long W = LendLedger.INITIAL_WEIGHT;

  final LendLedger ledger = new LendLedger();

  @Test
  void shouldBeEmptyOnlyWhenAllWeightCameBack() {
    ledger.grant(A, W);
    ledger.grant(B, W);
    ledger.release(A, W);
    assertFalse(ledger.isEmpty());
    ledger.release(B, W);
    assertTrue(ledger.isEmpty());
  }

  @Test
  void shouldFollowAReferenceSplitAcrossNodes() {
    ledger.grant(A, W);
    // A copies its reference and sends the copy (half the weight) to B; B copies and sends a
    // quarter on to C. Copies are not reported, sends are.
    ledger.adopt(A, B, W / 2, false);
    ledger.adopt(B, C, W / 4, false);
    assertEquals(Map.of(A, 1, B, 1, C, 1), ledger.refsByHolder());
    ledger.release(C, W / 4);
    ledger.release(A, W / 2);
    assertFalse(ledger.isEmpty());
    ledger.release(B, W / 4);
    assertTrue(ledger.isEmpty());
  }

  @Test
  void shouldKeepTheTotalRightWhenAReleaseOvertakesItsAdoption() {
    ledger.grant(A, W);
    ledger.release(B, W / 2); // B's release arrives before B's adoption
    assertFalse(ledger.isEmpty());
    ledger.adopt(A, B, W / 2, false);
    assertFalse(ledger.isEmpty());
    ledger.release(A, W / 2);
    assertTrue(ledger.isEmpty());
  }

  @Test
  void shouldReclaimADepartedHoldersShare() {
    ledger.grant(A, W);
    ledger.grant(B, W);
    ledger.adopt(A, C, W / 2, false);
    assertEquals(1, ledger.reclaim(A));
    assertFalse(ledger.isEmpty());
    ledger.release(B, W);
    ledger.release(C, W / 2);
    assertTrue(ledger.isEmpty());
  }

  @Test
  void shouldCountWeightAfreshWhenItsSenderDepartedBeforeTheAdoption() {
    ledger.grant(A, W);
    ledger.reclaim(A); // A leaves while half its weight is on the way to B
    assertTrue(ledger.isEmpty());
    ledger.adopt(A, B, W / 2, true);
    assertFalse(ledger.isEmpty(), "B's reference protects the object again");
    ledger.release(B, W / 2);
    assertTrue(ledger.isEmpty());
  }

  @Test
  void shouldMoveTheReferenceCountWithASentReference() {
    ledger.grant(A, W);
    ledger.adopt(A, B, W, false); // A sent its only reference to B
    assertEquals(Map.of(B, 1), ledger.refsByHolder());
    ledger.release(B, W);
    assertEquals(Map.of(), ledger.refsByHolder());
    assertTrue(ledger.isEmpty());
  }

  @Test
  void shouldTopUpWithoutAddingAReference() {
    ledger.grant(A, 8);
    ledger.topUp(A, W);
    assertEquals(Map.of(A, 1), ledger.refsByHolder());
    ledger.release(A, 8 + W);
    assertTrue(ledger.isEmpty());
  }

  @Test
  void shouldRejectNonPositiveWeights() {
    assertThrows(IllegalArgumentException.class, () -> ledger.grant(A, 0));
    assertThrows(IllegalArgumentException.class, () -> ledger.release(A, -1));
  }

  @Test
  void shouldHoldItsDocumentedLimitOfFreshLendsAndRefuseTheNextOne() {
    assertEquals((1L << 23) - 1, LendLedger.MAX_FRESH_LENDS);
    for (long i = 0; i < LendLedger.MAX_FRESH_LENDS; i++) {
      ledger.grant(A, W);
    }
    assertEquals(LendLedger.MAX_FRESH_LENDS * W, ledger.totalWeight());
    assertTrue(ledger.totalWeight() > 0, "no overflow below the limit");

    IllegalStateException refused =
        assertThrows(IllegalStateException.class, () -> ledger.grant(B, W));
    assertTrue(refused.getMessage().contains("would exceed its limit"), refused.getMessage());
    assertTrue(refused.getMessage().contains("release references"), refused.getMessage());
    assertEquals(LendLedger.MAX_FRESH_LENDS * W, ledger.totalWeight(), "nothing was recorded");
    assertEquals(Map.of(A, (int) LendLedger.MAX_FRESH_LENDS), ledger.refsByHolder());

    ledger.release(A, W);
    ledger.grant(B, W); // room again once a reference came back
    assertEquals(LendLedger.MAX_FRESH_LENDS * W, ledger.totalWeight());
  }

  @Test
  void shouldRefuseTopUpsAndAfreshCountedAdoptionsBeyondAConfiguredLimit() {
    LendLedger small = new LendLedger(3 * W);
    small.grant(A, W);
    small.grant(B, W);
    small.topUp(A, W); // exactly at the limit
    assertEquals(3 * W, small.totalWeight());

    assertThrows(IllegalStateException.class, () -> small.topUp(A, 1));
    assertThrows(IllegalStateException.class, () -> small.grant(C, 1));
    assertThrows(IllegalStateException.class, () -> small.adopt(C, B, W / 2, true));
    assertEquals(3 * W, small.totalWeight(), "refusals record nothing");
    assertEquals(Map.of(A, 1, B, 1), small.refsByHolder());

    small.adopt(A, C, W, false); // a live sender's weight only changes hands: allowed
    assertEquals(3 * W, small.totalWeight());
    small.release(C, W);
    small.release(A, W);
    small.release(B, W);
    assertTrue(small.isEmpty());
  }

  @Test
  void shouldAcceptWeightWhileTheTotalIsBrieflyNegative() {
    // B's release overtakes its adoption, then A departs: the total dips below zero until the
    // adoption arrives. The limit check must not overflow on a negative total.
    ledger.grant(A, W);
    ledger.release(B, W / 2);
    ledger.reclaim(A);
    assertTrue(ledger.totalWeight() < 0);
    ledger.grant(C, W);
    ledger.adopt(A, B, W / 2, true);
    ledger.release(C, W);
    assertTrue(ledger.isEmpty());
  }
}
