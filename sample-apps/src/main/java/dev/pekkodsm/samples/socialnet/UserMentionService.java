package dev.pekkodsm.samples.socialnet;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

/**
 * user-mention: turns the names mentioned in a text into users, asking the user shards that own the
 * names (one ask per shard involved, in parallel). Unknown names are left out, as DeathStarBench's
 * service does.
 */
final class UserMentionService {

  sealed interface Command extends SnMessage permits ComposeUserMentions {}

  record ComposeUserMentions(String[] names, ActorRef<Mentions> replyTo) implements Command {}

  /** The users mentioned, in the order of the text; a name mentioned twice appears twice. */
  record Mentions(int[] ids, String[] names) implements SnMessage {}

  private UserMentionService() {}

  static Behavior<Command> create(SnNode node) {
    return Behaviors.receive(Command.class)
        .onMessage(
            ComposeUserMentions.class,
            m -> {
              SnNode.replyWhenDone(resolve(node, m.names()), m.replyTo());
              return Behaviors.same();
            })
        .build();
  }

  private static CompletionStage<Mentions> resolve(SnNode node, String[] names) {
    List<List<String>> byNode = new ArrayList<>();
    for (int n = 0; n < node.nodes(); n++) {
      byNode.add(new ArrayList<>());
    }
    for (String name : names) {
      byNode.get(node.nameNode(name)).add(name);
    }
    List<CompletableFuture<UserService.Found>> asks = new ArrayList<>();
    for (int n = 0; n < node.nodes(); n++) {
      if (!byNode.get(n).isEmpty()) {
        String[] some = byNode.get(n).toArray(new String[0]);
        asks.add(
            node.<UserService.Command, UserService.Found>ask(
                    node.directory().users().get(n),
                    replyTo -> new UserService.LookupNames(some, replyTo))
                .toCompletableFuture());
      }
    }
    return CompletableFuture.allOf(asks.toArray(new CompletableFuture<?>[0]))
        .thenApply(
            done -> {
              java.util.Map<String, Integer> ids = new java.util.HashMap<>();
              for (CompletableFuture<UserService.Found> f : asks) {
                UserService.Found found = f.join();
                for (int i = 0; i < found.names().length; i++) {
                  ids.put(found.names()[i], found.ids()[i]);
                }
              }
              List<Integer> outIds = new ArrayList<>();
              List<String> outNames = new ArrayList<>();
              for (String name : names) {
                int id = ids.getOrDefault(name, -1);
                if (id >= 0) {
                  outIds.add(id);
                  outNames.add(name);
                }
              }
              return new Mentions(
                  outIds.stream().mapToInt(Integer::intValue).toArray(),
                  outNames.toArray(new String[0]));
            });
  }
}
