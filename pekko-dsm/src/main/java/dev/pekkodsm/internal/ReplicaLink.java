package dev.pekkodsm.internal;

import dev.pekkodsm.coherence.NodeId;
import dev.pekkodsm.coherence.replication.ReplicaRecord;
import dev.pekkodsm.coherence.replication.ReplicationStream;
import dev.pekkodsm.memory.PeerEndpoint;
import dev.pekkodsm.memory.TcpTransport;
import dev.pekkodsm.memory.TransportUnavailableException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.Consumer;
import org.apache.pekko.actor.typed.ActorRef;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * How a primary's {@link ReplicationStream} reaches its backup, and how the backup's answers come
 * back (docs/DECISIONS.md, "The replication stream over tcp").
 *
 * <p>With {@code pekko.dsm.replication.channel = tcp}, a batch is a message to the backup's tcp
 * read server, answered on the same connection: no actor on either side, and a loopback round trip
 * of tens of microseconds where an Artery round trip through two actors' mailboxes costs hundreds.
 * One sender thread per stream sends and waits (the stream keeps one batch in flight, so batches
 * leave in order). A batch the tcp path cannot deliver (the backup's endpoint not fetched yet, no
 * tcp server, a refusal, a broken connection, no answer within the resend interval) goes as an
 * Artery message to the backup's DSM actor, whose answer comes back as a message: the backup
 * ignores a batch it applied already, so a batch sent both ways is harmless. With {@code channel =
 * artery}, every batch goes that way.
 *
 * <p>The backup's side is {@link #serve}: the handler of the tcp server's replication channel.
 *
 * <p>Thread-safe.
 */
final class ReplicaLink implements ReplicationStream.Link, AutoCloseable {

  /** The tcp server's message channel of replication batches. */
  static final long CHANNEL = 1;

  private static final Logger log = LoggerFactory.getLogger(ReplicaLink.class);

  private final NodeId self;
  private final NodeId primary;
  private final PeerDirectory peers;
  private final TcpTransport tcp; // null: Artery only
  private final Duration answerWithin;
  private final Consumer<Protocol.ReplicaAnswer> answered;
  private final ExecutorService sender; // null: Artery only
  private volatile ActorRef<Protocol.NodeCommand> replyTo;

  // Used by the sender thread; guarded by this, so that close() can close the messenger.
  private NodeId messengerOf;
  private CompletableFuture<PeerEndpoint> endpoint;
  private TcpTransport.Messenger messenger;
  private boolean closed;

  /**
   * @param tcp sends to peers' tcp servers, or null to send over Artery only
   * @param answerWithin how long a batch waits for its answer over tcp before going by Artery
   * @param answered takes the backup's answers
   */
  ReplicaLink(
      NodeId self,
      NodeId primary,
      PeerDirectory peers,
      TcpTransport tcp,
      Duration answerWithin,
      Consumer<Protocol.ReplicaAnswer> answered) {
    this.self = self;
    this.primary = primary;
    this.peers = peers;
    this.tcp = tcp;
    this.answerWithin = answerWithin;
    this.answered = answered;
    this.sender =
        tcp == null
            ? null
            : Executors.newSingleThreadExecutor(
                r -> {
                  Thread t = new Thread(r, "pekko-dsm-replication-" + primary);
                  t.setDaemon(true);
                  return t;
                });
  }

  /** Where Artery answers go: this node's DSM actor. */
  void replyTo(ActorRef<Protocol.NodeCommand> nodeActor) {
    this.replyTo = nodeActor;
  }

  ActorRef<Protocol.NodeCommand> replyTo() {
    return replyTo;
  }

  /** Called under the stream's lock: hands the batch to the sender thread, or to Artery. */
  @Override
  public void send(NodeId backup, long epoch, long firstSeq, List<ReplicaRecord> records) {
    Protocol.Replicate batch =
        new Protocol.Replicate(primary.value(), self.value(), epoch, firstSeq, records, null);
    if (sender == null) {
      overArtery(backup, batch);
      return;
    }
    try {
      sender.execute(() -> overTcp(backup, batch));
    } catch (RejectedExecutionException e) {
      log.debug("the link of {} is closed: a batch for {} is not sent", primary, backup);
    }
  }

  private void overTcp(NodeId backup, Protocol.Replicate batch) {
    TcpTransport.Messenger to = messenger(backup);
    byte[] body = to == null ? null : WireFormats.batchBytes(batch);
    if (body == null || body.length > TcpTransport.MAX_MESSAGE_BYTES) {
      overArtery(backup, batch);
      return;
    }
    byte[] answer;
    try {
      answer = to.send(CHANNEL, body, System.nanoTime() + answerWithin.toNanos());
    } catch (TransportUnavailableException e) {
      log.debug("a batch for {} goes by Artery: {}", backup, e.getMessage());
      overArtery(backup, batch);
      return;
    }
    if (answer.length == 0) {
      return; // the backup refused a record: it says nothing, and the stream resends
    }
    Protocol.ReplicaAnswer reply;
    try {
      reply = WireFormats.answer(answer);
    } catch (IllegalArgumentException e) {
      log.warn("{} answered a batch with bytes that are no answer: {}", backup, e.getMessage());
      return;
    }
    answered.accept(reply);
  }

  /** The messenger to {@code backup}'s tcp server, or null while there is none to use. */
  private synchronized TcpTransport.Messenger messenger(NodeId backup) {
    if (closed) {
      return null;
    }
    if (!backup.equals(messengerOf)) {
      if (messenger != null) {
        messenger.close();
      }
      messenger = null;
      messengerOf = backup;
      endpoint = peers.endpoint(backup);
    }
    if (messenger != null) {
      return messenger;
    }
    if (!endpoint.isDone()) {
      return null; // this batch goes by Artery; the next may go over tcp
    }
    PeerEndpoint e = endpoint.exceptionally(failure -> null).join();
    if (e == null) {
      endpoint = peers.endpoint(backup); // asked again for a later batch
      return null;
    }
    if (!e.hasTcp()) {
      return null; // the backup runs no tcp server: Artery for good
    }
    try {
      messenger = tcp.messenger(e);
    } catch (TransportUnavailableException failure) {
      log.debug("no tcp link to {}: {}", backup, failure.getMessage());
    }
    return messenger;
  }

  private void overArtery(NodeId backup, Protocol.Replicate batch) {
    ActorRef<Protocol.NodeCommand> me = replyTo;
    if (me == null) {
      return; // not started yet: the resend will carry it
    }
    Protocol.Replicate message =
        new Protocol.Replicate(
            batch.primary(), batch.sender(), batch.epoch(), batch.firstSeq(), batch.records(), me);
    peers
        .address(backup)
        .thenAccept(address -> peers.nodeActor(address).tell(message))
        .exceptionally(
            e -> {
              log.debug("cannot reach backup {}: {}", backup, e.toString());
              return null;
            });
  }

  /**
   * The backup's side: the answer to a batch received on the tcp server's {@code channel} (empty if
   * the backup says nothing), or null to refuse what is not a batch.
   */
  static CompletableFuture<byte[]> serve(ReplicaHost replicas, long channel, byte[] body) {
    if (channel != CHANNEL) {
      return null;
    }
    Protocol.ReplicaAnswer answer = replicas.receive(WireFormats.batch(body));
    return CompletableFuture.completedFuture(
        answer == null ? new byte[0] : WireFormats.answerBytes(answer));
  }

  /** Stops sending over tcp; a batch being sent fails over to Artery. */
  @Override
  public synchronized void close() {
    if (sender == null || closed) {
      return;
    }
    closed = true;
    sender.shutdownNow();
    if (messenger != null) {
      messenger.close();
      messenger = null;
    }
  }
}
