package dev.pekkodsm.coherence.mutex;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pekkodsm.coherence.MutexCell;
import dev.pekkodsm.coherence.NodeId;
import dev.pekkodsm.coherence.SystemTiming;
import dev.pekkodsm.memory.ActiveValue;
import dev.pekkodsm.memory.ReadBuffer;
import dev.pekkodsm.memory.ReadStatus;
import dev.pekkodsm.memory.SyncAccess;
import dev.pekkodsm.memory.SyncFailedException;
import dev.pekkodsm.memory.SyncLayout;
import dev.pekkodsm.memory.SyncStatus;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A lock taken together with the value it guards ({@link MutexSteps#tryLockAndRead}), on a real
 * sync region seen through a recorder of the operations a remote locker would send: one operation
 * when the guess is right, the word's witness followed otherwise, and an exchange whose reply was
 * lost judged by the word.
 */
class MutexStepsTest {

  static final NodeId HOME = NodeId.of(0x10);
  static final NodeId ME = NodeId.of(0x20);
  static final long OBJECT = 77;

  TestStore store;
  SystemTiming timing;
  MutexCell mutex;
  Recorder sync;

  @BeforeEach
  void create(@TempDir Path dir) {
    store = new TestStore(dir, HOME.value());
    timing = new SystemTiming("steps-timer");
    MutexHome home = new MutexHome(HOME, store, timing, TimeUnit.SECONDS.toNanos(10));
    mutex = home.create(OBJECT, "first");
    sync = new Recorder(store.region());
  }

  @AfterEach
  void close() {
    timing.close();
    store.close();
  }

  static long soon() {
    return System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
  }

  long word() {
    return store.region().load(mutex.cell(), OBJECT, SyncLayout.WORD, soon());
  }

  MutexSteps.Locked lock(long token, long guess, long knownColor, ReadBuffer out) {
    return MutexSteps.tryLockAndRead(
        sync, mutex.cell(), OBJECT, token, guess, knownColor, out, soon());
  }

  /** Commits {@code value} as the next version from a lock taken here; the word it leaves. */
  long commit(String value) {
    long token = LockWord.token(HOME, 1);
    long held = MutexSteps.tryLock(store.region(), mutex.cell(), OBJECT, token, soon());
    int color = LockWord.version(held) + 1;
    byte[] frame = store.frame(value, OBJECT, color);
    MutexSteps.commit(
        store.region(), mutex.cell(), OBJECT, held, frame, frame.length, color, soon());
    return word();
  }

  @Test
  void shouldTakeTheLockAndReadTheValueInOneOperationWhenTheGuessIsRight() {
    long guess = commit("second");
    long token = LockWord.token(ME, 1);
    ReadBuffer out = new ReadBuffer(16);

    MutexSteps.Locked locked = lock(token, guess, Long.MIN_VALUE, out);

    assertEquals(LockWord.heldBy(guess, token), locked.word());
    assertEquals(locked.word(), word(), "held");
    ActiveValue v = locked.value();
    assertEquals(ReadStatus.OK, v.status());
    assertTrue(LockWord.names(guess, (int) v.color()), "the committed version: " + v);
    assertEquals("second", store.decode(out));
    assertEquals(List.of("exchangeThenRead"), sync.operations, "one operation");
  }

  @Test
  void shouldNotCopyTheVersionTheLockerHas() {
    long guess = commit("second");
    long token = LockWord.token(ME, 2);
    ReadBuffer out = new ReadBuffer(16);

    MutexSteps.Locked locked = lock(token, guess, LockWord.version(guess), out);

    assertEquals(LockWord.heldBy(guess, token), locked.word());
    assertEquals(
        new ActiveValue(guess, LockWord.version(guess), true, ReadStatus.OK), locked.value());
    assertEquals(0, out.length(), "no frame");
  }

  @Test
  void shouldGoOnFromTheWitnessWhenTheGuessIsWrong() {
    long stale = word();
    long now = commit("second");
    long token = LockWord.token(ME, 3);

    MutexSteps.Locked locked = lock(token, stale, Long.MIN_VALUE, new ReadBuffer(16));

    assertEquals(LockWord.heldBy(now, token), locked.word(), "locked from the witness");
    assertEquals(locked.word(), word());
    assertNull(locked.value(), "the value is read on its own");
    assertEquals(
        List.of("exchangeThenRead", "compareAndExchange"), sync.operations, "no load: the witness");
  }

  @Test
  void shouldStopAtAWitnessThatIsHeld() {
    long guess = word();
    long other = MutexSteps.tryLock(store.region(), mutex.cell(), OBJECT, 0x4401, soon());

    MutexSteps.Locked locked =
        lock(LockWord.token(ME, 4), guess, Long.MIN_VALUE, new ReadBuffer(16));

    assertEquals(new MutexSteps.Locked(MutexSteps.NOT_FREE, null), locked);
    assertEquals(other, word(), "untouched");
    assertEquals(List.of("exchangeThenRead"), sync.operations);
  }

  @Test
  void shouldLoadTheWordWithoutAGuessAndReadNothing() {
    long token = LockWord.token(ME, 5);

    MutexSteps.Locked locked = lock(token, MutexSteps.NOT_FREE, Long.MIN_VALUE, new ReadBuffer(16));

    assertEquals(LockWord.heldBy(LockWord.initial(), token), locked.word());
    assertNull(locked.value());
    assertEquals(List.of("load", "compareAndExchange"), sync.operations);
  }

  @Test
  void shouldHoldTheLockWhenTheLostReplyWasOfAnExchangeThatHappened() {
    long guess = word();
    long token = LockWord.token(ME, 6);
    sync.loseReply = true;

    MutexSteps.Locked locked = lock(token, guess, Long.MIN_VALUE, new ReadBuffer(16));

    assertEquals(LockWord.heldBy(guess, token), locked.word(), "the word names this token");
    assertNull(locked.value(), "the value is read on its own");
    assertEquals(List.of("exchangeThenRead", "load"), sync.operations);
  }

  @Test
  void shouldNotHoldTheLockWhenTheFailedExchangeDidNotHappen() {
    long guess = word();
    sync.failBefore = true;

    MutexSteps.Locked locked =
        lock(LockWord.token(ME, 7), guess, Long.MIN_VALUE, new ReadBuffer(16));

    assertEquals(new MutexSteps.Locked(MutexSteps.NOT_FREE, null), locked);
    assertEquals(guess, word(), "still free");
    assertEquals(List.of("exchangeThenRead", "load"), sync.operations);
  }

  /**
   * The region's operations, each noted by name as a remote locker would send it, with the reply of
   * an exchange-and-read lost after it happened or the connection broken before.
   */
  static final class Recorder implements SyncAccess {
    final SyncAccess region;
    final List<String> operations = new ArrayList<>();
    boolean loseReply;
    boolean failBefore;

    Recorder(SyncAccess region) {
      this.region = region;
    }

    @Override
    public long load(long cell, long object, int field, long deadlineNs) {
      operations.add("load");
      return region.load(cell, object, field, deadlineNs);
    }

    @Override
    public long compareAndExchange(
        long cell, long object, int field, long expected, long update, long deadlineNs) {
      operations.add("compareAndExchange");
      return region.compareAndExchange(cell, object, field, expected, update, deadlineNs);
    }

    @Override
    public long getAndAdd(long cell, long object, int field, long delta, long deadlineNs) {
      operations.add("getAndAdd");
      return region.getAndAdd(cell, object, field, delta, deadlineNs);
    }

    @Override
    public void writeValue(long locator, byte[] frame, int length, long deadlineNs) {
      operations.add("writeValue");
      region.writeValue(locator, frame, length, deadlineNs);
    }

    @Override
    public ReadStatus readValue(
        long locator, long object, int color, ReadBuffer out, long deadlineNs) {
      operations.add("readValue");
      return region.readValue(locator, object, color, out, deadlineNs);
    }

    @Override
    public long peekValueColor(long locator, long object, long deadlineNs) {
      operations.add("peekValueColor");
      return region.peekValueColor(locator, object, deadlineNs);
    }

    @Override
    public ActiveValue exchangeThenRead(
        long cell,
        long object,
        int selectorBit,
        long expected,
        long update,
        long knownColor,
        ReadBuffer out,
        long deadlineNs) {
      operations.add("exchangeThenRead");
      if (failBefore) {
        throw new SyncFailedException(SyncStatus.UNAVAILABLE, "the connection broke");
      }
      ActiveValue v =
          region.exchangeThenRead(
              cell, object, selectorBit, expected, update, knownColor, out, deadlineNs);
      if (loseReply) {
        throw new SyncFailedException(SyncStatus.TIMED_OUT, "the reply was lost");
      }
      return v;
    }
  }
}
