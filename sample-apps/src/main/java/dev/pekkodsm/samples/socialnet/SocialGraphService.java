package dev.pekkodsm.samples.socialnet;

import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

/**
 * social-graph: the followers of the users of one shard (DeathStarBench keeps them in MongoDB and
 * Redis keyed by user id). Loaded from the {@link SocialGraph} at start-up.
 */
final class SocialGraphService {

  sealed interface Command extends SnMessage permits GetFollowers {}

  record GetFollowers(int userId, ActorRef<Followers> replyTo) implements Command {}

  record Followers(int userId, int[] followers) implements SnMessage {}

  private SocialGraphService() {}

  static Behavior<Command> create(SnNode node, SocialGraph graph) {
    int[][] followers = new int[graph.users()][];
    for (int u = 0; u < graph.users(); u++) {
      if (node.userNode(u) == node.index()) {
        followers[u] = graph.followers(u).clone();
      }
    }
    return Behaviors.receive(Command.class)
        .onMessage(
            GetFollowers.class,
            m -> {
              int[] f = followers[m.userId()];
              if (f == null) {
                throw new IllegalArgumentException(
                    "user " + m.userId() + " is not on node " + node.index());
              }
              m.replyTo().tell(new Followers(m.userId(), f));
              return Behaviors.same();
            })
        .build();
  }
}
