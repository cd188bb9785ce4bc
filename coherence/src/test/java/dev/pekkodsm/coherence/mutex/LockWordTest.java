package dev.pekkodsm.coherence.mutex;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pekkodsm.coherence.NodeId;
import org.junit.jupiter.api.Test;

class LockWordTest {

  static final NodeId NODE = NodeId.of(0x1234_5678_9abcL);
  static final long TAG = LockWord.token(NODE, 7);

  @Test
  void shouldNeverTagANodeAsFreeOrAsTheHome() {
    assertEquals(1, LockWord.tag(NodeId.of(0x7_0000_0000L)), "low bits zero");
    assertEquals(1, LockWord.tag(NodeId.of(0xFF_FFFFL)), "low bits all ones");
    assertEquals(0x78_9abcL, LockWord.tag(NODE));
    assertEquals(0x78_9abc07L, TAG, "the node's tag and the acquisition's nonce");
    assertTrue(LockWord.heldByNode(LockWord.heldBy(0, TAG), NODE));
    assertFalse(LockWord.heldByNode(LockWord.heldBy(0, TAG), NodeId.of(5)));
    assertFalse(LockWord.heldByNode(LockWord.heldBy(0, LockWord.HANDED_OFF), NODE));
  }

  @Test
  void shouldFlipTheSlotAdvanceTheVersionAndReleaseOnCommit() {
    long held = LockWord.heldBy(LockWord.initial(), TAG);
    assertFalse(LockWord.isFree(held));
    long next = LockWord.committed(held, 1);
    assertTrue(LockWord.isFree(next));
    assertEquals(1, LockWord.activeSlot(next));
    assertEquals(1, LockWord.version(next));
    assertTrue(LockWord.names(next, 1));
    assertFalse(LockWord.names(next, 0));
    long again = LockWord.committed(LockWord.heldBy(next, TAG), 2);
    assertEquals(0, LockWord.activeSlot(again), "back to slot A");
    assertTrue(LockWord.names(again, 2 + (1 << 24)), "only the low 24 bits are named");
  }

  @Test
  void shouldHandTheLockToTheHomeWhenLockersWait() {
    long held = LockWord.withWaiters(LockWord.heldBy(LockWord.initial(), TAG), true);
    assertEquals(LockWord.HANDED_OFF, LockWord.holder(LockWord.committed(held, 1)));
    assertEquals(LockWord.HANDED_OFF, LockWord.holder(LockWord.released(held)));
    assertEquals(0, LockWord.version(LockWord.released(held)), "a release keeps the version");
  }

  @Test
  void shouldKeepOnlyTheCommittedStateForABackup() {
    long committed = LockWord.committed(LockWord.heldBy(0, TAG), 5);
    long heldWithWaiters = LockWord.withWaiters(LockWord.heldBy(committed, TAG), true);
    assertEquals(committed, LockWord.committedState(heldWithWaiters), "lock and waiters dropped");
    assertTrue(LockWord.isFree(LockWord.committedState(heldWithWaiters)));
    assertTrue(LockWord.names(LockWord.committedState(heldWithWaiters), 5));
    assertEquals(LockWord.activeSlot(committed), LockWord.activeSlot(heldWithWaiters));
    long fenced = LockWord.fenced(heldWithWaiters);
    assertEquals(LockWord.committedState(heldWithWaiters), LockWord.committedState(fenced));
    assertNotEquals(
        LockWord.committedState(committed),
        LockWord.committedState(LockWord.committed(LockWord.heldBy(committed, TAG), 6)));
  }

  @Test
  void shouldAdvanceTheFenceWhenTheLockIsTakenBack() {
    long held = LockWord.heldBy(LockWord.committed(LockWord.heldBy(0, TAG), 5), TAG);
    long fenced = LockWord.fenced(held);
    assertTrue(LockWord.isFree(fenced));
    assertEquals(LockWord.fence(held) + 1, LockWord.fence(fenced));
    assertEquals(LockWord.version(held), LockWord.version(fenced), "the committed value stands");
    assertEquals(LockWord.activeSlot(held), LockWord.activeSlot(fenced));
    assertNotEquals(
        LockWord.heldBy(fenced, TAG), held, "the old holder's expected word never comes back");
    long wrapped = held;
    for (int i = 0; i < 64; i++) {
      wrapped = LockWord.heldBy(LockWord.fenced(wrapped), TAG);
    }
    assertEquals(LockWord.fence(held), LockWord.fence(wrapped), "the fence wraps after 64");
  }
}
