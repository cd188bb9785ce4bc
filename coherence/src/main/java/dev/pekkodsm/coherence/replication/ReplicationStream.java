package dev.pekkodsm.coherence.replication;

import dev.pekkodsm.coherence.NodeId;
import dev.pekkodsm.coherence.Timing;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;

/**
 * A primary's ordered stream of {@link ReplicaRecord}s to its backup, and the acknowledgements that
 * tell its writers their changes are safe.
 *
 * <p>Records get consecutive sequence numbers within an <em>epoch</em>; an epoch begins each time
 * the stream is pointed at a backup, with a full copy of the primary's state, so a backup never has
 * to reconcile two histories. One batch is in flight at a time: records shipped meanwhile wait and
 * leave together with the next batch, so many concurrent writers share one round trip. A batch not
 * acknowledged within the resend interval is sent again (the backup ignores what it already
 * applied); a backup that missed a batch says so and gets a new epoch with a full copy.
 *
 * <p>With no backup (a cluster of one), shipping completes at once: there is nowhere to be safe
 * yet, and the full copy made when a backup appears covers what was written alone.
 *
 * <p>Thread-safe. Futures are completed outside the stream's lock.
 */
public final class ReplicationStream {

  /** Sends a batch to a backup; fire and forget (the stream resends). */
  public interface Link {
    void send(NodeId backup, long epoch, long firstSeq, List<ReplicaRecord> records);
  }

  /**
   * Told, under the stream's lock, in order, whenever records join the stream or the backup
   * acknowledges some: the epoch, the last record's number and the last acknowledged one's.
   */
  public interface Progress {
    void changed(long epoch, long lastSeq, long ackedSeq);
  }

  private record Pending(long seq, ReplicaRecord record) {}

  private record Waiter(long seq, CompletableFuture<Void> future) {}

  private final Link link;
  private final Timing timing;
  private final long resendAfterNs;
  private final int maxBatch;
  private final int maxBatchBytes;
  private final long lingerNs;

  // Guarded by this.
  private Progress progress = (epoch, last, acked) -> {};
  private NodeId backup;
  private long epoch;
  private long copyEnd; // the number of this epoch's last copy record
  private long nextSeq = 1;
  private long acked;
  private final ArrayDeque<Pending> unsent = new ArrayDeque<>();
  private List<Pending> inFlight = List.of();
  private Timing.Cancellable resend;
  private Timing.Cancellable linger;
  private final ArrayDeque<Waiter> waiters = new ArrayDeque<>();
  private long batchesSent;
  private long resends;

  /**
   * @param link how batches reach the backup
   * @param timing the clock and timer for resends
   * @param resendAfterNs a batch not acknowledged within this is sent again
   * @param maxBatch the most records in one batch
   * @param maxBatchBytes a batch grows past this many bytes only by its first record (records
   *     nobody waits for linger a hundredth of the resend interval for a batch to join)
   */
  public ReplicationStream(
      Link link, Timing timing, long resendAfterNs, int maxBatch, int maxBatchBytes) {
    this.link = Objects.requireNonNull(link, "link");
    this.timing = Objects.requireNonNull(timing, "timing");
    if (resendAfterNs <= 0 || maxBatch < 1) {
      throw new IllegalArgumentException(
          "resendAfterNs " + resendAfterNs + " and maxBatch " + maxBatch + " must be positive");
    }
    this.resendAfterNs = resendAfterNs;
    this.maxBatch = maxBatch;
    this.maxBatchBytes = maxBatchBytes;
    this.lingerNs = Math.max(1, resendAfterNs / 100);
  }

  /** Tells {@code progress} of every change of the stream's numbers from now on. */
  public synchronized void onProgress(Progress progress) {
    this.progress = Objects.requireNonNull(progress, "progress");
    progress.changed(epoch, nextSeq - 1, acked);
  }

  /**
   * Appends records, in this order after everything shipped before. The future completes when the
   * backup holds them (at once if there is no backup). Never fails: a caller that cannot wait
   * longer stops waiting, and the change may or may not survive a failure of this node.
   */
  public CompletableFuture<Void> ship(List<ReplicaRecord> records) {
    return ship(records, new long[1]);
  }

  /**
   * {@link #ship(List)}, setting {@code epochOut[0]} to the epoch the records joined (0: none, no
   * backup): a change made after its records were acknowledged, if the epoch has moved on since,
   * may be missing from the new backup's copy and must be shipped again.
   */
  public CompletableFuture<Void> ship(List<ReplicaRecord> records, long[] epochOut) {
    CompletableFuture<Void> done = new CompletableFuture<>();
    boolean alone;
    synchronized (this) {
      epochOut[0] = epoch;
      alone = backup == null;
      if (!alone) {
        for (ReplicaRecord r : records) {
          unsent.add(new Pending(nextSeq++, r));
        }
        waiters.add(new Waiter(nextSeq - 1, done));
        progress.changed(epoch, nextSeq - 1, acked);
        sendIfIdle();
      }
    }
    if (alone) {
      done.complete(null);
    }
    return done;
  }

  /**
   * Appends a record nobody waits for (a slot's free, an object's departure): it leaves with the
   * next batch, or after {@code lingerNs} if no writer ships meanwhile, so a writer that waits for
   * the backup never waits behind a batch of such records.
   */
  public void post(ReplicaRecord record) {
    postInEpoch(record);
  }

  /** {@link #post}, returning the epoch the record joined (see {@link #ship(List, long[])}). */
  public long postInEpoch(ReplicaRecord record) {
    synchronized (this) {
      if (backup == null) {
        return epoch; // the full copy made when a backup appears reflects it
      }
      unsent.add(new Pending(nextSeq++, record));
      progress.changed(epoch, nextSeq - 1, acked);
      if (linger == null && inFlight.isEmpty()) {
        long postedEpoch = epoch;
        linger = timing.schedule(lingerNs, () -> flush(postedEpoch));
      }
      return epoch;
    }
  }

  private synchronized void flush(long postedEpoch) {
    linger = null;
    if (postedEpoch == epoch) {
      sendIfIdle();
    }
  }

  /** {@link #ship(List)} of one record. */
  public CompletableFuture<Void> ship(ReplicaRecord record) {
    return ship(List.of(record));
  }

  /**
   * Points the stream at {@code newBackup} (null: none) and starts a new epoch with {@code
   * fullCopy}, made under the stream's lock, followed by every record the old backup had not
   * acknowledged (the copy is of the primary's tables, which a change waiting for its
   * acknowledgement has not reached yet). Writers waiting for the old backup are answered when the
   * new one holds all that.
   */
  public void target(NodeId newBackup, Supplier<List<ReplicaRecord>> fullCopy) {
    target(newBackup, fullCopy, List.of());
  }

  /**
   * {@link #target(NodeId, Supplier)}, with {@code after} following the records the old backup had
   * not acknowledged.
   */
  public void target(
      NodeId newBackup, Supplier<List<ReplicaRecord>> fullCopy, List<ReplicaRecord> after) {
    List<Waiter> release = List.of();
    synchronized (this) {
      cancelResend();
      // What the old backup has not acknowledged follows the copy, in its order: a change made
      // but not yet visible in the primary's tables (a write waiting for its acknowledgement)
      // would otherwise be missing from the new backup while its writer is told it is safe.
      // The old epoch's own copy (and its end), if still unacknowledged, is not: the new copy
      // replaces it, and repeating it would take the backup back to what it read, over what
      // writers wrote there since.
      List<ReplicaRecord> unacknowledged = new ArrayList<>(inFlight.size() + unsent.size());
      for (Pending p : inFlight) {
        if (p.seq() > copyEnd && !(p.record() instanceof ReplicaRecord.CopyDone)) {
          unacknowledged.add(p.record());
        }
      }
      for (Pending p : unsent) {
        if (p.seq() > copyEnd && !(p.record() instanceof ReplicaRecord.CopyDone)) {
          unacknowledged.add(p.record());
        }
      }
      backup = newBackup;
      epoch++;
      nextSeq = 1;
      acked = 0;
      copyEnd = 0;
      unsent.clear();
      inFlight = List.of();
      if (newBackup == null) {
        release = new ArrayList<>(waiters);
        waiters.clear();
      } else {
        List<ReplicaRecord> copy = fullCopy.get();
        for (ReplicaRecord r : copy) {
          unsent.add(new Pending(nextSeq++, r));
        }
        copyEnd = nextSeq - 1;
        for (ReplicaRecord r : unacknowledged) {
          unsent.add(new Pending(nextSeq++, r));
        }
        for (ReplicaRecord r : after) {
          unsent.add(new Pending(nextSeq++, r));
        }
        long last = nextSeq - 1;
        List<Waiter> old = new ArrayList<>(waiters);
        waiters.clear();
        for (Waiter w : old) {
          waiters.add(new Waiter(last, w.future()));
        }
        sendIfIdle();
      }
      progress.changed(epoch, nextSeq - 1, acked);
    }
    release.forEach(w -> w.future().complete(null));
  }

  /** The backup applied everything up to {@code upTo} of {@code epoch}. */
  public void acked(NodeId from, long ackEpoch, long upTo) {
    List<Waiter> done = new ArrayList<>();
    synchronized (this) {
      if (!from.equals(backup) || ackEpoch != epoch || upTo <= acked) {
        return;
      }
      acked = Math.min(upTo, nextSeq - 1);
      progress.changed(epoch, nextSeq - 1, acked);
      while (!waiters.isEmpty() && waiters.peek().seq() <= acked) {
        done.add(waiters.poll());
      }
      if (!inFlight.isEmpty() && inFlight.get(inFlight.size() - 1).seq() <= acked) {
        cancelResend();
        inFlight = List.of();
        sendIfIdle();
      }
    }
    done.forEach(w -> w.future().complete(null));
  }

  /**
   * The backup lost track of {@code epoch} (it missed a batch, or it restarted its copy): a new
   * epoch with a full copy follows.
   */
  public void lost(NodeId from, long lostEpoch, Supplier<List<ReplicaRecord>> fullCopy) {
    lost(from, lostEpoch, fullCopy, List.of());
  }

  /** {@link #lost(NodeId, long, Supplier)} with {@code after} as {@link #target} takes it. */
  public void lost(
      NodeId from,
      long lostEpoch,
      Supplier<List<ReplicaRecord>> fullCopy,
      List<ReplicaRecord> after) {
    synchronized (this) {
      if (!from.equals(backup) || lostEpoch != epoch) {
        return;
      }
      target(from, fullCopy, after);
    }
  }

  /** The current backup, or null. */
  public synchronized NodeId backup() {
    return backup;
  }

  /** The current epoch (0 before the first backup). */
  public synchronized long epoch() {
    return epoch;
  }

  /** Records shipped but not yet acknowledged in this epoch. */
  public synchronized long unacknowledged() {
    return nextSeq - 1 - acked;
  }

  /** Batches sent so far, resends included. */
  public synchronized long batchesSent() {
    return batchesSent;
  }

  /** Batches sent again for want of an acknowledgement. */
  public synchronized long resends() {
    return resends;
  }

  // Called under the lock.
  private void sendIfIdle() {
    if (!inFlight.isEmpty() || unsent.isEmpty() || backup == null) {
      return;
    }
    List<Pending> batch = new ArrayList<>(Math.min(maxBatch, unsent.size()));
    int bytes = 0;
    while (!unsent.isEmpty() && batch.size() < maxBatch) {
      int next = unsent.peek().record().wireBytes();
      if (!batch.isEmpty() && bytes + next > maxBatchBytes) {
        break;
      }
      bytes += next;
      batch.add(unsent.poll());
    }
    inFlight = batch;
    transmit();
  }

  // Called under the lock.
  private void transmit() {
    List<ReplicaRecord> records = new ArrayList<>(inFlight.size());
    inFlight.forEach(p -> records.add(p.record()));
    long sentEpoch = epoch;
    batchesSent++;
    resend = timing.schedule(resendAfterNs, () -> resendIfStill(sentEpoch));
    link.send(backup, epoch, inFlight.get(0).seq(), records);
  }

  private synchronized void resendIfStill(long sentEpoch) {
    if (sentEpoch != epoch || inFlight.isEmpty()) {
      return;
    }
    resends++;
    transmit();
  }

  private void cancelResend() {
    if (resend != null) {
      resend.cancel();
      resend = null;
    }
  }
}
