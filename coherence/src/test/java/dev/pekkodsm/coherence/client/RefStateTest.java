package dev.pekkodsm.coherence.client;

import static dev.pekkodsm.coherence.client.RefState.LIVE;
import static dev.pekkodsm.coherence.client.RefState.RELEASED;
import static dev.pekkodsm.coherence.client.RefState.REVOKED;
import static dev.pekkodsm.coherence.client.RefState.SENT;
import static dev.pekkodsm.coherence.client.RefState.SUSPECT;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pekkodsm.coherence.home.HomeReply;
import org.junit.jupiter.api.Test;

class RefStateTest {

  @Test
  void shouldHoldWeightOnlyWhileLiveOrSuspect() {
    assertTrue(LIVE.holdsWeight());
    assertTrue(SUSPECT.holdsWeight());
    assertFalse(RELEASED.holdsWeight());
    assertFalse(REVOKED.holdsWeight());
    assertFalse(SENT.holdsWeight());
  }

  @Test
  void shouldReleaseOnceAndOnlyWhatHoldsWeight() {
    assertEquals(RELEASED, LIVE.release());
    assertEquals(RELEASED, SUSPECT.release());
    assertNull(RELEASED.release(), "a second release does nothing");
    assertNull(SENT.release(), "a sent reference is the receiver's to release");
    assertNull(REVOKED.release());
  }

  @Test
  void shouldComeBackFromASendThatFailed() {
    assertEquals(SENT, LIVE.send());
    assertEquals(SENT, SUSPECT.send());
    assertEquals(LIVE, SENT.sendFailed());
    assertEquals(RELEASED, RELEASED.sendFailed());
    assertThrows(IllegalStateException.class, RELEASED::send);
    assertThrows(IllegalStateException.class, SENT::send, "sent twice");
  }

  @Test
  void shouldBecomeSuspectOnlyWhenItsSenderLeftAndTheHomeDidNot() {
    assertEquals(SUSPECT, LIVE.nodeLeft(true, false));
    assertEquals(LIVE, LIVE.nodeLeft(false, false), "another node left");
    assertEquals(LIVE, LIVE.nodeLeft(true, true), "the home sent it and left: nothing newer");
    assertEquals(RELEASED, RELEASED.nodeLeft(true, false));
  }

  @Test
  void shouldBeLiveAgainOnlyIfTheHomeConfirmsIt() {
    assertEquals(LIVE, SUSPECT.confirmed(true));
    assertEquals(REVOKED, SUSPECT.confirmed(false));
    assertEquals(RELEASED, RELEASED.confirmed(true), "a late answer changes nothing");
  }

  @Test
  void shouldRevokeOnlyWhatHoldsWeight() {
    assertEquals(REVOKED, LIVE.revoke());
    assertEquals(REVOKED, SUSPECT.revoke());
    assertEquals(SENT, SENT.revoke());
  }

  @Test
  void shouldSayWhyAReferenceCannotBeRead() {
    assertTrue(RELEASED.whyUnreadable(null).contains("released"));
    assertTrue(SENT.whyUnreadable(null).contains("copy()"));
    assertTrue(REVOKED.whyUnreadable("gone").contains("gone"));
    assertThrows(IllegalStateException.class, () -> LIVE.whyUnreadable(null));
  }

  @Test
  void shouldKillAHandleOnlyForRefusalsThatMeanItsObjectIsGone() {
    for (HomeReply.Reason r : HomeReply.Reason.values()) {
      Refusals.Action a = Refusals.decide(HomeReply.Refused.of(r, ""));
      switch (r) {
        case CONFLICT -> assertEquals(Refusals.Action.CONFLICT, a);
        case LOST -> assertEquals(Refusals.Action.LOST, a);
        case FAILED -> assertEquals(Refusals.Action.FAILED, a);
        case MOVED, DROPPED, UNKNOWN, STALE -> assertEquals(Refusals.Action.GONE, a);
      }
    }
  }
}
