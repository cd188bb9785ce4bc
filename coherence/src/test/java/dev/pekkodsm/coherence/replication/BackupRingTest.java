package dev.pekkodsm.coherence.replication;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pekkodsm.coherence.NodeId;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import org.junit.jupiter.api.Test;

class BackupRingTest {

  static final NodeId A = NodeId.of(0x10);
  static final NodeId B = NodeId.of(0x20);
  static final NodeId C = NodeId.of(0x30);
  static final NodeId HIGH = NodeId.of(0xF000_0000_0000_0000L); // negative as a signed long

  @Test
  void shouldPlaceEachBackupOnTheSuccessorWrappingAround() {
    BackupRing ring = BackupRing.of(List.of(C, A, B));
    assertEquals(Optional.of(B), ring.backupOf(A));
    assertEquals(Optional.of(C), ring.backupOf(B));
    assertEquals(Optional.of(A), ring.backupOf(C));
    assertEquals(Optional.of(C), ring.primaryOf(A));
    assertEquals(Optional.of(A), ring.primaryOf(B));
  }

  @Test
  void shouldOrderIdsAsUnsignedSoEveryNodeAgrees() {
    BackupRing ring = BackupRing.of(List.of(HIGH, A));
    assertEquals(Optional.of(HIGH), ring.backupOf(A));
    assertEquals(Optional.of(A), ring.backupOf(HIGH));
  }

  @Test
  void shouldSendARemovedNodesObjectsToTheMemberThatBackedItUp() {
    BackupRing before = BackupRing.of(List.of(A, B, C));
    BackupRing after = BackupRing.of(List.of(A, C));
    assertFalse(after.contains(B));
    assertEquals(before.backupOf(B), after.backupOf(B));
    // and the removed node's predecessor now backs up on the removed node's backup
    assertEquals(Optional.of(C), after.backupOf(A));
  }

  @Test
  void shouldHaveNoBackupAlone() {
    assertEquals(Optional.empty(), BackupRing.of(List.of(A)).backupOf(A));
    assertEquals(Optional.empty(), BackupRing.of(List.of(A)).primaryOf(A));
    assertEquals(Optional.empty(), BackupRing.of(List.of()).backupOf(A));
    assertEquals(Optional.of(A), BackupRing.of(List.of(A)).backupOf(B));
  }

  @Test
  void shouldChangeOnlyOneBackupWhenAMemberJoins() {
    Random random = new Random(7);
    List<NodeId> members = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      members.add(NodeId.of(random.nextLong()));
    }
    BackupRing before = BackupRing.of(members);
    NodeId joined = NodeId.of(random.nextLong());
    List<NodeId> more = new ArrayList<>(members);
    more.add(joined);
    BackupRing after = BackupRing.of(more);
    int changed = 0;
    for (NodeId m : members) {
      if (!before.backupOf(m).equals(after.backupOf(m))) {
        changed++;
        assertEquals(Optional.of(joined), after.backupOf(m));
      }
    }
    assertEquals(1, changed);
    assertTrue(after.contains(joined));
  }
}
