package dev.pekkodsm.samples.socialnet;

import java.time.Instant;
import java.time.temporal.ChronoUnit;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

/**
 * unique-id: post ids that order posts by creation time, as DeathStarBench's (a timestamp, the
 * machine and a counter). Here: microseconds since the epoch, strictly increasing on each node,
 * shifted left by 8 bits and or-ed with the node's index, so ids of different nodes never collide
 * and {@link #timestampUs(long)} gives the time back. Used on the node a request enters.
 */
final class UniqueIdService {

  /** Bits of the node index in an id. */
  static final int NODE_BITS = 8;

  sealed interface Command extends SnMessage permits NextId {}

  record NextId(ActorRef<Id> replyTo) implements Command {}

  record Id(long value) implements SnMessage {}

  private UniqueIdService() {}

  static Behavior<Command> create(int node) {
    if (node < 0 || node >= 1 << NODE_BITS) {
      throw new IllegalArgumentException("node=" + node + " must be in [0, 256)");
    }
    long[] lastUs = {0};
    return Behaviors.receive(Command.class)
        .onMessage(
            NextId.class,
            m -> {
              long nowUs = ChronoUnit.MICROS.between(Instant.EPOCH, Instant.now());
              lastUs[0] = Math.max(lastUs[0] + 1, nowUs);
              m.replyTo().tell(new Id(lastUs[0] << NODE_BITS | node));
              return Behaviors.same();
            })
        .build();
  }

  /** When the post with this id was created, in microseconds since the epoch. */
  static long timestampUs(long postId) {
    return postId >>> NODE_BITS;
  }
}
