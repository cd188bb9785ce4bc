package dev.pekkodsm.coherence.mutex;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pekkodsm.coherence.MutexCell;
import dev.pekkodsm.coherence.NodeId;
import dev.pekkodsm.coherence.SystemTiming;
import dev.pekkodsm.memory.ReadBuffer;
import dev.pekkodsm.memory.ReadStatus;
import dev.pekkodsm.memory.SyncAccess;
import dev.pekkodsm.serialization.internal.SnapshotCodec;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The lock protocol under real concurrency: threads standing for lockers on several nodes take the
 * lock one-sided when they can, queue at the home when they cannot, sometimes give up waiting, and
 * commit a counter. Mutual exclusion, no lost commit and no stuck lock are checked throughout.
 */
@Timeout(120)
class MutexStressTest {

  static final NodeId HOME = NodeId.of(0x10);
  static final long OBJECT = 77;

  TestStore store;
  SystemTiming timing;
  MutexHome home;
  MutexCell mutex;

  @BeforeEach
  void create(@TempDir Path dir) {
    store = new TestStore(dir, HOME.value());
    timing = new SystemTiming("stress-timer");
    home = new MutexHome(HOME, store, timing, TimeUnit.SECONDS.toNanos(10));
    mutex = home.create(OBJECT, 0L);
  }

  @AfterEach
  void close() {
    timing.close();
    store.close();
  }

  /** Takes the lock as node {@code me}: one-sided, or queued at the home with a deadline. */
  long lock(NodeId me, long lockId, long waitMs) throws Exception {
    SyncAccess region = store.region();
    long word =
        MutexSteps.tryLock(
            region, mutex.cell(), OBJECT, LockWord.token(me, (int) lockId), Long.MAX_VALUE);
    if (word != MutexSteps.NOT_FREE) {
      return word;
    }
    CompletableFuture<Long> granted = new CompletableFuture<>();
    home.lock(
        mutex,
        me,
        lockId,
        new MutexQueue.Listener() {
          @Override
          public void granted(long w) {
            granted.complete(w);
          }

          @Override
          public void timedOut(long w, long waitedNs) {
            granted.completeExceptionally(new TimeoutException("timed out"));
          }
        });
    try {
      return granted.get(waitMs, TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      home.cancel(mutex, me, lockId); // give up: leave the queue, or release a grant
      if (granted.isDone() && !granted.isCompletedExceptionally()) {
        return -2; // granted and released for us by the cancel, or granted just now
      }
      return -1;
    }
  }

  @Test
  void shouldExcludeEveryOtherHolderAndLoseNoCommit() throws Exception {
    int lockers = 6;
    int perLocker = 400;
    AtomicInteger inside = new AtomicInteger();
    AtomicInteger committed = new AtomicInteger();
    AtomicInteger gaveUp = new AtomicInteger();
    List<Thread> threads = new ArrayList<>();
    List<Throwable> failures = java.util.Collections.synchronizedList(new ArrayList<>());
    for (int t = 0; t < lockers; t++) {
      NodeId me = NodeId.of(0x100 + t);
      boolean readsWithLock = t % 2 == 1; // half lock from their last word, reading the value
      threads.add(
          new Thread(
              () -> {
                try {
                  ReadBuffer buffer = new ReadBuffer(64);
                  ReadBuffer withLock = new ReadBuffer(64);
                  long guess = MutexSteps.NOT_FREE;
                  for (int i = 0; i < perLocker; i++) {
                    long lockId = (long) i;
                    long waitMs = ThreadLocalRandom.current().nextInt(10) == 0 ? 1 : 5_000;
                    MutexSteps.Locked locked =
                        readsWithLock
                            ? MutexSteps.tryLockAndRead(
                                store.region(),
                                mutex.cell(),
                                OBJECT,
                                LockWord.token(me, (int) lockId),
                                guess,
                                Long.MIN_VALUE,
                                withLock,
                                Long.MAX_VALUE)
                            : new MutexSteps.Locked(MutexSteps.NOT_FREE, null);
                    long word =
                        locked.word() != MutexSteps.NOT_FREE
                            ? locked.word()
                            : lock(me, lockId, waitMs);
                    if (word == -1 || word == -2) {
                      if (word == -2) {
                        // the grant came as we gave up: the cancel released it, or we hold it
                        long now =
                            store
                                .region()
                                .load(mutex.cell(), OBJECT, dev.pekkodsm.memory.SyncLayout.WORD, 0);
                        if (LockWord.heldByNode(now, me)) {
                          MutexSteps.Outcome o =
                              MutexSteps.release(store.region(), mutex.cell(), OBJECT, now, 0);
                          if (o == MutexSteps.Outcome.HANDED_OFF) {
                            home.handedOff(mutex);
                          }
                        }
                      }
                      gaveUp.incrementAndGet();
                      continue;
                    }
                    assertEquals(1, inside.incrementAndGet(), "two holders at once");
                    long held =
                        MutexSteps.readCommitted(
                            store.region(),
                            mutex.cell(),
                            OBJECT,
                            buffer,
                            new dev.pekkodsm.memory.ReadStatus[1],
                            System.nanoTime() + TimeUnit.SECONDS.toNanos(5));
                    long value = (Long) store.decode(buffer);
                    int color = SnapshotCodec.color(buffer.bytes(), 0);
                    if (locked.value() != null) {
                      assertEquals(ReadStatus.OK, locked.value().status());
                      assertEquals(color, (int) locked.value().color(), "read with the lock");
                      assertEquals(value, store.decode(withLock), "the committed value");
                    }
                    assertEquals(
                        LockWord.withWaiters(LockWord.heldBy(held, 0), false),
                        LockWord.withWaiters(LockWord.heldBy(word, 0), false),
                        "the committed value is the one the lock named");
                    byte[] frame = store.frame(value + 1, OBJECT, color + 1);
                    inside.decrementAndGet();
                    MutexSteps.Outcome outcome =
                        MutexSteps.commit(
                            store.region(),
                            mutex.cell(),
                            OBJECT,
                            word,
                            frame,
                            frame.length,
                            color + 1,
                            Long.MAX_VALUE);
                    assertTrue(outcome != MutexSteps.Outcome.FENCED, "nobody took it back");
                    committed.incrementAndGet();
                    guess =
                        outcome == MutexSteps.Outcome.RELEASED
                            ? LockWord.committed(word, color + 1)
                            : MutexSteps.NOT_FREE;
                    if (outcome == MutexSteps.Outcome.HANDED_OFF) {
                      home.handedOff(mutex);
                    }
                  }
                } catch (Throwable e) {
                  failures.add(e);
                }
              }));
    }
    threads.forEach(Thread::start);
    for (Thread t : threads) {
      t.join();
    }
    if (!failures.isEmpty()) {
      throw new AssertionError("a locker failed: " + failures.get(0), failures.get(0));
    }
    ReadBuffer out = new ReadBuffer(64);
    home.readCommitted(mutex, OBJECT, out);
    assertEquals((long) committed.get(), store.decode(out), "every commit counted once");
    assertEquals(lockers * perLocker, committed.get() + gaveUp.get());
    long word = store.region().load(mutex.cell(), OBJECT, dev.pekkodsm.memory.SyncLayout.WORD, 0);
    assertTrue(LockWord.isFree(word), "the lock ends free: " + LockWord.describe(word));
    assertEquals(0, mutex.queue().waiting());
  }
}
