package dev.pekkodsm.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pekkodsm.testkit.LocalCluster;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.ActorRef;
import org.apache.pekko.actor.typed.ActorRefResolver;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.Cluster;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import scala.collection.immutable.IndexedSeq;
import scala.concurrent.Future;

/**
 * The allocation strategy on a real two-node cluster: node N's shard goes to node N's region, and
 * while that region has not registered the answer is "not yet" without a failure, which the shard
 * coordinator would log as an ERROR with a trace.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class HomeAllocationStrategyTest {

  @Test
  void shouldWaitQuietlyForTheHomesRegionAndThenPlaceTheShardThere() {
    try (LocalCluster cluster = LocalCluster.withNodes(2).start()) {
      var zero = Adapter.toClassic(cluster.system(0));
      HomeAllocationStrategy strategy = new HomeAllocationStrategy(Cluster.get(zero));
      ActorRef requester =
          Adapter.toClassic(
              cluster
                  .system(0)
                  .systemActorOf(
                      Behaviors.empty(), "requester", org.apache.pekko.actor.typed.Props.empty()));
      String shardOfNodeOne = Long.toHexString(cluster.nodeId(1).value());
      IndexedSeq<String> none =
          scala.jdk.javaapi.CollectionConverters.asScala(java.util.List.<String>of())
              .toIndexedSeq();

      Future<ActorRef> notYet =
          strategy.allocateShard(requester, shardOfNodeOne, Map.of(requester, none));
      assertTrue(notYet.isCompleted() && notYet.value().get().isSuccess(), "no failure: " + notYet);
      ActorRef answer = notYet.value().get().get();
      assertEquals(zero.deadLetters(), answer, "a region the coordinator does not know");

      // Node 1's region, as node 0 sees it: a remote reference.
      var one = cluster.system(1);
      ActorRef regionOfOne =
          Adapter.toClassic(
              ActorRefResolver.get(cluster.system(0))
                  .resolveActorRef(
                      ActorRefResolver.get(one)
                          .toSerializationFormat(
                              one.systemActorOf(
                                  Behaviors.empty(),
                                  "region-stand-in",
                                  org.apache.pekko.actor.typed.Props.empty()))));
      Future<ActorRef> placed =
          strategy.allocateShard(
              requester, shardOfNodeOne, Map.of(requester, none, regionOfOne, none));
      assertEquals(regionOfOne, placed.value().get().get(), "the shard goes to its home");
    }
  }
}
