package dev.pekkodsm.internal;

import dev.pekkodsm.coherence.home.HomeProtocol;
import dev.pekkodsm.coherence.home.HomeReply;
import dev.pekkodsm.coherence.home.HomeRequest;
import dev.pekkodsm.coherence.home.Responder;
import dev.pekkodsm.internal.Protocol.OwnerCommand;
import java.util.function.LongFunction;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityContext;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityTypeKey;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The owner of one object as a sharded entity: the address other nodes send requests to. A thin
 * adapter: it hands each request to the node's {@link HomeProtocol}, which answers through the
 * request's {@code replyTo}, and stops itself when the protocol says the object has left. It holds
 * no state; the object lives in the node's table, so the entity can be passivated and restarted
 * freely.
 */
final class OwnerEntity {

  static final EntityTypeKey<OwnerCommand> TYPE_KEY =
      EntityTypeKey.create(OwnerCommand.class, "pekko-dsm-owner");

  private static final Logger log = LoggerFactory.getLogger(OwnerEntity.class);

  private OwnerEntity() {}

  /** What answers the requests for one home node's objects. */
  interface Home {
    void handle(HomeRequest request, Responder out);
  }

  static Behavior<OwnerCommand> create(
      LongFunction<Home> homes, EntityContext<OwnerCommand> entity) {
    return Behaviors.setup(
        ctx -> {
          ActorRef<OwnerCommand> self = ctx.getSelf();
          ActorRef<ClusterSharding.ShardCommand> shard = entity.getShard();
          return Behaviors.receive(OwnerCommand.class)
              .onMessage(
                  OwnerCommand.class,
                  command -> {
                    serve(homes.apply(command.home()), command, self, shard);
                    return Behaviors.same();
                  })
              .build();
        });
  }

  private static void serve(
      Home home,
      OwnerCommand command,
      ActorRef<OwnerCommand> self,
      ActorRef<ClusterSharding.ShardCommand> shard) {
    ActorRef<HomeReply> replyTo = command.replyTo();
    Responder out =
        new Responder() {
          @Override
          public void reply(HomeReply reply) {
            if (replyTo != null) {
              replyTo.tell(reply);
            }
          }

          @Override
          public void objectLeft() {
            // Requests already in the mailbox are answered first; later ones go to a fresh
            // entity, which answers from the tombstone.
            shard.tell(new ClusterSharding.Passivate<>(self));
          }
        };
    try {
      home.handle(command.request(), out);
    } catch (RuntimeException e) {
      // A malformed or unexpected request must not stop the entity: its mailbox may hold
      // releases and requests of well-behaved nodes.
      log.warn(
          "owner of {} could not handle {}: {}",
          entityId(command.home(), command.object()),
          command.request().getClass().getSimpleName(),
          e.toString());
    }
  }

  /** The entity id of an object: its home and id in hex. */
  static String entityId(long home, long object) {
    return HomeProtocol.name(home, object);
  }

  /** The shard of an entity: its home node, so each node's objects form one shard. */
  static String shardId(String entityId) {
    int colon = entityId.indexOf(':');
    return colon < 0 ? entityId : entityId.substring(0, colon);
  }
}
