package dev.pekkodsm.internal;

import dev.pekkodsm.coherence.NodeId;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import org.apache.pekko.actor.Address;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.Cluster;
import org.apache.pekko.cluster.ClusterEvent;
import org.apache.pekko.cluster.Member;
import org.apache.pekko.cluster.sharding.ShardRegion;
import org.apache.pekko.cluster.typed.Subscribe;
import org.apache.pekko.pattern.Patterns;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Where a replicated node's requests for the objects of a member removed from the cluster go: held,
 * in order, until Cluster Sharding can deliver them to the removed member's backup, then handed to
 * the shard region. Requests for members' objects never come here ({@link HomeProxy} sends them to
 * the region directly), so the common path has no extra hop.
 *
 * <p>Why: until this node's shard region has processed the removed member's termination, it keeps
 * its cached route of the removed member's shard to the removed member's region; it forwards a
 * request there, and Artery drops it without a word (the removed member is quarantined). The
 * request then waited for its whole deadline (10 s by default): the requests a home's departure
 * sends again to its backup leave at the removal, most of all over tcp, where a one-sided lock of a
 * dead node fails over to a request at once. The coordinator, for its part, places the shard anew
 * only after the downing provider's removal margin ({@code pekko.cluster.down-removal-margin}; with
 * the split brain resolver, its stable-after); meanwhile a region asking for it waits.
 *
 * <p>So a request for the shard of a node this node saw removed waits here until the coordinator,
 * asked through the region every {@code pekko.cluster.sharding.retry-interval} starting one
 * interval after the hold began (so that this node's region has had that long to drop its route),
 * lists no region of a node that is not a member; then it goes to the region. Once a node's
 * requests have been let through, later ones for it pass at once, until another member is removed
 * (its successor may be the one that now serves them, with the same race). A region with no
 * coordinator (its node died too) answers with no regions: what is let through then waits in the
 * region, and the new coordinator drops the regions of removed members before it places a shard. A
 * request held longer than {@code maxHold} (the DSM's blocking budget, past every request's
 * deadline but a task's) is let through as it is.
 */
final class DepartedShardGate {

  private static final Logger log = LoggerFactory.getLogger(DepartedShardGate.class);

  /** Ask the coordinator which regions it knows. */
  private enum Poll {
    INSTANCE
  }

  /** The regions the coordinator knows. */
  private record Polled(Set<Address> regions) {}

  /** The coordinator did not answer a poll. */
  private enum NoAnswer {
    INSTANCE
  }

  /** A member was removed: the shards of removed nodes may have moved again. */
  private record Removed(ClusterEvent.MemberRemoved event) {}

  /** A held request and when it arrived. */
  private record Held(Protocol.OwnerCommand command, long arrivedNs) {}

  private final ActorContext<Object> ctx;
  private final ActorRef<Protocol.OwnerCommand> region;
  private final Cluster cluster;
  private final Duration pollInterval;
  private final Duration pollTimeout;
  private final long maxHoldNs;
  private final Map<Long, ArrayDeque<Held>> held = new LinkedHashMap<>();
  private final Set<Long> letThrough = new HashSet<>();
  private boolean polling;

  private DepartedShardGate(
      ActorContext<Object> ctx,
      ActorRef<Protocol.OwnerCommand> region,
      Cluster cluster,
      Duration pollInterval,
      Duration maxHold) {
    this.ctx = ctx;
    this.region = region;
    this.cluster = cluster;
    this.pollInterval = pollInterval;
    this.pollTimeout =
        pollInterval.compareTo(Duration.ofSeconds(1)) > 0 ? pollInterval : Duration.ofSeconds(1);
    this.maxHoldNs = maxHold.toNanos();
  }

  /**
   * @param region the owner entities' shard region
   * @param pollInterval how often the coordinator is asked while requests are held
   * @param maxHold how long a request is held at most
   */
  static Behavior<Object> create(
      ActorRef<Protocol.OwnerCommand> region,
      Cluster cluster,
      Duration pollInterval,
      Duration maxHold) {
    return Behaviors.setup(
        ctx -> {
          org.apache.pekko.cluster.typed.Cluster.get(ctx.getSystem())
              .subscriptions()
              .tell(
                  Subscribe.create(
                      ctx.messageAdapter(ClusterEvent.MemberRemoved.class, Removed::new),
                      ClusterEvent.MemberRemoved.class));
          return new DepartedShardGate(ctx, region, cluster, pollInterval, maxHold).behavior();
        });
  }

  private Behavior<Object> behavior() {
    return Behaviors.receive(Object.class)
        .onMessage(Protocol.OwnerCommand.class, this::onRequest)
        .onMessageEquals(Poll.INSTANCE, this::onPoll)
        .onMessage(Polled.class, polled -> onPolled(polled.regions()))
        .onMessageEquals(NoAnswer.INSTANCE, () -> onPolled(null))
        .onMessage(Removed.class, removed -> onRemoved())
        .build();
  }

  private Behavior<Object> onRequest(Protocol.OwnerCommand command) {
    long home = command.home();
    ArrayDeque<Held> queue = held.get(home);
    if (queue != null) {
      queue.add(new Held(command, System.nanoTime()));
    } else if (letThrough.contains(home)) {
      region.tell(command);
    } else {
      queue = new ArrayDeque<>();
      queue.add(new Held(command, System.nanoTime()));
      held.put(home, queue);
      log.debug(
          "holding the requests for the objects of {}, removed, until sharding lets go of its"
              + " region",
          NodeId.of(home));
      if (!polling) {
        polling = true;
        ctx.scheduleOnce(pollInterval, ctx.getSelf(), Poll.INSTANCE);
      }
    }
    return Behaviors.same();
  }

  private Behavior<Object> onPoll() {
    ctx.pipeToSelf(
        Patterns.ask(
            Adapter.toClassic(region), ShardRegion.getCurrentRegionsInstance(), pollTimeout),
        (reply, failure) ->
            reply instanceof ShardRegion.CurrentRegions current
                ? new Polled(current.getRegions())
                : NoAnswer.INSTANCE);
    return Behaviors.same();
  }

  /** {@code regions}: what the coordinator answered, null if it did not. */
  private Behavior<Object> onPolled(Set<Address> regions) {
    release(regions);
    if (held.isEmpty()) {
      polling = false;
    } else {
      ctx.scheduleOnce(pollInterval, ctx.getSelf(), Poll.INSTANCE);
    }
    return Behaviors.same();
  }

  private Behavior<Object> onRemoved() {
    letThrough.clear();
    return Behaviors.same();
  }

  /**
   * Lets through, in order, the held requests of every removed node once the coordinator lists no
   * region of a non-member ({@code regions}, null if it did not answer), and any held past the
   * longest hold.
   */
  private void release(Set<Address> regions) {
    Set<Address> memberAddresses = new HashSet<>();
    Set<Long> memberIds = new HashSet<>();
    for (Member m : cluster.state().getMembers()) {
      memberAddresses.add(m.address());
      memberIds.add(m.uniqueAddress().longUid());
    }
    boolean coordinatorLetGo = regions != null && memberAddresses.containsAll(regions);
    long now = System.nanoTime();
    for (var it = held.entrySet().iterator(); it.hasNext(); ) {
      var entry = it.next();
      long home = entry.getKey();
      ArrayDeque<Held> queue = entry.getValue();
      // This node's view must have lost the node too, or the coordinator's answer says nothing
      // about it.
      if (coordinatorLetGo && !memberIds.contains(home)) {
        log.debug(
            "letting through {} requests for the objects of {}, held {} ms",
            queue.size(),
            NodeId.of(home),
            (now - queue.peekFirst().arrivedNs()) / 1_000_000);
        queue.forEach(h -> region.tell(h.command()));
        letThrough.add(home);
        it.remove();
      } else {
        while (!queue.isEmpty() && now - queue.peekFirst().arrivedNs() > maxHoldNs) {
          region.tell(queue.pollFirst().command());
        }
        if (queue.isEmpty()) {
          it.remove();
        }
      }
    }
  }
}
