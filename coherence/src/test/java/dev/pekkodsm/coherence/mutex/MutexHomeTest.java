package dev.pekkodsm.coherence.mutex;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pekkodsm.coherence.ManualTiming;
import dev.pekkodsm.coherence.MutexCell;
import dev.pekkodsm.coherence.NodeId;
import dev.pekkodsm.memory.ReadBuffer;
import dev.pekkodsm.memory.SyncAccess;
import dev.pekkodsm.memory.SyncLayout;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The home's side of a mutex, step by step on a real sync region. */
class MutexHomeTest {

  static final NodeId HOME = NodeId.of(0x10);
  static final NodeId A = NodeId.of(0xA1);
  static final NodeId B = NodeId.of(0xB2);
  static final long OBJECT = 77;

  TestStore store;
  MutexHome home;

  @BeforeEach
  void create(@TempDir Path dir) {
    store = new TestStore(dir, HOME.value());
    home = new MutexHome(HOME, store, new ManualTiming(), TimeUnit.SECONDS.toNanos(10));
  }

  @AfterEach
  void close() {
    store.close();
  }

  @Test
  void shouldCommitAndHandTheLockOverWhenLockersBeganToWaitWhileItWasHeld() {
    MutexCell mutex = home.create(OBJECT, "first");
    SyncAccess sync = store.region();
    long cell = mutex.cell();
    long heldByA = MutexSteps.tryLock(sync, cell, OBJECT, LockWord.token(A, 1), Long.MAX_VALUE);
    Told grantedToB = new Told();
    home.lock(mutex, B, 1, grantedToB);
    assertTrue(
        LockWord.hasWaiters(sync.load(cell, OBJECT, SyncLayout.WORD, 0)), "B waits at the home");

    byte[] fromA = store.frame("A's", OBJECT, 1);
    assertEquals(
        MutexSteps.Outcome.HANDED_OFF,
        MutexSteps.commit(sync, cell, OBJECT, heldByA, fromA, fromA.length, 1, Long.MAX_VALUE),
        "A took the lock before B waited, and commits from that word");
    home.handedOff(mutex);
    assertTrue(LockWord.heldByNode(grantedToB.word, B), "the lock went to B");
    ReadBuffer out = new ReadBuffer(64);
    home.readCommitted(mutex, OBJECT, out);
    assertEquals("A's", store.decode(out), "A's commit stands");
  }

  @Test
  void shouldRefuseTheCommitOfAnAcquisitionWhoseLockAnotherThreadOfItsNodeHoldsNow() {
    MutexCell mutex = home.create(OBJECT, "first");
    SyncAccess sync = store.region();
    long cell = mutex.cell();
    long first = MutexSteps.tryLock(sync, cell, OBJECT, LockWord.token(A, 1), Long.MAX_VALUE);
    home.releaseFor(mutex, OBJECT, A, first); // the first acquisition lets go (or loses it)
    long second = MutexSteps.tryLock(sync, cell, OBJECT, LockWord.token(A, 2), Long.MAX_VALUE);
    assertEquals(
        MutexHome.Commit.NOT_HELD,
        home.commitFor(mutex, OBJECT, A, first, "late"),
        "the first acquisition's late commit is refused although its node holds the lock");
    home.releaseFor(mutex, OBJECT, A, first);
    assertTrue(
        LockWord.heldByNode(sync.load(cell, OBJECT, SyncLayout.WORD, 0), A),
        "and its release leaves the second acquisition's lock alone");
    assertEquals(MutexHome.Commit.COMMITTED, home.commitFor(mutex, OBJECT, A, second, "second"));
    ReadBuffer out = new ReadBuffer(64);
    home.readCommitted(mutex, OBJECT, out);
    assertEquals("second", store.decode(out));
  }

  /**
   * A holder whose node was thought gone commits after the lock was taken back from it and the next
   * holder committed: it loads the slot locator only now, the home's new one, which the next
   * holder's commit made the active slot. Its commit must be refused without writing that slot.
   */
  @Test
  void shouldKeepTheNextHoldersCommitWhenAHolderWhoseLockWasTakenBackCommitsLate() {
    MutexCell mutex = home.create(OBJECT, "first");
    SyncAccess sync = store.region();
    long cell = mutex.cell();
    long heldByA = MutexSteps.tryLock(sync, cell, OBJECT, LockWord.token(A, 1), Long.MAX_VALUE);
    assertNotEquals(MutexSteps.NOT_FREE, heldByA);

    assertTrue(home.departed(mutex, OBJECT, A), "A's node left while A held the lock");
    long heldByB = MutexSteps.tryLock(sync, cell, OBJECT, LockWord.token(B, 1), Long.MAX_VALUE);
    assertNotEquals(MutexSteps.NOT_FREE, heldByB);
    byte[] fromB = store.frame("B's", OBJECT, 1);
    assertEquals(
        MutexSteps.Outcome.RELEASED,
        MutexSteps.commit(sync, cell, OBJECT, heldByB, fromB, fromB.length, 1, Long.MAX_VALUE));

    byte[] fromA = store.frame("A's, too late", OBJECT, 1);
    assertEquals(
        MutexSteps.Outcome.FENCED,
        MutexSteps.commit(sync, cell, OBJECT, heldByA, fromA, fromA.length, 1, Long.MAX_VALUE));
    ReadBuffer out = new ReadBuffer(64);
    home.readCommitted(mutex, OBJECT, out);
    assertEquals("B's", store.decode(out), "B's commit stands");
  }

  /** What a listener was told: the granted word, or -1 for a time-out; null while nothing. */
  private static final class Told implements MutexQueue.Listener {
    Long word;
    int calls;

    @Override
    public void granted(long w) {
      word = w;
      calls++;
    }

    @Override
    public void timedOut(long w, long waitedNs) {
      word = -1L;
      calls++;
    }
  }

  @Test
  void shouldTellBothAsksOfTheSameWaitingAttemptAndQueueItOnce() {
    MutexCell mutex = home.create(OBJECT, "first");
    SyncAccess sync = store.region();
    long cell = mutex.cell();
    long heldByA = MutexSteps.tryLock(sync, cell, OBJECT, LockWord.token(A, 1), Long.MAX_VALUE);
    Told first = new Told();
    Told again = new Told();
    home.lock(mutex, B, 7, first);
    home.lock(mutex, B, 7, again); // the same attempt, delivered twice
    byte[] fromA = store.frame("A's", OBJECT, 1);
    assertEquals(
        MutexSteps.Outcome.HANDED_OFF,
        MutexSteps.commit(sync, cell, OBJECT, heldByA, fromA, fromA.length, 1, Long.MAX_VALUE));
    home.handedOff(mutex);
    assertTrue(LockWord.heldByNode(first.word, B));
    assertEquals(first.word, again.word, "both asks are told of the one grant");
    long word = sync.load(cell, OBJECT, SyncLayout.WORD, 0);
    assertEquals(
        MutexSteps.Outcome.RELEASED, MutexSteps.release(sync, cell, OBJECT, word, Long.MAX_VALUE));
    assertTrue(
        LockWord.isFree(sync.load(cell, OBJECT, SyncLayout.WORD, 0)),
        "one release frees it: the attempt was not queued twice");
  }

  @Test
  void shouldGrantTheSameAttemptAgainWhileItHoldsTheLockAndNeverOnceItMovedOn() {
    MutexCell mutex = home.create(OBJECT, "first");
    SyncAccess sync = store.region();
    long cell = mutex.cell();
    Told first = new Told();
    home.lock(mutex, B, 7, first);
    assertTrue(LockWord.heldByNode(first.word, B), "the lock was free: granted at once");

    Told again = new Told(); // its answer was lost, and it asks again
    home.lock(mutex, B, 7, again);
    assertEquals(first.word, again.word, "granted again, the same lock");

    assertEquals(
        MutexSteps.Outcome.RELEASED,
        MutexSteps.release(sync, cell, OBJECT, first.word, Long.MAX_VALUE));
    Told late = new Told(); // a copy that arrives after the attempt used its lock
    home.lock(mutex, B, 7, late);
    assertEquals(-1L, late.word, "told it timed out");
    assertEquals(1, late.calls);
    assertTrue(
        LockWord.isFree(sync.load(cell, OBJECT, SyncLayout.WORD, 0)),
        "and the lock is not granted a second time");
  }
}
