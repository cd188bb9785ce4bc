package dev.pekkodsm.coherence.replication;

import dev.pekkodsm.coherence.NodeId;
import java.util.Arrays;
import java.util.Collection;
import java.util.Optional;

/**
 * Where each node's backup lives: on its successor in the ring of members ordered by node id.
 *
 * <p>Every node computes the same placement from the same membership, so nothing is looked up and
 * nothing is stored: a request for a removed node's objects goes to that node's successor among the
 * members left, which is the member that held its backup. A join or a removal changes the backup of
 * one node only (the new member's or the removed member's predecessor), so one mirror is copied
 * afresh, not a reshuffle. Each member backs up exactly one other, so the memory a mirror costs is
 * spread evenly.
 *
 * <p>Immutable.
 */
public final class BackupRing {

  private final NodeId[] members; // sorted, distinct

  private BackupRing(NodeId[] members) {
    this.members = members;
  }

  /** The ring of these members (duplicates ignored). */
  public static BackupRing of(Collection<NodeId> members) {
    NodeId[] sorted = members.stream().distinct().sorted().toArray(NodeId[]::new);
    return new BackupRing(sorted);
  }

  /** Members in ring order. */
  public int size() {
    return members.length;
  }

  /** True if {@code node} is a member of this ring. */
  public boolean contains(NodeId node) {
    return Arrays.binarySearch(members, node) >= 0;
  }

  /**
   * The backup of {@code primary}: the first member after it in ring order, wrapping around. For a
   * node that is not (or no longer) a member, the member that follows the place it had. Empty if no
   * other member exists.
   */
  public Optional<NodeId> backupOf(NodeId primary) {
    int at = Arrays.binarySearch(members, primary);
    int next = at >= 0 ? at + 1 : -at - 1;
    for (int i = 0; i < members.length; i++) {
      NodeId candidate = members[(next + i) % members.length];
      if (!candidate.equals(primary)) {
        return Optional.of(candidate);
      }
    }
    return Optional.empty();
  }

  /**
   * The member whose backup {@code backup} holds: its predecessor in ring order. Empty if {@code
   * backup} is not a member or is alone.
   */
  public Optional<NodeId> primaryOf(NodeId backup) {
    int at = Arrays.binarySearch(members, backup);
    if (at < 0 || members.length < 2) {
      return Optional.empty();
    }
    return Optional.of(members[(at - 1 + members.length) % members.length]);
  }

  @Override
  public String toString() {
    return "BackupRing" + Arrays.toString(members);
  }
}
