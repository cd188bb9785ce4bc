package dev.pekkodsm.memory;

import static dev.pekkodsm.memory.SharedSyncRegion.atLeast;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.jetbrains.kotlinx.lincheck.LinChecker;
import org.jetbrains.kotlinx.lincheck.LincheckAssertionError;
import org.jetbrains.kotlinx.lincheck.annotations.Operation;
import org.jetbrains.kotlinx.lincheck.annotations.Param;
import org.jetbrains.kotlinx.lincheck.paramgen.IntGen;
import org.jetbrains.kotlinx.lincheck.paramgen.LongGen;
import org.jetbrains.kotlinx.lincheck.strategy.IncorrectResultsFailure;
import org.jetbrains.kotlinx.lincheck.strategy.stress.StressOptions;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Linearizability of the atomic operations on a cell's fields (load, compare-and-exchange,
 * get-and-add), checked by Lincheck's stress mode against two plain longs: every operation of a
 * scenario goes through a side picked at random, the owner's own mapping or a peer's, so the
 * threads of one invocation race on one cell through different mappings of the file, or through the
 * tcp read server.
 *
 * <p>Stress mode only. Lincheck 2.39's model checker was tried on this class and fails before its
 * first invocation: it snapshots what the test state reaches through {@code Unsafe} field offsets,
 * which records (here {@code ArenaSettings}) refuse. Nor would it see the interleavings that
 * matter: its switch points are accesses to fields, arrays and atomics, and a VarHandle access to a
 * mapped byte buffer is none of them. The interleavings here come from real threads.
 *
 * <p>Sized for the default suite (a few seconds each); {@code -Dlincheck.iterations=N} and {@code
 * -Dlincheck.invocations=M} raise every Lincheck test to at least N scenarios of M invocations.
 */
@Timeout(120)
class CellLinearizabilityTest {

  @TempDir Path dir;

  @AfterEach
  void close() {
    SharedSyncRegion shared = SharedSyncRegion.current;
    SharedSyncRegion.current = null;
    if (shared != null) {
      shared.close();
    }
  }

  static StressOptions options(int iterations, int invocations) {
    return new StressOptions()
        .iterations(atLeast("lincheck.iterations", iterations))
        .invocationsPerIteration(atLeast("lincheck.invocations", invocations))
        .threads(2)
        .actorsPerThread(3)
        .actorsBefore(2)
        .actorsAfter(1)
        .sequentialSpecification(TwoLongs.class);
  }

  @Test
  void shouldBeLinearizableFromTheOwnerAndShmPeers() throws Exception {
    SharedSyncRegion.current = SharedSyncRegion.ownerAndShmPeers(dir);
    LinChecker.check(CellOnEverySide.class, options(20, 500));
  }

  @Test
  void shouldBeLinearizableFromTheOwnerAndShmAndTcpPeers() throws Exception {
    SharedSyncRegion.current = SharedSyncRegion.ownerShmAndTcpPeers(dir);
    LinChecker.check(CellOnEverySide.class, options(10, 200));
  }

  /**
   * The harness can tell: a get-and-add made of a load and a blind compare-and-exchange (which
   * drops the add when another side changed the field in between) is caught.
   */
  @Test
  void shouldCatchAGetAndAddThatIsNotAtomic() throws Exception {
    SharedSyncRegion.current = SharedSyncRegion.ownerAndShmPeers(dir);
    LincheckAssertionError e =
        assertThrows(
            LincheckAssertionError.class,
            () -> LinChecker.check(RacyCellOnEverySide.class, options(50, 2_000)));
    assertInstanceOf(IncorrectResultsFailure.class, e.getFailure(), e.getMessage());
  }

  /**
   * One cell, fresh for each invocation, reached through every side of the run's {@link
   * SharedSyncRegion}. Public, with public operations: Lincheck calls them from generated code.
   */
  @Param.Params({
    @Param(name = "side", gen = IntGen.class, conf = "0:2"),
    @Param(name = "field", gen = IntGen.class, conf = "0:1"),
    @Param(name = "small", gen = LongGen.class, conf = "0:3"),
    @Param(name = "delta", gen = LongGen.class, conf = "-2:2")
  })
  public static class CellOnEverySide {
    private static final AtomicLong OBJECTS = new AtomicLong(0x10_0000);
    static final int[] FIELDS = {SyncLayout.WORD, SyncLayout.FULL_VERSION};

    final SharedSyncRegion shared = SharedSyncRegion.current;
    final long object = OBJECTS.incrementAndGet();
    final long cell = shared.nextCell(SyncLayout.KIND_ATOMIC, object);

    SyncAccess side(int side) {
      return shared.side(side % shared.sides());
    }

    static long soon() {
      return System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    }

    @Operation
    public long load(@Param(name = "side") int side, @Param(name = "field") int field) {
      return side(side).load(cell, object, FIELDS[field], soon());
    }

    @Operation
    public long getAndAdd(
        @Param(name = "side") int side,
        @Param(name = "field") int field,
        @Param(name = "delta") long delta) {
      return side(side).getAndAdd(cell, object, FIELDS[field], delta, soon());
    }

    @Operation
    public long compareAndExchange(
        @Param(name = "side") int side,
        @Param(name = "field") int field,
        @Param(name = "small") long expected,
        @Param(name = "small") long update) {
      return side(side).compareAndExchange(cell, object, FIELDS[field], expected, update, soon());
    }
  }

  /** {@link CellOnEverySide} with a get-and-add that loses updates under contention. */
  public static class RacyCellOnEverySide extends CellOnEverySide {
    @Override
    public long getAndAdd(int side, int field, long delta) {
      SyncAccess sync = side(side);
      long seen = sync.load(cell, object, FIELDS[field], soon());
      sync.compareAndExchange(cell, object, FIELDS[field], seen, seen + delta, soon());
      return seen;
    }
  }

  /** The sequential specification: the word and the full-version field as two plain longs. */
  public static final class TwoLongs {
    private final long[] fields = new long[2];

    public long load(int side, int field) {
      return fields[field];
    }

    public long getAndAdd(int side, int field, long delta) {
      long before = fields[field];
      fields[field] += delta;
      return before;
    }

    public long compareAndExchange(int side, int field, long expected, long update) {
      long witness = fields[field];
      if (witness == expected) {
        fields[field] = update;
      }
      return witness;
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof TwoLongs other && Arrays.equals(fields, other.fields);
    }

    @Override
    public int hashCode() {
      return Arrays.hashCode(fields);
    }
  }
}
