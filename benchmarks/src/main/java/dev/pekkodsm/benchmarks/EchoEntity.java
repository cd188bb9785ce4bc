package dev.pekkodsm.benchmarks;

import java.util.Objects;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityTypeKey;
import org.apache.pekko.cluster.typed.Cluster;

/**
 * A trivial sharded entity for the delegation baseline: it answers every {@link Ping} with a {@link
 * Pong} carrying its node's address and a fixed payload. Asking it from another node is one Cluster
 * Sharding {@code ask} round trip, what a Pekko user does today to reach state owned elsewhere
 * (Grappa's model).
 *
 * <p>Its messages are serialized by {@link EchoSerializer} (bound in {@link #CONFIG}), a compact
 * hand-written format like the DSM's own protocol, so the comparison is about the path, not about
 * the serializer.
 */
final class EchoEntity {

  /** The entity type. */
  static final EntityTypeKey<Command> TYPE_KEY = EntityTypeKey.create(Command.class, "bench-echo");

  /** Binds the messages to {@link EchoSerializer}; add it to every node's configuration. */
  static final String CONFIG =
      String.join(
          "\n",
          "pekko.actor.serializers.pekko-dsm-bench-echo = \""
              + EchoSerializer.class.getName()
              + "\"",
          "pekko.actor.serialization-bindings {",
          "  \"" + Message.class.getName() + "\" = pekko-dsm-bench-echo",
          "}");

  private EchoEntity() {}

  /** Every message of the entity; bound to {@link EchoSerializer}. */
  interface Message {}

  /** What the entity accepts. */
  interface Command extends Message {}

  /** Asks for a {@link Pong}. */
  record Ping(ActorRef<Pong> replyTo) implements Command {}

  /**
   * The answer.
   *
   * @param node the address of the node the entity runs on
   * @param payload a fixed payload, as large as the value a benchmark compares against
   */
  record Pong(String node, byte[] payload) implements Message {}

  /** The entity's behavior: answer every ping with the node's address and {@code payload}. */
  static Behavior<Command> create(byte[] payload) {
    Objects.requireNonNull(payload, "payload");
    return Behaviors.setup(
        ctx -> {
          String node = Cluster.get(ctx.getSystem()).selfMember().address().toString();
          return Behaviors.receive(Command.class)
              .onMessage(
                  Ping.class,
                  ping -> {
                    ping.replyTo().tell(new Pong(node, payload));
                    return Behaviors.same();
                  })
              .build();
        });
  }
}
