package dev.pekkodsm.coherence.replication;

import dev.pekkodsm.coherence.NodeId;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A backup's side of the {@link ReplicationStream}s that reach it: for each primary, the epoch it
 * follows and how far it has applied, so batches are applied exactly once and in order, whatever
 * the network repeats or reorders.
 *
 * <p>Thread-safe; batches of one primary are applied under that primary's lock.
 */
public final class ReplicaInbox {

  /** Applies records of one primary; {@code reset} forgets its state for a new epoch's copy. */
  public interface Applier {
    void reset(NodeId primary);

    void apply(NodeId primary, ReplicaRecord record);
  }

  /** What the backup answers a batch with. */
  public sealed interface Answer {}

  /** Everything up to {@code upTo} of {@code epoch} is applied. */
  public record Ack(long epoch, long upTo) implements Answer {}

  /** The batch starts past what was applied: send a new epoch with a full copy. */
  public record Lost(long epoch) implements Answer {}

  /** The batch is of an epoch older than the one followed: nothing to say. */
  public record Stale(long epoch) implements Answer {}

  private static final class Follower {
    long epoch;
    long applied;
  }

  private final Map<NodeId, Follower> followed = new ConcurrentHashMap<>();
  private final Applier applier;

  public ReplicaInbox(Applier applier) {
    this.applier = applier;
  }

  /**
   * Applies the part of a batch not applied yet.
   *
   * @throws RuntimeException if the applier refuses a record: the records before it stay applied,
   *     and the answer to the primary's resend will be {@link Lost} only if it skips ahead
   */
  public Answer receive(NodeId primary, long epoch, long firstSeq, List<ReplicaRecord> records) {
    Follower f = followed.computeIfAbsent(primary, p -> new Follower());
    synchronized (f) {
      if (epoch < f.epoch) {
        return new Stale(epoch);
      }
      if (epoch > f.epoch) {
        if (firstSeq != 1) {
          return new Lost(epoch); // the start of that epoch's copy went missing
        }
        applier.reset(primary);
        f.epoch = epoch;
        f.applied = 0;
      }
      if (firstSeq > f.applied + 1) {
        return new Lost(epoch);
      }
      for (int i = (int) Math.max(0, f.applied + 1 - firstSeq); i < records.size(); i++) {
        applier.apply(primary, records.get(i));
        f.applied = firstSeq + i;
      }
      return new Ack(epoch, f.applied);
    }
  }

  /** The epoch of {@code primary} followed now, or 0 if none. */
  public long epoch(NodeId primary) {
    Follower f = followed.get(primary);
    if (f == null) {
      return 0;
    }
    synchronized (f) {
      return f.epoch;
    }
  }

  /** Stops following {@code primary} (it was promoted here, or it backs up elsewhere now). */
  public void forget(NodeId primary) {
    followed.remove(primary);
  }

  /** The primaries followed now. */
  public List<NodeId> primaries() {
    return List.copyOf(followed.keySet());
  }
}
