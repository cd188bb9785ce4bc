package dev.pekkodsm.samples.socialnet;

import java.util.HashMap;
import java.util.Map;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

/**
 * user: the users of one shard. Holds the users whose id it owns (to compose a post's creator) and
 * the names it owns (for user-mention's lookups), as DeathStarBench's user service keeps users in
 * MongoDB and memcached keyed by id and name. Registration happens at start-up, from the graph.
 */
final class UserService {

  sealed interface Command extends SnMessage permits ComposeCreator, LookupNames {}

  /** The creator of a post by {@code userId}. */
  record ComposeCreator(int userId, ActorRef<Creator> replyTo) implements Command {}

  /** The ids of {@code names} (owned by this shard); -1 for a name no user has. */
  record LookupNames(String[] names, ActorRef<Found> replyTo) implements Command {}

  record Creator(int userId, String username) implements SnMessage {}

  record Found(String[] names, int[] ids) implements SnMessage {}

  private UserService() {}

  static Behavior<Command> create(SnNode node, int users) {
    Map<Integer, String> byId = new HashMap<>();
    Map<String, Integer> byName = new HashMap<>();
    for (int u = 0; u < users; u++) {
      String name = SocialGraph.username(u);
      if (node.userNode(u) == node.index()) {
        byId.put(u, name);
      }
      if (node.nameNode(name) == node.index()) {
        byName.put(name, u);
      }
    }
    return Behaviors.receive(Command.class)
        .onMessage(
            ComposeCreator.class,
            m -> {
              String name = byId.get(m.userId());
              if (name == null) {
                throw new IllegalArgumentException(
                    "user " + m.userId() + " is not registered on node " + node.index());
              }
              m.replyTo().tell(new Creator(m.userId(), name));
              return Behaviors.same();
            })
        .onMessage(
            LookupNames.class,
            m -> {
              int[] ids = new int[m.names().length];
              for (int i = 0; i < ids.length; i++) {
                ids[i] = byName.getOrDefault(m.names()[i], -1);
              }
              m.replyTo().tell(new Found(m.names(), ids));
              return Behaviors.same();
            })
        .build();
  }
}
