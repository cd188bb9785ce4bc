package dev.pekkodsm.benchmarks;

import dev.pekkodsm.testkit.LocalCluster;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorRefResolver;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.Entity;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityRef;
import org.apache.pekko.cluster.typed.Cluster;

/**
 * The baselines' plumbing: {@link EchoEntity} as a sharded entity or as a plain actor, reached from
 * the other node of a two-node {@link LocalCluster} started with {@link EchoEntity#CONFIG}.
 */
final class Echoes {

  /** How long a baseline ask may take; far above any round trip on loopback. */
  static final Duration ASK_TIMEOUT = Duration.ofSeconds(10);

  private static final int MAX_ENTITY_PROBES = 2000;

  private Echoes() {}

  /** Starts the echo entity type on every node, each entity answering with {@code payload}. */
  static void startSharding(LocalCluster cluster, byte[] payload) {
    for (int i = 0; i < cluster.size(); i++) {
      ClusterSharding.get(cluster.system(i))
          .init(Entity.of(EchoEntity.TYPE_KEY, ctx -> EchoEntity.create(payload)));
    }
  }

  /**
   * An echo entity asked from node {@code from} that runs on node {@code on}: entity ids are tried
   * until one's shard landed there (shards go to the region with the fewest).
   *
   * @throws IllegalStateException if none did within {@value #MAX_ENTITY_PROBES} ids
   */
  static EntityRef<EchoEntity.Command> entityOn(LocalCluster cluster, int from, int on) {
    String target = Cluster.get(cluster.system(on)).selfMember().address().toString();
    ClusterSharding sharding = ClusterSharding.get(cluster.system(from));
    for (int k = 0; k < MAX_ENTITY_PROBES; k++) {
      EntityRef<EchoEntity.Command> ref =
          sharding.entityRefFor(EchoEntity.TYPE_KEY, "echo-" + from + "-" + k);
      if (ask(ref).node().equals(target)) {
        return ref;
      }
      if (k % 20 == 19) {
        // Give the other region time to register with the coordinator.
        LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(100));
      }
    }
    throw new IllegalStateException(
        "no echo entity asked from node "
            + from
            + " landed on node "
            + on
            + " after "
            + MAX_ENTITY_PROBES
            + " entity ids");
  }

  /**
   * Starts a plain (unsharded) echo actor named {@code name} on node {@code on}, answering with
   * {@code payload}, and returns its reference as node {@code from} resolves it: messages to it
   * cross Artery, with no sharding in the path.
   */
  static ActorRef<EchoEntity.Command> actorOn(
      LocalCluster cluster, int from, int on, String name, byte[] payload) {
    ActorRef<EchoEntity.Command> local =
        cluster.system(on).systemActorOf(EchoEntity.create(payload), name, Props.empty());
    String path = ActorRefResolver.get(cluster.system(on)).toSerializationFormat(local);
    return ActorRefResolver.get(cluster.system(from)).resolveActorRef(path);
  }

  /** One Cluster Sharding ask, blocking. */
  static EchoEntity.Pong ask(EntityRef<EchoEntity.Command> ref) {
    return ref.<EchoEntity.Pong>ask(EchoEntity.Ping::new, ASK_TIMEOUT).toCompletableFuture().join();
  }

  /** One typed {@link AskPattern#ask} from {@code system} to {@code ref}, blocking. */
  static EchoEntity.Pong ask(ActorRef<EchoEntity.Command> ref, ActorSystem<?> system) {
    return AskPattern.<EchoEntity.Command, EchoEntity.Pong>ask(
            ref, EchoEntity.Ping::new, ASK_TIMEOUT, system.scheduler())
        .toCompletableFuture()
        .join();
  }
}
