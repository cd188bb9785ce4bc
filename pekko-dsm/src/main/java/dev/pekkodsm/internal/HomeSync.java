package dev.pekkodsm.internal;

import dev.pekkodsm.coherence.AtomicCell;
import dev.pekkodsm.coherence.NodeId;
import dev.pekkodsm.coherence.mutex.MutexSteps;
import dev.pekkodsm.memory.SyncFailedException;
import dev.pekkodsm.memory.SyncRegion;
import dev.pekkodsm.memory.SyncStatus;
import dev.pekkodsm.memory.TcpTransport;
import dev.pekkodsm.memory.TransportUnavailableException;
import dev.pekkodsm.serialization.DecodeStatus;
import dev.pekkodsm.serialization.internal.SnapshotCodec;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;
import java.util.function.LongConsumer;
import java.util.function.LongPredicate;

/**
 * A mutex's commit and an atomic's operation on a replicated home, made by the home and asked over
 * its tcp server (docs/DECISIONS.md, "Commits to a replicated home go over its tcp server").
 *
 * <p>With a backup, the home makes every change its backup holds (its sync region reports each
 * before making it and waits for the backup). A peer used to ask for the change with a home request
 * through Cluster Sharding (two actors and an Artery round trip); this asks the home's tcp server
 * instead, which runs the same steps a peer runs one-sided ({@link MutexSteps#commit}, {@link
 * AtomicCell#apply}) on the home's region, on a pool (they wait for the backup), and answers on the
 * same connection.
 *
 * <p>Wire (little-endian), channel {@link #CHANNEL}:
 *
 * <pre>
 * COMMIT  op i32 = 1 | requester u64 | cell u64 | object u64 | held word u64 | color i32 | frame
 * ATOMIC  op i32 = 2 | requester u64 | cell u64 | object u64 | operation i32 | a u64 | b u64
 * RECOPY  op i32 = 3 | requester u64 | epoch seen u64 | 0 u64
 * answer  status i32: -1 done, else a SyncStatus ordinal, followed by
 *         done: COMMIT outcome i32 (a MutexSteps.Outcome ordinal); ATOMIC value u64 | done u8;
 *               RECOPY nothing (the backup holds the new copy)
 *         failed: the message, UTF-8
 * </pre>
 *
 * <p>The same link carries a writer's own commit to the backup of a mutex's home, on channel {@link
 * #BACKUP_CHANNEL}, applied by the backup's server on its loop ({@link ReplicaHost#directCommit}):
 *
 * <pre>
 * BACKUP  op i32 = 4 | requester u64 | cell u64 | object u64 | primary u64 | epoch u64 |
 *         held word u64 | color i32 | frame
 * answer  status i32 -1 | ReplicaHost.Direct ordinal i32
 * </pre>
 *
 * <p>A request the home cannot parse, or one from a node removed from the cluster (tcp connections
 * are not quarantined as Artery associations are), is refused: the client then asks through Cluster
 * Sharding. A frame that is not one of the home's object's frames is answered NOT_THIS_OBJECT and
 * changes nothing. A failure of the home's steps other than their own statuses is answered
 * TIMED_OUT: the change may have been made.
 *
 * <p>Thread-safe.
 */
final class HomeSync {

  /** The tcp server's message channel of these requests. */
  static final long CHANNEL = 2;

  /** The tcp server's message channel of writers' commits to a backup. */
  static final long BACKUP_CHANNEL = 3;

  private static final int COMMIT = 1;
  private static final int ATOMIC = 2;
  private static final int RECOPY = 3;
  private static final int BACKUP = 4;
  private static final int DONE = -1;
  private static final int HEADER_BYTES = 4 + 8 + 8 + 8;
  private static final int MAX_MESSAGE_CHARS = 1_000;

  /** A home that cannot be asked this way: every request is unavailable (not sent). */
  static final HomeSync NONE = new HomeSync(null, 0, "no tcp link to the home");

  private final TcpTransport.Messenger messenger; // null: NONE
  private final long requester;
  private final String where;

  /**
   * @param requester this node's id, which the home checks is still a member
   */
  HomeSync(TcpTransport.Messenger messenger, long requester, String where) {
    this.messenger = messenger;
    this.requester = requester;
    this.where = where;
  }

  /** True if requests can be sent. */
  boolean available() {
    return messenger != null;
  }

  /** Closes its connections. */
  void close() {
    if (messenger != null) {
      messenger.close();
    }
  }

  /**
   * Has the home commit {@code frame} into the inactive slot of the mutex at {@code cell} and
   * release the lock {@code held} names, as {@link MutexSteps#commit} does.
   *
   * @throws SyncFailedException UNAVAILABLE if the request was not sent or was refused (nothing
   *     happened: ask another way), TIMED_OUT if the home did not answer in time (the commit may or
   *     may not have happened), or the status the home's steps failed with
   */
  MutexSteps.Outcome commit(
      long cell, long object, long held, byte[] frame, int color, long deadlineNs) {
    ByteBuffer b = request(COMMIT, cell, object, 8 + 4 + frame.length);
    b.putLong(held).putInt(color).put(frame);
    ByteBuffer answer = ask(CHANNEL, b.array(), deadlineNs);
    int outcome = answer.remaining() == 4 ? answer.getInt() : -1;
    if (outcome < 0 || outcome >= MutexSteps.Outcome.values().length) {
      throw malformed();
    }
    return MutexSteps.Outcome.values()[outcome];
  }

  /**
   * Has the home apply {@code op} to the atomic at {@code cell}, as {@link AtomicCell#apply} does.
   *
   * @throws SyncFailedException as {@link #commit} does
   */
  AtomicCell.Result atomic(
      long cell, long object, AtomicCell.Op op, long a, long b, long deadlineNs) {
    ByteBuffer r = request(ATOMIC, cell, object, 4 + 8 + 8);
    r.putInt(op.ordinal()).putLong(a).putLong(b);
    ByteBuffer answer = ask(CHANNEL, r.array(), deadlineNs);
    if (answer.remaining() != 9) {
      throw malformed();
    }
    return new AtomicCell.Result(answer.getLong(), answer.get() != 0);
  }

  /**
   * Has the home copy itself to its backup again, in an epoch after {@code seenEpoch}, and waits
   * until the backup holds the copy ({@link Replication#recopy}).
   *
   * @throws SyncFailedException as {@link #commit} does
   */
  void recopy(long seenEpoch, long deadlineNs) {
    ByteBuffer answer = ask(CHANNEL, request(RECOPY, seenEpoch, 0, 0).array(), deadlineNs);
    if (answer.remaining() != 0) {
      throw malformed();
    }
  }

  /**
   * Has this node, the backup of {@code primary} at copy {@code epoch}, take a writer's commit of
   * the mutex at {@code cell} ({@link ReplicaHost#directCommit}).
   *
   * @throws SyncFailedException UNAVAILABLE if not sent or refused, TIMED_OUT if not answered in
   *     time (the backup may hold the commit)
   */
  ReplicaHost.Direct backupCommit(
      long primary,
      long epoch,
      long cell,
      long object,
      long held,
      byte[] frame,
      int color,
      long deadlineNs) {
    ByteBuffer b = request(BACKUP, cell, object, 8 + 8 + 8 + 4 + frame.length);
    b.putLong(primary).putLong(epoch).putLong(held).putInt(color).put(frame);
    ByteBuffer answer = ask(BACKUP_CHANNEL, b.array(), deadlineNs);
    int direct = answer.remaining() == 4 ? answer.getInt() : -1;
    if (direct < 0 || direct >= ReplicaHost.Direct.values().length) {
      throw malformed();
    }
    return ReplicaHost.Direct.values()[direct];
  }

  /** An answer that is none: the home may have made the change. */
  private SyncFailedException malformed() {
    return new SyncFailedException(
        SyncStatus.TIMED_OUT,
        where + " sent a malformed answer; the change may or may not have been made");
  }

  private ByteBuffer request(int op, long cell, long object, int bodyBytes) {
    return ByteBuffer.allocate(HEADER_BYTES + bodyBytes)
        .order(ByteOrder.LITTLE_ENDIAN)
        .putInt(op)
        .putLong(requester)
        .putLong(cell)
        .putLong(object);
  }

  /** Sends the request; the answer positioned after its status, or the failure thrown. */
  private ByteBuffer ask(long channel, byte[] request, long deadlineNs) {
    if (messenger == null) {
      throw new SyncFailedException(SyncStatus.UNAVAILABLE, where);
    }
    if (request.length > TcpTransport.MAX_MESSAGE_BYTES) {
      throw new SyncFailedException(
          SyncStatus.UNAVAILABLE, "a request of " + request.length + " bytes is too large for tcp");
    }
    byte[] bytes;
    try {
      bytes = messenger.send(channel, request, deadlineNs);
    } catch (TransportUnavailableException e) {
      // Refused or unreachable: the home did nothing. Otherwise it may have made the change.
      throw e.mayHaveArrived()
          ? new SyncFailedException(
              SyncStatus.TIMED_OUT, e.getMessage() + "; the change may or may not have been made")
          : new SyncFailedException(SyncStatus.UNAVAILABLE, e.getMessage());
    }
    ByteBuffer answer = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
    if (answer.remaining() < 4) {
      throw malformed();
    }
    int status = answer.getInt();
    if (status == DONE) {
      return answer;
    }
    if (status < 0 || status >= SyncStatus.values().length) {
      throw malformed();
    }
    byte[] message = new byte[answer.remaining()];
    answer.get(message);
    throw new SyncFailedException(
        SyncStatus.values()[status], where + ": " + new String(message, StandardCharsets.UTF_8));
  }

  // ------------------------------------------------------------------ the home's side

  /**
   * The home's answer to a request on {@code channel}, or null to refuse what it cannot parse. The
   * steps run on {@code run} (they wait for the backup), never on the server's thread.
   *
   * @param region the home's sync region
   * @param node the node whose objects the region holds (a promoted primary's, at its promoter)
   * @param codec checks a commit's frame
   * @param run runs the steps off the server's thread
   * @param departed true of a node removed from the cluster, whose requests are refused
   * @param recopy copies the home to its backup again and waits ({@link Replication#recopy}), or
   *     null if the home does not (a promoted primary's, whose writers do not write its backup)
   */
  static CompletableFuture<byte[]> serve(
      SyncRegion region,
      long node,
      SnapshotCodec codec,
      Consumer<Runnable> run,
      LongPredicate departed,
      LongConsumer recopy,
      long channel,
      byte[] body,
      long budgetNs) {
    if (channel != CHANNEL || body.length < HEADER_BYTES) {
      return null;
    }
    ByteBuffer in = ByteBuffer.wrap(body).order(ByteOrder.LITTLE_ENDIAN);
    int op = in.getInt();
    if (departed.test(in.getLong())) {
      return null;
    }
    long cell = in.getLong();
    long object = in.getLong();
    Runnable[] steps = new Runnable[1];
    CompletableFuture<byte[]> answer = new CompletableFuture<>();
    if (op == COMMIT && in.remaining() >= 12) {
      long held = in.getLong();
      int color = in.getInt();
      byte[] frame = new byte[in.remaining()];
      in.get(frame);
      steps[0] =
          () -> {
            DecodeStatus status = codec.verify(frame, 0, frame.length, node, object, color);
            if (status != DecodeStatus.OK) {
              throw new SyncFailedException(
                  SyncStatus.NOT_THIS_OBJECT, "the frame is not one of this object's: " + status);
            }
            MutexSteps.Outcome outcome =
                MutexSteps.commit(
                    region,
                    cell,
                    object,
                    held,
                    frame,
                    frame.length,
                    color,
                    System.nanoTime() + budgetNs);
            answer.complete(done(4).putInt(outcome.ordinal()).array());
          };
    } else if (op == ATOMIC && in.remaining() == 20) {
      int which = in.getInt();
      long a = in.getLong();
      long b = in.getLong();
      if (which < 0 || which >= AtomicCell.Op.values().length) {
        return null;
      }
      AtomicCell.Op operation = AtomicCell.Op.values()[which];
      steps[0] =
          () -> {
            AtomicCell.Result r =
                AtomicCell.apply(
                    region, cell, object, operation, a, b, System.nanoTime() + budgetNs);
            answer.complete(done(9).putLong(r.value()).put((byte) (r.done() ? 1 : 0)).array());
          };
    } else if (op == RECOPY && in.remaining() == 0 && recopy != null) {
      steps[0] =
          () -> {
            recopy.accept(cell); // the epoch the writer saw
            answer.complete(done(0).array());
          };
    } else {
      return null;
    }
    run.accept(
        () -> {
          try {
            steps[0].run();
          } catch (SyncFailedException e) {
            answer.complete(failed(e.status(), e.getMessage()));
          } catch (RuntimeException e) {
            answer.complete(failed(SyncStatus.TIMED_OUT, "the home's steps failed: " + e));
          }
        });
    return answer;
  }

  /**
   * The backup's answer to a writer's commit received on {@code channel} ({@link #BACKUP_CHANNEL}),
   * applied at once on the calling thread (the server's loop: it waits for nothing), or null to
   * refuse what is not one.
   */
  static CompletableFuture<byte[]> serveBackup(ReplicaHost replicas, long channel, byte[] body) {
    if (channel != BACKUP_CHANNEL || body.length < HEADER_BYTES + 8 + 8 + 8 + 4) {
      return null;
    }
    ByteBuffer in = ByteBuffer.wrap(body).order(ByteOrder.LITTLE_ENDIAN);
    if (in.getInt() != BACKUP) {
      return null;
    }
    long writer = in.getLong();
    long cell = in.getLong();
    long object = in.getLong();
    long primary = in.getLong();
    long epoch = in.getLong();
    long held = in.getLong();
    int color = in.getInt();
    byte[] frame = new byte[in.remaining()];
    in.get(frame);
    ReplicaHost.Direct answer;
    try {
      answer =
          replicas.directCommit(
              NodeId.of(writer), NodeId.of(primary), epoch, cell, object, held, color, frame);
    } catch (IllegalArgumentException e) {
      return null; // no node's id
    }
    return CompletableFuture.completedFuture(done(4).putInt(answer.ordinal()).array());
  }

  private static ByteBuffer done(int bytes) {
    return ByteBuffer.allocate(4 + bytes).order(ByteOrder.LITTLE_ENDIAN).putInt(DONE);
  }

  private static byte[] failed(SyncStatus status, String message) {
    String m = message == null ? "" : message;
    byte[] text =
        (m.length() > MAX_MESSAGE_CHARS ? m.substring(0, MAX_MESSAGE_CHARS) : m)
            .getBytes(StandardCharsets.UTF_8);
    return ByteBuffer.allocate(4 + text.length)
        .order(ByteOrder.LITTLE_ENDIAN)
        .putInt(status.ordinal())
        .put(text)
        .array();
  }
}
