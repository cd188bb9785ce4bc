package dev.pekkodsm.internal;

import dev.pekkodsm.coherence.home.HolderNotice;
import dev.pekkodsm.coherence.home.HomeReply;
import dev.pekkodsm.coherence.home.HomeRequest;
import dev.pekkodsm.memory.PeerEndpoint;
import org.apache.pekko.actor.typed.ActorRef;

/**
 * The Pekko messages the DSM's nodes exchange: envelopes around the coherence core's requests,
 * replies ({@link HomeReply}, sent as they are) and notices, plus the node actor's own. All of them
 * are serialized by {@link DsmSerializer}.
 *
 * <p>A move is exactly two messages on the wire: an {@link OwnerCommand} carrying a {@link
 * HomeRequest.HandOver} from the writer's node to the object's home, and the {@link
 * HomeReply.HandedOver} back.
 */
public final class Protocol {

  private Protocol() {}

  /** Every DSM message; bound to {@link DsmSerializer} in {@code reference.conf}. */
  public interface DsmMessage {}

  /**
   * A request for the owner entity of one object, routed by sharding to the object's home. {@code
   * replyTo} is null for one-way requests.
   */
  public record OwnerCommand(HomeRequest request, ActorRef<HomeReply> replyTo)
      implements DsmMessage {

    /** The object's home node. */
    public long home() {
      return request.home();
    }

    /** The object's id within its home. */
    public long object() {
      return request.object();
    }
  }

  /** A message to a node's DSM actor. */
  public interface NodeCommand extends DsmMessage {}

  /** Runs a task on the receiving node (a serialized {@code DCallable}). */
  public record Spawn(byte[] task, ActorRef<HomeReply> replyTo) implements NodeCommand {}

  /** A home's notice about a reference the receiving node holds. */
  public record ToHolder(HolderNotice notice) implements NodeCommand {}

  /** Asks a node for the endpoint of its arena. */
  public record GetEndpoint(ActorRef<EndpointInfo> replyTo) implements NodeCommand {}

  /**
   * Asks a node for the endpoint of the arena of removed node {@code node}, which it serves since
   * it promoted its backup. Not answered if it serves no such arena.
   */
  public record GetEndpointOf(long node, ActorRef<EndpointInfo> replyTo) implements NodeCommand {}

  /**
   * Where and how a node's arena can be read (host identity, arena files, tcp and RDMA addresses)
   * and the fingerprint of its class registry.
   */
  public record EndpointInfo(long node, PeerEndpoint endpoint, long registryFingerprint)
      implements DsmMessage {}

  /**
   * Records of a primary's {@code ReplicationStream} for its backup: {@code records} numbered from
   * {@code firstSeq} within {@code epoch}, sent by {@code sender} (the primary, or the node that
   * promoted it). The backup answers {@code replyTo} with a {@link ReplicaAnswer}.
   */
  public record Replicate(
      long primary,
      long sender,
      long epoch,
      long firstSeq,
      java.util.List<dev.pekkodsm.coherence.replication.ReplicaRecord> records,
      ActorRef<NodeCommand> replyTo)
      implements NodeCommand {}

  /**
   * A backup's answer to {@link Replicate}: applied everything up to {@code upTo} of {@code epoch},
   * or ({@code lost}) missed a batch and needs a full copy.
   */
  public record ReplicaAnswer(long primary, long backup, long epoch, long upTo, boolean lost)
      implements NodeCommand {}

  /** Asks a member which references and shares of {@code primary}'s objects it holds. */
  public record CensusQuery(long primary, ActorRef<NodeCommand> replyTo) implements NodeCommand {}

  /**
   * A member's answer to {@link CensusQuery}: it holds {@code weights[i]} of object {@code
   * objects[i]} of the primary at {@code colors[i]}.
   */
  public record CensusAnswer(long primary, long from, long[] objects, int[] colors, long[] weights)
      implements NodeCommand {
    public CensusAnswer {
      if (objects.length != colors.length || objects.length != weights.length) {
        throw new IllegalArgumentException("a census answer's columns differ in length");
      }
    }
  }

  /**
   * An arbitrary value carried to another node in a message (its handles travel as handles), used
   * by {@code LocalCluster.send} and the tour.
   */
  public record Carried(long id, Object payload) implements DsmMessage {}
}
