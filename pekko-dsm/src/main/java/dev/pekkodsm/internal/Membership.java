package dev.pekkodsm.internal;

import dev.pekkodsm.coherence.NodeId;
import dev.pekkodsm.coherence.home.HomeProtocol;
import java.util.function.Consumer;
import org.apache.pekko.actor.Address;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What this node does when the cluster changes: a member that comes up is read early, and one that
 * leaves for good is given up on everywhere at once. Its references here become suspect, what it
 * borrowed or locked here is reclaimed, what it owned here is dropped, and every request waiting
 * for it fails.
 */
final class Membership {

  private static final Logger log = LoggerFactory.getLogger(Membership.class);

  private final NodeId self;
  private final PeerDirectory peers;
  private final RefRegistry refs;
  private final HomeProtocol home;
  private final HomeProxy homes;
  private final Replication replication;
  private final Consumer<NodeId> promote;
  private final Runnable membersChanged;

  Membership(
      NodeId self,
      PeerDirectory peers,
      RefRegistry refs,
      HomeProtocol home,
      HomeProxy homes,
      Replication replication,
      Consumer<NodeId> promote,
      Runnable membersChanged) {
    this.promote = promote;
    this.membersChanged = membersChanged;
    this.self = self;
    this.peers = peers;
    this.refs = refs;
    this.home = home;
    this.homes = homes;
    this.replication = replication;
  }

  /** A member joined ({@code up} false) or came up. */
  void memberUp(NodeId node, Address address, boolean up) {
    peers.memberUp(node, address, up);
    if (up) {
      membersChanged.run();
    }
  }

  /**
   * The failure detector holds {@code node} unreachable ({@code reachable} false) or reachable
   * again. While it is unreachable, tasks sent to it fail at once, and those waiting for it fail
   * now rather than at their deadline (what else waits for it, such as a lend or a move, waits on:
   * failing those early could lose a grant the node made).
   */
  void reachability(NodeId node, boolean reachable) {
    if (node.equals(self) || peers.isDeparted(node)) {
      return;
    }
    peers.reachability(node, reachable);
    if (!reachable) {
      int failed = homes.failTasks(node);
      log.info("{} is unreachable: failed {} tasks waiting for it", node, failed);
    }
  }

  /** A member was removed from the cluster: it will never come back. */
  void memberRemoved(NodeId node) {
    if (node.equals(self) || peers.isDeparted(node)) {
      return;
    }
    // Marked departed first, so that adoptions racing with the reclaim below see it.
    peers.memberRemoved(node);
    refs.nodeLeft(node);
    HomeProtocol.Departure left = home.departed(node);
    if (replication.enabled()) {
      promote.accept(node); // if this node backed it up, its objects are served from here now
    }
    int failed = homes.failPending(node);
    membersChanged.run();
    log.info(
        "{} left: reclaimed {} lent references and {} locks, dropping {} objects it owned, failed"
            + " {} requests",
        node,
        left.reclaimedRefs(),
        left.locksReleased(),
        left.orphans(),
        failed);
  }
}
