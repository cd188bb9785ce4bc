package dev.pekkodsm.internal;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;

import dev.pekkodsm.coherence.NodeId;
import dev.pekkodsm.testkit.LocalCluster;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A node whose actor system stops is told by Pekko Cluster, as it shuts down, that every member was
 * removed. Its DSM must not take that for the members' departure: it would promote the mirrors it
 * holds and ask the survivors for a census, which makes them take a live node as removed (seen as a
 * live node's objects "lost" in a failover test).
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class ShutdownMembershipTest {

  @Test
  void shouldNotTakeTheMembersAsRemovedWhenItsOwnClusterShutsDown() {
    try (LocalCluster cluster =
        LocalCluster.withNodes(2).config("pekko.dsm.replication.factor = 1").start()) {
      DsmNode stopping = NodeRuntime.get(cluster.system(0)).node();
      NodeId other = cluster.nodeId(1);
      cluster.dsm(1).alloc("held on node 1"); // node 0 holds node 1's mirror
      cluster.crash(0);
      assertFalse(
          stopping.peers().isDeparted(other), "the stopping node took a live member as removed");
      assertNull(stopping.promotion().of(other), "and promoted its mirror");
    }
  }
}
