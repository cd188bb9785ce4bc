package dev.pekkodsm.internal;

import dev.pekkodsm.coherence.NodeId;
import dev.pekkodsm.coherence.replication.BackupRing;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.apache.pekko.actor.ActorRef;
import org.apache.pekko.actor.Address;
import org.apache.pekko.cluster.Cluster;
import org.apache.pekko.cluster.Member;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.sharding.ShardCoordinator;
import org.apache.pekko.dispatch.Futures;
import scala.collection.immutable.IndexedSeq;
import scala.concurrent.Future;

/**
 * Places the shard of node N on node N and never moves it. The shard id is the node's id in hex
 * (see {@link OwnerEntity#shardId}); objects change nodes by being re-homed under a new address,
 * not by shard rebalancing, which is far too slow for a mutable borrow.
 *
 * <p>When node N has left the cluster, its shard goes, with replication on, to N's successor in the
 * ring of members ({@link BackupRing}), which held N's backup and serves its objects from now on;
 * without replication (or with no member left to serve it) to the region that asked, which answers
 * every request for N's objects with "lost" at once.
 *
 * <p>When node N is a member but its region has not registered with the coordinator yet (it joined
 * a moment ago), the answer is "not yet", quietly: the coordinator is handed a region it does not
 * know (the dead-letters actor), drops the request at debug level, and the requesting region asks
 * again after {@code pekko.cluster.sharding.retry-interval}. A failed future would do the same but
 * log an error with a trace on every join.
 */
final class HomeAllocationStrategy extends ShardCoordinator.AbstractShardAllocationStrategy {

  private final Cluster cluster;
  private final ActorRef notYet;
  private final boolean replicated;

  HomeAllocationStrategy(Cluster cluster) {
    this(cluster, false);
  }

  HomeAllocationStrategy(Cluster cluster, boolean replicated) {
    this.cluster = cluster;
    this.replicated = replicated;
    this.notYet = cluster.system().deadLetters();
  }

  @Override
  public Future<ActorRef> allocateShard(
      ActorRef requester, String shardId, Map<ActorRef, IndexedSeq<String>> allocations) {
    long uid;
    try {
      uid = Long.parseUnsignedLong(shardId, 16);
    } catch (NumberFormatException e) {
      return Futures.successful(requester);
    }
    Address home = null;
    List<NodeId> up = new ArrayList<>();
    Map<NodeId, Address> addresses = new HashMap<>();
    for (Member m : cluster.state().getMembers()) {
      if (m.uniqueAddress().longUid() == uid && m.status() != MemberStatus.removed()) {
        home = m.address();
        break;
      }
      if (m.status() == MemberStatus.up()) {
        NodeId id = NodeId.of(m.uniqueAddress().longUid());
        up.add(id);
        addresses.put(id, m.address());
      }
    }
    if (home == null && replicated) {
      Optional<NodeId> backup = BackupRing.of(up).backupOf(NodeId.of(uid));
      if (backup.isPresent()) {
        home = addresses.get(backup.get());
      }
    }
    if (home == null) {
      return Futures.successful(requester);
    }
    for (ActorRef region : allocations.keySet()) {
      Address address = region.path().address();
      if (!address.hasGlobalScope()) {
        address = cluster.selfAddress();
      }
      if (address.equals(home)) {
        return Futures.successful(region);
      }
    }
    return Futures.successful(notYet);
  }

  @Override
  public Future<Set<String>> rebalance(
      Map<ActorRef, IndexedSeq<String>> allocations, Set<String> rebalanceInProgress) {
    return Futures.successful(Set.of());
  }
}
