package dev.pekkodsm.coherence.replication;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pekkodsm.coherence.ManualTiming;
import dev.pekkodsm.coherence.NodeId;
import dev.pekkodsm.coherence.ObjectKind;
import dev.pekkodsm.coherence.replication.ReplicaRecord.Filed;
import dev.pekkodsm.coherence.replication.ReplicaRecord.Gone;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/** The primary's stream and the backup's inbox, joined by a link the test controls. */
class ReplicationStreamTest {

  static final NodeId PRIMARY = NodeId.of(0x10);
  static final NodeId BACKUP = NodeId.of(0x20);
  static final NodeId OTHER = NodeId.of(0x30);
  static final long RESEND = 1_000_000;

  record Batch(NodeId to, long epoch, long firstSeq, List<ReplicaRecord> records) {}

  final ManualTiming timing = new ManualTiming();
  final List<Batch> sent = new ArrayList<>();
  final ReplicationStream stream =
      new ReplicationStream(
          (to, epoch, first, records) -> sent.add(new Batch(to, epoch, first, records)),
          timing,
          RESEND,
          3,
          1000);
  final ReplicaCatalog catalog = new ReplicaCatalog();
  final List<String> applied = new ArrayList<>();
  final ReplicaInbox inbox =
      new ReplicaInbox(
          new ReplicaInbox.Applier() {
            @Override
            public void reset(NodeId primary) {
              applied.add("reset");
              catalog.clear();
            }

            @Override
            public void apply(NodeId primary, ReplicaRecord record) {
              applied.add(record.toString());
              catalog.apply(record);
            }
          });

  static Filed box(long id, int color) {
    return new Filed(id, ObjectKind.BOX, color, 0, 0, PRIMARY.value());
  }

  /** Delivers the oldest undelivered batch and feeds the answer back to the stream. */
  ReplicaInbox.Answer deliver() {
    Batch b = sent.remove(0);
    ReplicaInbox.Answer answer = inbox.receive(PRIMARY, b.epoch(), b.firstSeq(), b.records());
    if (answer instanceof ReplicaInbox.Ack ack) {
      stream.acked(b.to(), ack.epoch(), ack.upTo());
    } else if (answer instanceof ReplicaInbox.Lost lost) {
      stream.lost(b.to(), lost.epoch(), () -> List.copyOf(catalogOfPrimary));
    }
    return answer;
  }

  final List<ReplicaRecord> catalogOfPrimary = new ArrayList<>();

  @Test
  void shouldCompleteAtOnceWithoutABackup() {
    assertTrue(stream.ship(box(1, 0)).isDone());
    assertTrue(sent.isEmpty());
  }

  @Test
  void shouldAnswerAWriterOnlyWhenTheBackupHoldsItsChange() {
    stream.target(BACKUP, List::of);
    CompletableFuture<Void> w = stream.ship(box(1, 0));
    assertFalse(w.isDone());
    deliver();
    assertTrue(w.isDone());
    assertEquals(0, catalog.get(1).color());
    assertEquals(0, stream.unacknowledged());
  }

  @Test
  void shouldGroupChangesShippedWhileABatchIsInFlight() {
    stream.target(BACKUP, List::of);
    CompletableFuture<Void> first = stream.ship(box(1, 0));
    CompletableFuture<Void> second = stream.ship(box(2, 0));
    CompletableFuture<Void> third = stream.ship(List.of(box(3, 0), new Gone(1)));
    assertEquals(1, sent.size());
    deliver();
    assertTrue(first.isDone());
    assertFalse(second.isDone());
    assertEquals(1, sent.size(), "the waiting records leave together");
    assertEquals(3, sent.get(0).records().size());
    deliver();
    assertTrue(second.isDone() && third.isDone());
    assertEquals(2, catalog.size());
    assertEquals(2, stream.batchesSent());
  }

  @Test
  void shouldResendALostBatchAndApplyItOnce() {
    stream.target(BACKUP, List::of);
    CompletableFuture<Void> w = stream.ship(box(1, 0));
    sent.clear(); // lost on the way
    timing.advance(RESEND);
    assertEquals(1, sent.size());
    assertEquals(1, stream.resends());
    Batch again = sent.get(0);
    deliver();
    assertTrue(w.isDone());
    // a late duplicate changes nothing and is answered with the same ack
    ReplicaInbox.Answer dup =
        inbox.receive(PRIMARY, again.epoch(), again.firstSeq(), again.records());
    assertEquals(new ReplicaInbox.Ack(1, 1), dup);
    assertEquals(2, applied.size(), "reset, then the one record, once");
  }

  @Test
  void shouldStartANewEpochWithAFullCopyWhenTheBackupMissedABatch() {
    stream.target(BACKUP, List::of);
    stream.ship(box(1, 0));
    deliver();
    stream.ship(box(2, 0));
    sent.clear(); // lost
    CompletableFuture<Void> later = stream.ship(box(3, 0));
    // a forged batch that skips ahead is refused as lost
    assertInstanceOf(ReplicaInbox.Lost.class, inbox.receive(PRIMARY, 1, 5, List.of(new Gone(9))));
    catalogOfPrimary.addAll(List.of(box(1, 0), box(2, 0), box(3, 0)));
    stream.lost(BACKUP, 1, () -> List.copyOf(catalogOfPrimary));
    assertEquals(2, stream.epoch());
    while (!sent.isEmpty()) {
      deliver();
    }
    assertTrue(later.isDone(), "the copy holds the change");
    assertEquals(3, catalog.size());
  }

  @Test
  void shouldIgnoreAcksFromAnotherNodeOrEpoch() {
    stream.target(BACKUP, List::of);
    CompletableFuture<Void> w = stream.ship(box(1, 0));
    stream.acked(OTHER, 1, 1);
    stream.acked(BACKUP, 7, 1);
    assertFalse(w.isDone());
    stream.acked(BACKUP, 1, 99); // more than was ever shipped: capped
    assertTrue(w.isDone());
    assertEquals(0, stream.unacknowledged());
  }

  @Test
  void shouldAnswerWritersWaitingForAnOldBackupWhenTheNewOneHoldsTheirChanges() {
    stream.target(BACKUP, List::of);
    CompletableFuture<Void> w = stream.ship(box(1, 0));
    sent.clear(); // the old backup died with it
    stream.target(OTHER, () -> List.of(box(1, 0)));
    assertFalse(w.isDone());
    assertEquals(OTHER, sent.get(0).to());
    Batch copy = sent.remove(0);
    assertEquals(1, copy.firstSeq());
    assertEquals(2, copy.records().size(), "the copy, then the record not acknowledged");
    stream.acked(OTHER, copy.epoch(), 1);
    assertFalse(w.isDone(), "the copy alone is not the write");
    stream.acked(OTHER, copy.epoch(), 2);
    assertTrue(w.isDone());
  }

  @Test
  void shouldFollowTheCopyWithWhatTheOldBackupHadNotAcknowledged() {
    stream.target(BACKUP, List::of);
    stream.ship(box(1, 0));
    deliver();
    // a write ships color 1 of box 1; the primary's tables still say color 0 until it is safe
    CompletableFuture<Void> w = stream.ship(box(1, 1));
    stream.post(new Gone(2));
    sent.clear(); // the old backup died with them
    stream.target(OTHER, () -> List.of(box(1, 0)));
    List<ReplicaRecord> toNew = new ArrayList<>();
    while (!sent.isEmpty()) {
      Batch b = sent.remove(0);
      assertEquals(OTHER, b.to());
      toNew.addAll(b.records());
      stream.acked(OTHER, b.epoch(), b.firstSeq() + b.records().size() - 1);
    }
    assertEquals(List.of(box(1, 0), box(1, 1), new Gone(2)), toNew);
    assertTrue(w.isDone(), "answered once the new backup holds its write");
  }

  @Test
  void shouldNotRepeatAnUnacknowledgedCopyAfterTheNextOne() {
    stream.target(BACKUP, () -> List.of(box(1, 0)), List.of(new ReplicaRecord.CopyDone()));
    stream.ship(box(1, 1)); // a change after the copy, not acknowledged either
    sent.clear(); // the backup answers none of it
    stream.target(OTHER, () -> List.of(box(1, 1)), List.of(new ReplicaRecord.CopyDone()));
    List<ReplicaRecord> toNew = new ArrayList<>();
    while (!sent.isEmpty()) {
      Batch b = sent.remove(0);
      toNew.addAll(b.records());
      stream.acked(OTHER, b.epoch(), b.firstSeq() + b.records().size() - 1);
    }
    // The new copy, then what followed the old one, then the new copy's end.
    assertEquals(List.of(box(1, 1), box(1, 1), new ReplicaRecord.CopyDone()), toNew);
  }

  @Test
  void shouldReleaseWritersWhenNoBackupIsLeft() {
    stream.target(BACKUP, List::of);
    CompletableFuture<Void> w = stream.ship(box(1, 0));
    stream.target(null, List::of);
    assertTrue(w.isDone());
  }

  @Test
  void shouldBoundABatchByBytesAndSendALargeRecordAlone() {
    stream.target(BACKUP, List::of);
    stream.ship(box(1, 0));
    List<ReplicaRecord> pieces =
        ReplicaRecord.SlotWritten.pieces(0x40, 4096, new byte[2500], 2500, 600);
    assertEquals(5, pieces.size());
    stream.ship(pieces);
    deliver(); // box 1
    int batches = 0;
    int bytes = 0;
    while (!sent.isEmpty()) {
      Batch b = sent.get(0);
      int size = b.records().stream().mapToInt(ReplicaRecord::wireBytes).sum();
      assertTrue(size <= 1000 || b.records().size() == 1, "batch of " + size + " bytes");
      bytes +=
          b.records().stream().mapToInt(r -> ((ReplicaRecord.SlotWritten) r).bytes().length).sum();
      deliver();
      batches++;
    }
    assertEquals(4, batches); // 632-byte pieces one by one, the 132-byte last one joins the fourth
    assertEquals(2500, bytes);
    assertTrue(((ReplicaRecord.SlotWritten) pieces.get(4)).last());
  }

  @Test
  void shouldLetRecordsNobodyWaitsForJoinTheNextWritersBatch() {
    stream.target(BACKUP, List::of);
    stream.post(new Gone(7));
    assertTrue(sent.isEmpty(), "a posted record lingers");
    CompletableFuture<Void> w = stream.ship(box(1, 0));
    assertEquals(1, sent.size());
    assertEquals(2, sent.get(0).records().size(), "it leaves with the writer's record");
    deliver();
    assertTrue(w.isDone());
    stream.post(new Gone(8));
    timing.advance(RESEND / 100);
    assertEquals(1, sent.size(), "alone, it leaves after the linger");
    deliver();
    assertEquals(0, stream.unacknowledged());
  }

  @Test
  void shouldIgnoreABatchOfAnOlderEpoch() {
    stream.target(BACKUP, List::of);
    stream.ship(box(1, 0));
    Batch old = sent.remove(0);
    stream.target(BACKUP, () -> List.of(box(1, 0)));
    deliver();
    assertInstanceOf(
        ReplicaInbox.Stale.class,
        inbox.receive(PRIMARY, old.epoch(), old.firstSeq(), old.records()));
  }
}
