package dev.pekkodsm.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pekkodsm.BorrowConflictException;
import dev.pekkodsm.DArc;
import dev.pekkodsm.DAtomicLong;
import dev.pekkodsm.DBox;
import dev.pekkodsm.DMut;
import dev.pekkodsm.DMutex;
import dev.pekkodsm.Dsm;
import dev.pekkodsm.DsmTimeoutException;
import dev.pekkodsm.coherence.AtomicCell;
import dev.pekkodsm.coherence.GlobalAddress;
import dev.pekkodsm.coherence.NodeId;
import dev.pekkodsm.coherence.mutex.LockWord;
import dev.pekkodsm.coherence.replication.BackupRing;
import dev.pekkodsm.coherence.replication.ReplicaRecord;
import dev.pekkodsm.memory.ReadBuffer;
import dev.pekkodsm.memory.ReadStatus;
import dev.pekkodsm.memory.SyncFailedException;
import dev.pekkodsm.memory.SyncLayout;
import dev.pekkodsm.memory.SyncRegion;
import dev.pekkodsm.memory.SyncStatus;
import dev.pekkodsm.memory.TcpTransport;
import dev.pekkodsm.serialization.internal.SnapshotCodec;
import dev.pekkodsm.testkit.LocalCluster;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.cluster.typed.Cluster;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A primary's changes reach its backup's mirror before the writer is answered, on a real three-node
 * cluster with replication factor 1: what the backup holds is checked right after each call
 * returns, without waiting.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class ReplicationStreamingTest {

  static final String FACTOR_ONE = "pekko.dsm.replication.factor = 1";

  static DsmNode node(LocalCluster cluster, int i) {
    return NodeRuntime.get(cluster.system(i)).node();
  }

  /** The node that backs up node {@code i}: its successor among the members. */
  static DsmNode backupOf(LocalCluster cluster, int i) {
    List<NodeId> members = new ArrayList<>();
    for (int k = 0; k < cluster.size(); k++) {
      members.add(cluster.nodeId(k));
    }
    NodeId backup = BackupRing.of(members).backupOf(cluster.nodeId(i)).orElseThrow();
    return node(cluster, cluster.indexOf(backup));
  }

  /** The frame the mirror holds for {@code address}, or fails. */
  static byte[] mirrored(DsmNode backup, GlobalAddress address) {
    ReplicaHost.Mirror mirror = backup.replicas().mirror(address.node());
    assertNotNull(mirror, "no mirror of " + address.node() + " on " + backup.self());
    ReplicaRecord.Filed filed = mirror.catalog.get(address.object());
    assertNotNull(filed, address + " is not in the backup's catalog");
    assertEquals(address.color(), filed.color(), "the backup's color of " + address);
    ReadBuffer buffer = new ReadBuffer(256);
    ReadStatus status =
        mirror.arena.read(filed.locator(), address.object(), address.color(), buffer);
    assertEquals(ReadStatus.OK, status, "the mirror's slot of " + address);
    return Arrays.copyOf(buffer.bytes(), buffer.length());
  }

  static byte[] published(DsmNode primary, GlobalAddress address) {
    long locator = primary.object(address.object()).locator();
    ReadBuffer buffer = new ReadBuffer(256);
    assertEquals(
        ReadStatus.OK, primary.arena().read(locator, address.object(), address.color(), buffer));
    return Arrays.copyOf(buffer.bytes(), buffer.length());
  }

  static void awaitBackups(LocalCluster cluster) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    for (int i = 0; i < cluster.size(); i++) {
      NodeId wanted = backupOf(cluster, i).self();
      while (!wanted.equals(node(cluster, i).replication().backup())) {
        assertTrue(System.nanoTime() < deadline, "node " + i + " never backed up on " + wanted);
        Thread.sleep(20);
      }
    }
  }

  /**
   * Node 0's mutex, committed once (version 1) by the member that is neither node 0 nor its backup,
   * so its commits go to the backup over tcp.
   */
  record ThirdWriter(
      DsmNode home, DsmNode backup, long mutexId, long mutexCell, DMutex<long[]> writer) {
    static ThirdWriter of(LocalCluster cluster) throws InterruptedException {
      awaitBackups(cluster);
      DsmNode home = node(cluster, 0);
      DsmNode backup = backupOf(cluster, 0);
      DMutex<long[]> mutex = cluster.dsm(0).mutex(new long[] {0});
      long mutexId = mutex.address().object();
      DMutex<long[]> writer = cluster.send(0, 3 - cluster.indexOf(backup.self()), mutex.clone());
      try (DMut<long[]> held = writer.lock()) {
        held.get()[0] = 1;
      }
      return new ThirdWriter(
          home, backup, mutexId, home.object(mutexId).mutexCell().cell(), writer);
    }
  }

  /** A started thread that commits {@code value} with {@code writer}, keeping its failure. */
  static Thread committing(DMutex<long[]> writer, long value, AtomicReference<Throwable> failed) {
    Thread t =
        new Thread(
            () -> {
              try (DMut<long[]> held = writer.lock()) {
                held.get()[0] = value;
              } catch (Throwable e) {
                failed.set(e);
              }
            });
    t.start();
    return t;
  }

  @Test
  void shouldHoldEveryAcknowledgedWriteOfABoxAndAnArcOnTheBackup() throws Exception {
    try (LocalCluster cluster = LocalCluster.withNodes(3).config(FACTOR_ONE).start()) {
      awaitBackups(cluster);
      Dsm dsm = cluster.dsm(0);
      DsmNode primary = node(cluster, 0);
      DsmNode backup = backupOf(cluster, 0);

      DBox<String> box = dsm.alloc("v0");
      assertTrue(Arrays.equals(published(primary, box.address()), mirrored(backup, box.address())));
      for (int i = 1; i <= 20; i++) {
        int n = i;
        box.replace(v -> "v" + n);
        // answered only once the backup holds it: no wait here
        assertTrue(
            Arrays.equals(published(primary, box.address()), mirrored(backup, box.address())),
            "write " + i);
      }
      assertEquals(20, box.address().color());

      DArc<String> arc = dsm.arc("frozen");
      assertTrue(Arrays.equals(published(primary, arc.address()), mirrored(backup, arc.address())));

      GlobalAddress last = box.address();
      box.drop();
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
      while (backup.replicas().mirror(last.node()).catalog.get(last.object()) != null) {
        assertTrue(System.nanoTime() < deadline, "the drop never reached the backup");
        Thread.sleep(10);
      }
    }
  }

  @Test
  void shouldCopyEverythingToANewBackupWhenTheOldOneLeaves() throws Exception {
    try (LocalCluster cluster = LocalCluster.withNodes(3).config(FACTOR_ONE).start()) {
      awaitBackups(cluster);
      int backupIndex = cluster.indexOf(backupOf(cluster, 0).self());
      DBox<String> box = cluster.dsm(0).alloc("before");
      box.replace(v -> "written");
      GlobalAddress address = box.address();

      cluster.crash(backupIndex);
      cluster.awaitRemoved(backupIndex);
      int left = 3 - 0 - backupIndex; // the third node
      DsmNode newBackup = node(cluster, left);
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      while (newBackup.replicas().mirror(address.node()) == null
          || newBackup.replicas().mirror(address.node()).catalog.get(address.object()) == null) {
        assertTrue(System.nanoTime() < deadline, "the copy never reached the new backup");
        Thread.sleep(20);
      }
      assertTrue(Arrays.equals(published(node(cluster, 0), address), mirrored(newBackup, address)));
      box.replace(v -> "after");
      assertTrue(
          Arrays.equals(
              published(node(cluster, 0), box.address()), mirrored(newBackup, box.address())));
    }
  }

  @Test
  void shouldHoldEachCommitAndAtomicChangeOnTheBackupTheMomentItReturns() throws Exception {
    try (LocalCluster cluster = LocalCluster.withNodes(3).config(FACTOR_ONE).start()) {
      awaitBackups(cluster);
      DsmNode backup = backupOf(cluster, 0);
      DMutex<long[]> mutex = cluster.dsm(0).mutex(new long[] {0});
      DAtomicLong atomic = cluster.dsm(0).atomicLong(0);
      long mutexId = mutex.address().object();
      long atomicId = atomic.address().object();
      long mutexCell = node(cluster, 0).object(mutexId).mutexCell().cell();
      long atomicCell = node(cluster, 0).object(atomicId).atomicCell().cell();
      DMutex<long[]> mutexOnOther = cluster.send(0, 1, mutex.clone());
      DAtomicLong atomicOnOther = cluster.send(0, 2, atomic.clone());
      SyncRegion mirror = backup.replicas().mirror(cluster.nodeId(0)).region;
      for (int i = 1; i <= 10; i++) {
        DMutex<long[]> writer = i % 2 == 0 ? mutex : mutexOnOther;
        try (DMut<long[]> held = writer.lock()) {
          held.get()[0] = i;
        }
        long word = mirror.load(mutexCell, mutexId, SyncLayout.WORD, 0);
        assertTrue(LockWord.isFree(word), "the backup holds no lock");
        assertTrue(LockWord.names(word, i), "commit " + i + " is on the backup: " + word);
        ReadBuffer frame = new ReadBuffer(64);
        long slot =
            mirror.load(
                mutexCell,
                mutexId,
                LockWord.activeSlot(word) == 0 ? SyncLayout.LOCATOR_A : SyncLayout.LOCATOR_B,
                0);
        assertEquals(
            ReadStatus.OK, mirror.readValue(slot, mutexId, SnapshotCodec.ANY_COLOR, frame, 0));
        assertEquals(i, SnapshotCodec.color(frame.bytes(), 0), "the committed frame");

        DAtomicLong adder = i % 2 == 0 ? atomic : atomicOnOther;
        long now = adder.addAndGet(i);
        assertEquals(now, mirror.load(atomicCell, atomicId, SyncLayout.WORD, 0), "add " + i);
      }
    }
  }

  /**
   * Another node's commit over shm is written to the home's backup by the writer itself and then
   * one-sided into the home: the backup takes each (whether it is the writer or a third node), the
   * home makes none, and each is on the backup the moment the lock is let go.
   */
  @Test
  void shouldHaveEachPeersCommitWrittenToTheBackupByTheWriter() throws Exception {
    try (LocalCluster cluster = LocalCluster.withNodes(3).config(FACTOR_ONE).start()) {
      awaitBackups(cluster);
      DsmNode backup = backupOf(cluster, 0);
      DMutex<long[]> mutex = cluster.dsm(0).mutex(new long[] {0});
      long mutexId = mutex.address().object();
      long mutexCell = node(cluster, 0).object(mutexId).mutexCell().cell();
      List<DMutex<long[]>> writers =
          List.of(mutex, cluster.send(0, 1, mutex.clone()), cluster.send(0, 2, mutex.clone()));
      SyncRegion mirror = backup.replicas().mirror(cluster.nodeId(0)).region;
      long before = backup.replicas().directCommits.sum();
      for (int i = 1; i <= 12; i++) {
        try (DMut<long[]> held = writers.get(i % 3).lock()) {
          held.get()[0] = i;
        }
        long word = mirror.load(mutexCell, mutexId, SyncLayout.WORD, 0);
        assertTrue(LockWord.names(word, i), "commit " + i + " is on the backup: " + word);
      }
      assertEquals(
          12, backup.replicas().directCommits.sum() - before, "every commit by its writer");
      try (DMut<long[]> held = mutex.lock()) {
        assertEquals(12, held.get()[0], "the home sees the last commit");
      }
    }
  }

  @Test
  void shouldHaveTheHomeMakeEveryCommitWithDirectCommitsOff() throws Exception {
    try (LocalCluster cluster =
        LocalCluster.withNodes(3)
            .config(FACTOR_ONE + "\npekko.dsm.replication.direct-commits = off")
            .start()) {
      awaitBackups(cluster);
      DsmNode backup = backupOf(cluster, 0);
      DMutex<long[]> mutex = cluster.dsm(0).mutex(new long[] {0});
      long mutexId = mutex.address().object();
      long mutexCell = node(cluster, 0).object(mutexId).mutexCell().cell();
      List<DMutex<long[]>> writers =
          List.of(mutex, cluster.send(0, 1, mutex.clone()), cluster.send(0, 2, mutex.clone()));
      SyncRegion mirror = backup.replicas().mirror(cluster.nodeId(0)).region;
      for (int i = 1; i <= 6; i++) {
        try (DMut<long[]> held = writers.get(i % 3).lock()) {
          held.get()[0] = i;
        }
        long word = mirror.load(mutexCell, mutexId, SyncLayout.WORD, 0);
        assertTrue(LockWord.names(word, i), "commit " + i + " is on the backup: " + word);
      }
      assertEquals(0, backup.replicas().directCommits.sum());
    }
  }

  /**
   * Writers keep committing while the home's backup dies and a new one gets its copy: once they
   * stop, the new backup holds the last commit (a commit written to the old backup after the new
   * one's copy read the home is shipped again by the home, at the writer's asking).
   */
  @Test
  void shouldHoldTheLastCommitOnANewBackupThatCameWhileWritersCommitted() throws Exception {
    try (LocalCluster cluster = LocalCluster.withNodes(4).config(FACTOR_ONE).start()) {
      awaitBackups(cluster);
      int backupIndex = cluster.indexOf(backupOf(cluster, 0).self());
      DMutex<long[]> mutex = cluster.dsm(0).mutex(new long[] {0});
      long mutexId = mutex.address().object();
      long mutexCell = node(cluster, 0).object(mutexId).mutexCell().cell();
      List<DMutex<long[]>> writers = new ArrayList<>();
      for (int i = 1; i < 4; i++) {
        if (i != backupIndex) {
          writers.add(cluster.send(0, i, mutex.clone()));
        }
      }
      AtomicBoolean stop = new AtomicBoolean();
      AtomicReference<Throwable> failed = new AtomicReference<>();
      List<Thread> threads = new ArrayList<>();
      for (DMutex<long[]> writer : writers) {
        Thread t =
            new Thread(
                () -> {
                  while (!stop.get()) {
                    try (DMut<long[]> held = writer.lock()) {
                      held.get()[0]++;
                    } catch (DsmTimeoutException | BorrowConflictException waited) {
                      // Until the dead backup is removed, a commit the home makes waits for it
                      // and may outlast its deadline (README, Limits): in doubt, not failed; and
                      // a writer behind it may give up waiting for the lock (nothing changed).
                    } catch (RuntimeException e) {
                      failed.compareAndSet(null, e);
                      return;
                    }
                  }
                });
        t.start();
        threads.add(t);
      }
      Thread.sleep(300);
      cluster.crash(backupIndex);
      cluster.awaitRemoved(backupIndex);
      List<NodeId> left = new ArrayList<>();
      for (int k = 0; k < cluster.size(); k++) {
        if (k != backupIndex) {
          left.add(cluster.nodeId(k));
        }
      }
      NodeId next = BackupRing.of(left).backupOf(cluster.nodeId(0)).orElseThrow();
      DsmNode newBackup = node(cluster, cluster.indexOf(next));
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      while (newBackup.replicas().mirror(cluster.nodeId(0)) == null
          || !newBackup.replicas().mirror(cluster.nodeId(0)).copied) {
        assertTrue(System.nanoTime() < deadline, "the copy never reached the new backup");
        Thread.sleep(20);
      }
      Thread.sleep(300);
      stop.set(true);
      for (Thread t : threads) {
        t.join(30_000);
      }
      assertNull(failed.get(), () -> "a writer failed: " + failed.get());
      long homeWord = node(cluster, 0).region().load(mutexCell, mutexId, SyncLayout.WORD, 0);
      long mirrored =
          newBackup
              .replicas()
              .mirror(cluster.nodeId(0))
              .region
              .load(mutexCell, mutexId, SyncLayout.WORD, 0);
      assertTrue(LockWord.version(homeWord) > 10, "the writers committed: " + homeWord);
      assertEquals(
          LockWord.version(homeWord),
          LockWord.version(mirrored),
          "the new backup holds the last commit");
    }
  }

  /**
   * A writer's commit taken by the backup in an epoch that ends before the commit reaches the home
   * is copied again by the home at the writer's asking: the backup's new copy, read from the home
   * before the commit, would lack it. The backup is held (its mirrors' lock) while the writer waits
   * for it and the home starts a new epoch.
   */
  @Test
  void shouldHaveTheHomeCopyItselfAgainWhenTheEpochMovedUnderACommit() throws Exception {
    try (LocalCluster cluster =
        LocalCluster.withNodes(3)
            // No batch is resent (nor sent by Artery) while the test holds the backup.
            .config(FACTOR_ONE + "\npekko.dsm.replication.resend-after = 5s")
            .start()) {
      ThirdWriter w = ThirdWriter.of(cluster);
      DsmNode home = w.home();
      DsmNode backup = w.backup();
      long mutexId = w.mutexId();
      long mutexCell = w.mutexCell();
      DMutex<long[]> writer = w.writer();
      long directBefore = backup.replicas().directCommits.sum();
      AtomicReference<Throwable> failed = new AtomicReference<>();
      Thread commit;
      Thread alloc;
      // The backup is held (its mirrors' lock) while the writer waits for it and then a batch of
      // the home's is in flight. Then the home starts a new epoch and holds its stream's lock, so
      // its link, which sends one batch at a time, takes the answer to the first (and sends the
      // new epoch's copy) only after the backup has taken the writer's commit in the old epoch.
      CountDownLatch epochMoved = new CountDownLatch(1);
      AtomicLong moved = new AtomicLong();
      Thread mover =
          new Thread(
              () -> {
                synchronized (home.replication().stream()) {
                  long epoch = home.replication().stream().epoch();
                  home.replication()
                      .answered(
                          new Protocol.ReplicaAnswer(
                              home.self().value(), backup.self().value(), epoch, 0, true));
                  moved.set(home.replication().stream().epoch() - epoch);
                  epochMoved.countDown();
                  try {
                    Thread.sleep(800);
                  } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                  }
                }
              });
      synchronized (backup.replicas()) {
        commit = committing(writer, 2, failed);
        Thread.sleep(500); // the home's stream had nothing pending: the writer writes the backup
        alloc = new Thread(() -> cluster.dsm(0).alloc("in flight").drop());
        alloc.start();
        Thread.sleep(300);
        mover.start();
        assertTrue(epochMoved.await(10, TimeUnit.SECONDS));
      }
      assertEquals(1, moved.get(), "a new epoch began");
      mover.join(30_000);
      commit.join(30_000);
      alloc.join(30_000);
      assertNull(failed.get(), () -> "the commit failed: " + failed.get());
      assertEquals(1, backup.replicas().directCommits.sum() - directBefore, "taken by the backup");
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      while (home.replication().stream().unacknowledged() > 0) {
        assertTrue(System.nanoTime() < deadline, "the backup never caught up");
        Thread.sleep(20);
      }
      long homeWord = home.region().load(mutexCell, mutexId, SyncLayout.WORD, 0);
      long mirrored =
          backup
              .replicas()
              .mirror(cluster.nodeId(0))
              .region
              .load(mutexCell, mutexId, SyncLayout.WORD, 0);
      assertEquals(2, LockWord.version(homeWord));
      assertEquals(2, LockWord.version(mirrored), "the backup's new copy holds the commit");
    }
  }

  /**
   * While the home's stream has a record its backup has not acknowledged, a writer does not write
   * the backup itself (its commit could overtake that record there, which would then overwrite it):
   * the home makes the commit, behind the record.
   */
  @Test
  void shouldHaveTheHomeCommitWhileItsStreamHasRecordsPending() throws Exception {
    try (LocalCluster cluster = LocalCluster.withNodes(3).config(FACTOR_ONE).start()) {
      ThirdWriter w = ThirdWriter.of(cluster);
      DsmNode home = w.home();
      DsmNode backup = w.backup();
      long mutexId = w.mutexId();
      long mutexCell = w.mutexCell();
      DMutex<long[]> writer = w.writer();
      long directBefore = backup.replicas().directCommits.sum();
      AtomicReference<Throwable> failed = new AtomicReference<>();
      Thread alloc;
      Thread commit;
      synchronized (backup.replicas()) {
        alloc = new Thread(() -> cluster.dsm(0).alloc("pending").drop());
        alloc.start();
        Thread.sleep(300); // its batch waits for the backup
        commit = committing(writer, 2, failed);
        Thread.sleep(300);
      }
      commit.join(30_000);
      alloc.join(30_000);
      assertNull(failed.get(), () -> "the commit failed: " + failed.get());
      assertEquals(0, backup.replicas().directCommits.sum() - directBefore, "made by the home");
      long mirrored =
          backup
              .replicas()
              .mirror(cluster.nodeId(0))
              .region
              .load(mutexCell, mutexId, SyncLayout.WORD, 0);
      assertEquals(2, LockWord.version(mirrored), "the backup holds the commit");
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      while (home.replication().stream().unacknowledged() > 0) {
        assertTrue(System.nanoTime() < deadline, "the backup never caught up");
        Thread.sleep(20);
      }
      try (DMut<long[]> held = writer.lock()) {
        held.get()[0] = 3;
      }
      assertEquals(
          1, backup.replicas().directCommits.sum() - directBefore, "written by the writer again");
    }
  }

  @Test
  void shouldHaveThePeersCommitsAndAtomicChangesMadeAtTheHomeOverTcpWithoutAMessage()
      throws Exception {
    try (LocalCluster cluster = LocalCluster.withNodes(3).config(FACTOR_ONE).start()) {
      awaitBackups(cluster);
      DMutex<long[]> mutex = cluster.dsm(0).mutex(new long[] {0});
      DMutex<long[]> mutexOnOther = cluster.send(0, 1, mutex.clone());
      DAtomicLong atomicOnOther = cluster.send(0, 1, cluster.dsm(0).atomicLong(0));
      try (DMut<long[]> held = mutexOnOther.lock()) {
        held.get()[0] = 1; // opens the reader of node 0, and with it the tcp link to its home
      }
      atomicOnOther.incrementAndGet();
      long before = cluster.awaitQuiet(Duration.ofMillis(300));
      for (int i = 2; i <= 11; i++) {
        try (DMut<long[]> held = mutexOnOther.lock()) {
          held.get()[0] = i;
        }
        assertEquals(i, atomicOnOther.incrementAndGet());
      }
      assertEquals(before, cluster.messagesSent(), "no commit or increment was a message");
      try (DMut<long[]> held = mutex.lock()) {
        assertEquals(11, held.get()[0], "the home sees the last commit");
      }
    }
  }

  @Test
  void shouldTakeANodeAsRemovedWhenACensusSaysSoBeforeAnswering() throws Exception {
    try (LocalCluster cluster = LocalCluster.withNodes(3).config(FACTOR_ONE).start()) {
      awaitBackups(cluster);
      NodeId gone = cluster.nodeId(0);
      DsmNode member = node(cluster, 1);
      cluster.crash(0);
      assertTrue(!member.peers().isDeparted(gone), "the cluster takes seconds to remove it");
      TestProbe<Protocol.NodeCommand> promoter = TestProbe.create(cluster.system(2));
      member
          .peers()
          .nodeActor(Cluster.get(cluster.system(1)).selfMember().address())
          .tell(new Protocol.CensusQuery(gone.value(), promoter.getRef()));
      Protocol.CensusAnswer answer =
          promoter.expectMessageClass(Protocol.CensusAnswer.class, Duration.ofSeconds(5));
      assertEquals(member.self().value(), answer.from());
      // No read of the removed node's memory starts on this member from now on.
      assertTrue(member.peers().isDeparted(gone), "taken as removed before answering");
    }
  }

  @Test
  void shouldNotReplicateWithFactorZero() throws Exception {
    try (LocalCluster cluster = LocalCluster.withNodes(2).start()) {
      DBox<String> box = cluster.dsm(0).alloc("v");
      box.replace(v -> "w");
      assertNull(node(cluster, 0).replication().backup());
      assertNull(node(cluster, 1).replicas().mirror(cluster.nodeId(0)));
    }
  }

  @Test
  void shouldStreamOverTheBackupsTcpServerWhileReadsGoOverShm() throws Exception {
    try (LocalCluster cluster =
        LocalCluster.withNodes(3).config(FACTOR_ONE + "\npekko.dsm.transport = shm").start()) {
      awaitBackups(cluster);
      DsmNode primary = node(cluster, 0);
      DsmNode backup = backupOf(cluster, 0);
      assertNotNull(backup.tcpServer(), "a backup runs its tcp server for the stream");
      long before = backup.tcpServer().messagesAnswered();
      DBox<String> box = cluster.dsm(0).alloc("v0");
      for (int i = 1; i <= 20; i++) {
        int n = i;
        box.replace(v -> "v" + n);
        assertTrue(
            Arrays.equals(published(primary, box.address()), mirrored(backup, box.address())),
            "write " + i);
      }
      long batches = backup.tcpServer().messagesAnswered() - before;
      // Each write waited for a batch of its own; the first ones may have gone by Artery while
      // the backup's endpoint was being fetched.
      assertTrue(batches >= 10, "batches answered over tcp: " + batches);
    }
  }

  @Test
  void shouldStreamOverArteryWhenAskedTo() throws Exception {
    try (LocalCluster cluster =
        LocalCluster.withNodes(2)
            .config(
                FACTOR_ONE + "\npekko.dsm.transport = shm\npekko.dsm.replication.channel = artery")
            .start()) {
      awaitBackups(cluster);
      DsmNode backup = backupOf(cluster, 0);
      assertNull(backup.tcpServer(), "no tcp server with reads over shm and the stream on Artery");
      DBox<String> box = cluster.dsm(0).alloc("v0");
      box.replace(v -> "v1");
      assertTrue(
          Arrays.equals(
              published(node(cluster, 0), box.address()), mirrored(backup, box.address())));
    }
  }

  @Test
  void shouldRefuseTheBatchesOfARemovedNodeOverTcp() throws Exception {
    try (LocalCluster cluster = LocalCluster.withNodes(3).config(FACTOR_ONE).start()) {
      awaitBackups(cluster);
      NodeId gone = cluster.nodeId(0);
      DsmNode backup = backupOf(cluster, 0);
      cluster.crash(0);
      cluster.awaitRemoved(0);
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      while (!backup.peers().isDeparted(gone)) {
        assertTrue(System.nanoTime() < deadline, "the backup never took node 0 as removed");
        Thread.sleep(20);
      }
      // What node 0 would send if it had only been paused: a new epoch for its backup.
      Protocol.Replicate zombie =
          new Protocol.Replicate(
              gone.value(),
              gone.value(),
              1_000,
              1,
              List.of(new ReplicaRecord.Begin(1, 2, 1 << 20, 4, 16)),
              null);
      try (TcpTransport tcp =
              new TcpTransport(new SnapshotCodec(backup.kryo()), 1 << 20, backup.settings().tcp);
          TcpTransport.Messenger link = tcp.messenger(backup.endpoint())) {
        byte[] answer =
            link.send(
                ReplicaLink.CHANNEL,
                WireFormats.batchBytes(zombie),
                System.nanoTime() + TimeUnit.SECONDS.toNanos(5));
        assertEquals(0, answer.length, "no acknowledgement for a node that left");
        // Nor a change of another node's atomic asked by it over tcp: refused, not made.
        int survivor = cluster.indexOf(backup.self());
        DAtomicLong counter = cluster.dsm(survivor).atomicLong(5);
        long cell = backup.object(counter.address().object()).atomicCell().cell();
        HomeSync zombieAsks = new HomeSync(link, gone.value(), "the backup");
        SyncFailedException refused =
            assertThrows(
                SyncFailedException.class,
                () ->
                    zombieAsks.atomic(
                        cell,
                        counter.address().object(),
                        AtomicCell.Op.ADD_AND_GET,
                        1,
                        0,
                        System.nanoTime() + TimeUnit.SECONDS.toNanos(5)));
        assertEquals(SyncStatus.UNAVAILABLE, refused.status(), refused.getMessage());
        assertEquals(5, counter.get(), "not made");
      }
      assertEquals(1, backup.replicas().refusedBatches.sum());
      assertNull(backup.replicas().mirror(gone), "and no mirror of it made again");
    }
  }
}
