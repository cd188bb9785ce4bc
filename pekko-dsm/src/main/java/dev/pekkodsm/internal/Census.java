package dev.pekkodsm.internal;

import dev.pekkodsm.coherence.NodeId;
import dev.pekkodsm.coherence.Timing;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.pekko.actor.typed.ActorRef;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Asks every member which references and shares of a promoted primary's objects it holds, and hands
 * the answers over when all are in or the deadline passes (a member that does not answer in time is
 * being removed itself, and what it held is reclaimed then anyway).
 *
 * <p>Thread-safe.
 */
final class Census {

  private static final Logger log = LoggerFactory.getLogger(Census.class);

  /** {@code holder} holds {@code weight} of object {@code object} at {@code color}. */
  record Holding(NodeId holder, long object, int color, long weight) {}

  private static final class Round {
    final Set<NodeId> waiting;
    final List<Holding> holdings = new ArrayList<>();
    Timing.Cancellable deadline;
    boolean done;

    Round(Set<NodeId> waiting) {
      this.waiting = waiting;
    }
  }

  private final NodeId self;
  private final PeerDirectory peers;
  private final Timing timing;
  private final long deadlineNs;
  private final Done done;

  /** Receives a round's outcome. */
  interface Done {
    /**
     * @param complete every member answered (otherwise the deadline passed first)
     */
    void done(NodeId primary, List<Holding> holdings, boolean complete);
  }

  private final Map<NodeId, Round> rounds = new ConcurrentHashMap<>();

  Census(NodeId self, PeerDirectory peers, Timing timing, long deadlineNs, Done done) {
    this.self = self;
    this.peers = peers;
    this.timing = timing;
    this.deadlineNs = deadlineNs;
    this.done = done;
  }

  /** Asks {@code members} (this node among them) what they hold of {@code primary}'s objects. */
  void start(NodeId primary, List<NodeId> members, ActorRef<Protocol.NodeCommand> replyTo) {
    Round round = new Round(new HashSet<>(members));
    synchronized (round) {
      if (rounds.putIfAbsent(primary, round) != null) {
        return;
      }
      round.deadline = timing.schedule(deadlineNs, () -> finish(primary, round, true));
    }
    Protocol.CensusQuery query = new Protocol.CensusQuery(primary.value(), replyTo);
    for (NodeId member : members) {
      peers
          .address(member)
          .thenAccept(address -> peers.nodeActor(address).tell(query))
          .exceptionally(
              e -> {
                answered(primary, member, List.of()); // gone: holds nothing any more
                return null;
              });
    }
  }

  /** A member's answer. */
  void answered(NodeId primary, NodeId from, List<Holding> holdings) {
    Round round = rounds.get(primary);
    if (round == null) {
      return;
    }
    boolean complete;
    synchronized (round) {
      if (round.done || !round.waiting.remove(from)) {
        return;
      }
      for (Holding h : holdings) {
        if (h.holder().equals(from)) { // a member speaks for itself only
          round.holdings.add(h);
        }
      }
      complete = round.waiting.isEmpty();
    }
    if (complete) {
      finish(primary, round, false);
    }
  }

  private void finish(NodeId primary, Round round, boolean timedOut) {
    List<Holding> result;
    synchronized (round) {
      if (round.done) {
        return;
      }
      round.done = true;
      if (round.deadline != null) {
        round.deadline.cancel();
      }
      if (timedOut) {
        log.warn(
            "{}: no census answer from {} about {}'s objects; going on without",
            self,
            round.waiting,
            primary);
      }
      result = List.copyOf(round.holdings);
    }
    done.done(primary, result, !timedOut);
  }
}
