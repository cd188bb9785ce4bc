package dev.pekkodsm.coherence;

import static dev.pekkodsm.coherence.mutex.SyncSides.atLeast;

import dev.pekkodsm.coherence.AtomicCell.Op;
import dev.pekkodsm.coherence.AtomicCell.Result;
import dev.pekkodsm.coherence.mutex.SyncSides;
import dev.pekkodsm.memory.SyncLayout;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.jetbrains.kotlinx.lincheck.LinChecker;
import org.jetbrains.kotlinx.lincheck.annotations.Operation;
import org.jetbrains.kotlinx.lincheck.annotations.Param;
import org.jetbrains.kotlinx.lincheck.paramgen.IntGen;
import org.jetbrains.kotlinx.lincheck.paramgen.LongGen;
import org.jetbrains.kotlinx.lincheck.strategy.stress.StressOptions;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A {@code DAtomicLong}'s operations ({@link AtomicCell#apply}: get, set, add-and-get, get-and-add,
 * compare-and-set) as a linearizable long, checked by Lincheck's stress mode with every operation
 * sent through the home's own access, a same-host peer's mapping or a tcp peer at random. Set is a
 * compare-and-exchange loop, so this checks the loop as well as the instructions.
 *
 * <p>Stress mode only, and sized as memory's {@code CellLinearizabilityTest} says: Lincheck's model
 * checker does not run on a sync region (it cannot snapshot records, and VarHandle accesses to
 * mapped files are no switch points to it). {@code -Dlincheck.iterations} and {@code
 * -Dlincheck.invocations} lengthen the run.
 */
@Timeout(120)
class AtomicCellLinearizabilityTest {

  @TempDir Path dir;

  @AfterEach
  void close() {
    SyncSides sides = SyncSides.current;
    SyncSides.current = null;
    if (sides != null) {
      sides.close();
    }
  }

  @Test
  void shouldBeALinearizableLongFromTheHomeAndShmAndTcpPeers() throws Exception {
    SyncSides.current = SyncSides.homeShmAndTcpPeers(dir, 0x10);
    LinChecker.check(
        AtomicOnEverySide.class,
        new StressOptions()
            .iterations(atLeast("lincheck.iterations", 15))
            .invocationsPerIteration(atLeast("lincheck.invocations", 200))
            .threads(2)
            .actorsPerThread(3)
            .actorsBefore(1)
            .actorsAfter(1)
            .sequentialSpecification(PlainLong.class));
  }

  /**
   * An atomic's cell, fresh for each invocation (the previous one freed), reached through every
   * side of the run's {@link SyncSides}. Public, with public operations: Lincheck calls them from
   * generated code.
   */
  @Param.Params({
    @Param(name = "side", gen = IntGen.class, conf = "0:2"),
    @Param(name = "small", gen = LongGen.class, conf = "0:3"),
    @Param(name = "delta", gen = LongGen.class, conf = "-2:2")
  })
  public static class AtomicOnEverySide {
    private static final AtomicLong OBJECTS = new AtomicLong(0x30_0000);

    private final SyncSides sides = SyncSides.current;
    private final long object = OBJECTS.incrementAndGet();
    private final long cell = sides.nextCell(SyncLayout.KIND_ATOMIC, object);

    private Result apply(int side, Op op, long a, long b) {
      long deadlineNs = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
      return AtomicCell.apply(sides.side(side), cell, object, op, a, b, deadlineNs);
    }

    @Operation
    public Result get(@Param(name = "side") int side) {
      return apply(side, Op.GET, 0, 0);
    }

    @Operation
    public Result set(@Param(name = "side") int side, @Param(name = "small") long value) {
      return apply(side, Op.SET, value, 0);
    }

    @Operation
    public Result addAndGet(@Param(name = "side") int side, @Param(name = "delta") long delta) {
      return apply(side, Op.ADD_AND_GET, delta, 0);
    }

    @Operation
    public Result getAndAdd(@Param(name = "side") int side, @Param(name = "delta") long delta) {
      return apply(side, Op.GET_AND_ADD, delta, 0);
    }

    @Operation
    public Result compareAndSet(
        @Param(name = "side") int side,
        @Param(name = "small") long expected,
        @Param(name = "small") long update) {
      return apply(side, Op.COMPARE_AND_SET, expected, update);
    }
  }

  /** The sequential specification: a plain long, with {@link AtomicCell#apply}'s results. */
  public static final class PlainLong {
    private long value;

    public Result get(int side) {
      return new Result(value, true);
    }

    public Result set(int side, long value) {
      Result before = new Result(this.value, true);
      this.value = value;
      return before;
    }

    public Result addAndGet(int side, long delta) {
      value += delta;
      return new Result(value, true);
    }

    public Result getAndAdd(int side, long delta) {
      Result before = new Result(value, true);
      value += delta;
      return before;
    }

    public Result compareAndSet(int side, long expected, long update) {
      if (value != expected) {
        return new Result(value, false);
      }
      value = update;
      return new Result(update, true);
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof PlainLong other && value == other.value;
    }

    @Override
    public int hashCode() {
      return Long.hashCode(value);
    }
  }
}
