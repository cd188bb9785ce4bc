package dev.pekkodsm.internal;

import dev.pekkodsm.coherence.NodeId;
import dev.pekkodsm.memory.PeerEndpoint;
import java.util.ArrayList;
import java.util.List;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.ClusterEvent;
import org.apache.pekko.cluster.Member;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Subscribe;

/**
 * A node's DSM actor, at {@code /system/pekko-dsm}: answers endpoint queries, runs tasks shipped
 * here, receives homes' notices about references held here, and turns membership events into the
 * node's reactions ({@link Membership}).
 */
final class NodeActor {

  /** A membership or reachability event, or the cluster's shutting down, adapted. */
  private record MemberChanged(ClusterEvent.ClusterDomainEvent event)
      implements Protocol.NodeCommand {}

  private NodeActor() {}

  static Behavior<Protocol.NodeCommand> create(DsmNode node) {
    return Behaviors.setup(
        ctx -> {
          node.replication().replyTo(ctx.getSelf());
          // One subscription for membership, reachability and the shutdown notice, so that the
          // notice, which the cluster publishes before it reports every member removed, arrives
          // first.
          ActorRef<ClusterEvent.ClusterDomainEvent> adapter =
              ctx.messageAdapter(ClusterEvent.ClusterDomainEvent.class, MemberChanged::new);
          Cluster.get(ctx.getSystem())
              .subscriptions()
              .tell(Subscribe.create(adapter, ClusterEvent.ClusterDomainEvent.class));
          boolean[] shuttingDown = {false};
          return Behaviors.receive(Protocol.NodeCommand.class)
              .onMessage(
                  Protocol.GetEndpoint.class,
                  m -> {
                    m.replyTo()
                        .tell(
                            new Protocol.EndpointInfo(
                                node.self().value(),
                                node.endpoint(),
                                node.settings().registry.fingerprint()));
                    return Behaviors.same();
                  })
              .onMessage(
                  Protocol.Spawn.class,
                  m -> {
                    node.runner().runTask(m.task()).thenAccept(m.replyTo()::tell);
                    return Behaviors.same();
                  })
              .onMessage(
                  Protocol.ToHolder.class,
                  m -> {
                    node.client().refs().onNotice(m.notice());
                    return Behaviors.same();
                  })
              .onMessage(
                  Protocol.GetEndpointOf.class,
                  m -> {
                    PeerEndpoint served = node.endpointOf(NodeId.of(m.node()));
                    if (served != null) {
                      m.replyTo()
                          .tell(
                              new Protocol.EndpointInfo(
                                  m.node(), served, node.settings().registry.fingerprint()));
                    }
                    return Behaviors.same();
                  })
              .onMessage(
                  Protocol.CensusQuery.class,
                  m -> {
                    // The promoter saw the primary removed, which is final: this node takes it
                    // as removed now, if its own event is still on the way, before answering. So
                    // once every member has answered, none starts a read of the removed node's
                    // memory any more, and what the promoter serves next cannot be read stale
                    // from there (a read begun before this answer precedes every promoted write).
                    node.membership().memberRemoved(NodeId.of(m.primary()));
                    var held = node.client().refs().holdings(NodeId.of(m.primary()));
                    long[] objects = new long[held.size()];
                    int[] colors = new int[held.size()];
                    long[] weights = new long[held.size()];
                    for (int i = 0; i < held.size(); i++) {
                      objects[i] = held.get(i).object();
                      colors[i] = held.get(i).color();
                      weights[i] = held.get(i).weight();
                    }
                    m.replyTo()
                        .tell(
                            new Protocol.CensusAnswer(
                                m.primary(), node.self().value(), objects, colors, weights));
                    return Behaviors.same();
                  })
              .onMessage(
                  Protocol.CensusAnswer.class,
                  m -> {
                    NodeId from = NodeId.of(m.from());
                    List<Census.Holding> held = new ArrayList<>();
                    for (int i = 0; i < m.objects().length; i++) {
                      held.add(
                          new Census.Holding(from, m.objects()[i], m.colors()[i], m.weights()[i]));
                    }
                    node.census().answered(NodeId.of(m.primary()), from, held);
                    return Behaviors.same();
                  })
              .onMessage(
                  Protocol.Replicate.class,
                  m -> {
                    Protocol.ReplicaAnswer answer = node.replicas().receive(m);
                    if (answer != null) {
                      m.replyTo().tell(answer);
                    }
                    return Behaviors.same();
                  })
              .onMessage(
                  Protocol.ReplicaAnswer.class,
                  m -> {
                    Replication stream = node.replicationOf(NodeId.of(m.primary()));
                    if (stream != null) {
                      stream.answered(m);
                    }
                    return Behaviors.same();
                  })
              .onMessage(
                  MemberChanged.class,
                  m -> {
                    // A node whose cluster shuts down (it was downed, or its actor system stops)
                    // is told that every member was removed: it must not promote or fence any
                    // of them, nor ask the survivors for a census of a live node.
                    if (m.event() instanceof ClusterEvent.ClusterShuttingDown$) {
                      shuttingDown[0] = true;
                    } else if (m.event() instanceof ClusterEvent.ReachabilityEvent event
                        && !shuttingDown[0]) {
                      Member member = event.member();
                      node.membership()
                          .reachability(
                              NodeId.of(member.uniqueAddress().longUid()),
                              event instanceof ClusterEvent.ReachableMember);
                    } else if (m.event() instanceof ClusterEvent.MemberEvent event
                        && !shuttingDown[0]
                        && !Cluster.get(ctx.getSystem()).isTerminated()) {
                      onMemberEvent(node.membership(), event);
                    }
                    return Behaviors.same();
                  })
              .build();
        });
  }

  private static void onMemberEvent(Membership membership, ClusterEvent.MemberEvent event) {
    Member member = event.member();
    NodeId id = NodeId.of(member.uniqueAddress().longUid());
    if (event instanceof ClusterEvent.MemberRemoved) {
      membership.memberRemoved(id);
    } else if (event instanceof ClusterEvent.MemberJoined
        || event instanceof ClusterEvent.MemberWeaklyUp) {
      membership.memberUp(id, member.address(), false);
    } else if (event instanceof ClusterEvent.MemberUp) {
      membership.memberUp(id, member.address(), true);
    }
  }
}
