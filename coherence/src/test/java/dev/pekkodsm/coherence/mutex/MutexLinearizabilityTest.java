package dev.pekkodsm.coherence.mutex;

import static dev.pekkodsm.coherence.mutex.SyncSides.atLeast;

import dev.pekkodsm.coherence.MutexCell;
import dev.pekkodsm.coherence.NodeId;
import dev.pekkodsm.memory.ActiveValue;
import dev.pekkodsm.memory.ReadBuffer;
import dev.pekkodsm.memory.ReadStatus;
import dev.pekkodsm.memory.SyncAccess;
import dev.pekkodsm.serialization.internal.SnapshotCodec;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.jetbrains.kotlinx.lincheck.LinChecker;
import org.jetbrains.kotlinx.lincheck.annotations.Operation;
import org.jetbrains.kotlinx.lincheck.annotations.Param;
import org.jetbrains.kotlinx.lincheck.paramgen.IntGen;
import org.jetbrains.kotlinx.lincheck.strategy.stress.StressOptions;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The one-sided mutex steps as a linearizable counter, checked by Lincheck's stress mode: lockers
 * on every side take the lock word with {@link MutexSteps#tryLock}, read the committed value and
 * commit it plus one ({@link MutexSteps#commit}: the frame into the inactive slot, then the word
 * flipped), or read it and let go; readers read it without the lock, stepwise ({@link
 * MutexSteps#readCommitted}) or in one operation ({@link SyncAccess#readActive}, one round trip
 * over tcp). Mutual exclusion, and that the value, its frame's color and the word's version agree,
 * are asserted inside the operations.
 *
 * <p>Stress mode only, and sized as memory's {@code CellLinearizabilityTest} says: Lincheck's model
 * checker does not run on a sync region (it cannot snapshot records, and VarHandle accesses to
 * mapped files are no switch points to it). {@code -Dlincheck.iterations} and {@code
 * -Dlincheck.invocations} lengthen the run.
 */
@Timeout(120)
class MutexLinearizabilityTest {

  static final NodeId HOME = NodeId.of(0x10);

  @TempDir Path dir;

  @AfterEach
  void close() {
    SyncSides sides = SyncSides.current;
    SyncSides.current = null;
    if (sides != null) {
      sides.close();
    }
  }

  static StressOptions options(int iterations, int invocations) {
    return new StressOptions()
        .iterations(atLeast("lincheck.iterations", iterations))
        .invocationsPerIteration(atLeast("lincheck.invocations", invocations))
        .threads(2)
        .actorsPerThread(3)
        .actorsBefore(1)
        .actorsAfter(1)
        .sequentialSpecification(Counter.class);
  }

  void run(SyncSides sides, int iterations, int invocations) {
    SyncSides.current = sides;
    LinChecker.check(MutexOnEverySide.class, options(iterations, invocations));
  }

  @Test
  void shouldBeALinearizableCounterFromTheHomeAndShmPeers() throws Exception {
    run(SyncSides.homeAndShmPeers(dir, HOME.value()), 20, 300);
  }

  @Test
  void shouldBeALinearizableCounterFromTheHomeAndShmAndTcpPeers() throws Exception {
    run(SyncSides.homeShmAndTcpPeers(dir, HOME.value()), 10, 150);
  }

  /**
   * A mutex holding a long, created at its home for each invocation (the previous one destroyed),
   * and locked, committed and read through every side of the run's {@link SyncSides}. Public, with
   * public operations: Lincheck calls them from generated code.
   */
  @Param(name = "side", gen = IntGen.class, conf = "0:2")
  public static class MutexOnEverySide {
    private static final AtomicLong OBJECTS = new AtomicLong(0x20_0000);
    private static final AtomicInteger NONCES = new AtomicInteger();

    private final SyncSides sides = SyncSides.current;
    private final long object = OBJECTS.incrementAndGet();
    private final MutexCell mutex = sides.nextMutex(object);
    private final AtomicInteger holders = new AtomicInteger();
    private final AtomicLong newestRead = new AtomicLong(Long.MIN_VALUE);

    static long soon() {
      return System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    }

    /** Takes the lock through {@code sync} as a node of its own, spinning while it is held. */
    private long lock(SyncAccess sync, int side) {
      long token = LockWord.token(NodeId.of(0x100 + side), NONCES.incrementAndGet());
      while (true) {
        long held = MutexSteps.tryLock(sync, mutex.cell(), object, token, soon());
        if (held != MutexSteps.NOT_FREE) {
          if (holders.incrementAndGet() != 1) {
            throw new AssertionError("two holders at once: " + LockWord.describe(held));
          }
          return held;
        }
        Thread.onSpinWait();
      }
    }

    /** The committed value read through {@code sync}, checked against the word it came with. */
    private long committed(SyncAccess sync, long held) {
      ReadBuffer out = new ReadBuffer(64);
      ReadStatus[] status = new ReadStatus[1];
      long word = MutexSteps.readCommitted(sync, mutex.cell(), object, out, status, soon());
      if (status[0] != ReadStatus.OK) {
        throw new AssertionError("the committed value could not be read: " + status[0]);
      }
      if (held != MutexSteps.NOT_FREE && LockWord.version(word) != LockWord.version(held)) {
        throw new AssertionError(
            "a commit while the lock was held: "
                + LockWord.describe(held)
                + " became "
                + LockWord.describe(word));
      }
      return checked(out, word);
    }

    /**
     * The value of a frame read with {@code word}, which is its version: every commit adds one to
     * both.
     */
    private long checked(ReadBuffer out, long word) {
      long value = (Long) sides.store.decode(out);
      int color = SnapshotCodec.color(out.bytes(), 0);
      if (value != color || !LockWord.names(word, color)) {
        throw new AssertionError(
            "value " + value + " in a frame of color " + color + ", " + LockWord.describe(word));
      }
      newestRead.accumulateAndGet(value, Math::max); // a version readKnown may name
      return value;
    }

    /** Locks, adds one to the committed value, commits; returns the value before. */
    @Operation
    public long increment(@Param(name = "side") int side) {
      SyncAccess sync = sides.side(side);
      long held = lock(sync, side);
      long value = committed(sync, held);
      int color = (int) value + 1;
      byte[] frame = sides.store.frame(value + 1, object, color);
      holders.decrementAndGet();
      MutexSteps.Outcome outcome =
          MutexSteps.commit(sync, mutex.cell(), object, held, frame, frame.length, color, soon());
      if (outcome != MutexSteps.Outcome.RELEASED) {
        throw new AssertionError("nobody waits or takes locks back here, yet " + outcome);
      }
      return value;
    }

    /** Locks, reads the committed value, lets go without a commit. */
    @Operation
    public long readLocked(@Param(name = "side") int side) {
      SyncAccess sync = sides.side(side);
      long held = lock(sync, side);
      long value = committed(sync, held);
      holders.decrementAndGet();
      MutexSteps.Outcome outcome = MutexSteps.release(sync, mutex.cell(), object, held, soon());
      if (outcome != MutexSteps.Outcome.RELEASED) {
        throw new AssertionError("nobody waits or takes locks back here, yet " + outcome);
      }
      return value;
    }

    /** Reads the committed value without the lock: the word, then the slot it names. */
    @Operation
    public long read(@Param(name = "side") int side) {
      return committed(sides.side(side), MutexSteps.NOT_FREE);
    }

    /** Reads the committed value without the lock in one {@link SyncAccess#readActive}. */
    @Operation
    public long readActive(@Param(name = "side") int side) {
      SyncAccess sync = sides.side(side);
      ReadBuffer out = new ReadBuffer(64);
      while (true) {
        ActiveValue v =
            sync.readActive(mutex.cell(), object, LockWord.ACTIVE_BIT, Long.MIN_VALUE, out, soon());
        if (v.status() == ReadStatus.OK && LockWord.names(v.word(), (int) v.color())) {
          return checked(out, v.word());
        }
        if (v.status() != ReadStatus.OK && v.status() != ReadStatus.CONTENDED) {
          throw new AssertionError("the committed value could not be read: " + v);
        }
        Thread.onSpinWait(); // commits overtook the read: look again
      }
    }

    /**
     * Reads the committed value in one {@link SyncAccess#readActive} that names the newest version
     * this mutex was read at so far, as a reader with a decoded copy of it would: if the slot still
     * holds that version, no frame is copied and the copy is the answer.
     */
    @Operation
    public long readKnown(@Param(name = "side") int side) {
      SyncAccess sync = sides.side(side);
      ReadBuffer out = new ReadBuffer(64);
      while (true) {
        long known = newestRead.get();
        ActiveValue v =
            sync.readActive(mutex.cell(), object, LockWord.ACTIVE_BIT, known, out, soon());
        if (v.known() && LockWord.names(v.word(), (int) v.color())) {
          return v.color(); // the copy of that version: its value is its version
        }
        if (!v.known()
            && v.status() == ReadStatus.OK
            && LockWord.names(v.word(), (int) v.color())) {
          return checked(out, v.word());
        }
        if (!v.known() && v.status() != ReadStatus.OK && v.status() != ReadStatus.CONTENDED) {
          throw new AssertionError("the committed value could not be read: " + v);
        }
        Thread.onSpinWait(); // commits overtook the read: look again
      }
    }
  }

  /** The sequential specification: a counter. */
  public static final class Counter {
    private long value;

    public long increment(int side) {
      return value++;
    }

    public long readLocked(int side) {
      return value;
    }

    public long read(int side) {
      return value;
    }

    public long readActive(int side) {
      return value;
    }

    public long readKnown(int side) {
      return value;
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof Counter other && value == other.value;
    }

    @Override
    public int hashCode() {
      return Long.hashCode(value);
    }
  }
}
