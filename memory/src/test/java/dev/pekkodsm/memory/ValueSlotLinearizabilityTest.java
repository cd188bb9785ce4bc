package dev.pekkodsm.memory;

import static dev.pekkodsm.memory.SharedSyncRegion.atLeast;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.pekkodsm.serialization.internal.SnapshotCodec;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.jetbrains.kotlinx.lincheck.LinChecker;
import org.jetbrains.kotlinx.lincheck.LincheckAssertionError;
import org.jetbrains.kotlinx.lincheck.annotations.Operation;
import org.jetbrains.kotlinx.lincheck.annotations.Param;
import org.jetbrains.kotlinx.lincheck.paramgen.IntGen;
import org.jetbrains.kotlinx.lincheck.strategy.IncorrectResultsFailure;
import org.jetbrains.kotlinx.lincheck.strategy.stress.StressOptions;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Linearizability of a writable value slot as a register: seqlock writes of whole frames from every
 * side, checked reads and color peeks from every side, against a plain int. Each frame's payload is
 * one character repeated, {@code 'a' + value}, and its color is the value: a read that copied parts
 * of two frames (or a header of one and a payload of another) answers something no register ever
 * held.
 *
 * <p>Stress mode only, and sized as {@link CellLinearizabilityTest} says.
 */
@Timeout(120)
class ValueSlotLinearizabilityTest {

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
        .actorsBefore(1)
        .actorsAfter(1)
        .sequentialSpecification(Register.class);
  }

  @Test
  void shouldBeLinearizableFromTheOwnerAndShmPeers() throws Exception {
    SlotOnEverySide.prepare(SharedSyncRegion.ownerAndShmPeers(dir));
    LinChecker.check(SlotOnEverySide.class, options(20, 300));
  }

  @Test
  void shouldBeLinearizableFromTheOwnerAndShmAndTcpPeers() throws Exception {
    SlotOnEverySide.prepare(SharedSyncRegion.ownerShmAndTcpPeers(dir));
    LinChecker.check(SlotOnEverySide.class, options(10, 150));
  }

  /** The harness can tell: a writer that copies its frame in without the seqlock is caught. */
  @Test
  void shouldCatchAWriterThatSkipsTheSeqlock() throws Exception {
    SlotOnEverySide.prepare(SharedSyncRegion.ownerAndShmPeers(dir));
    LincheckAssertionError e =
        assertThrows(
            LincheckAssertionError.class,
            () -> LinChecker.check(UnlockedWriterSlot.class, options(50, 1_000)));
    assertInstanceOf(IncorrectResultsFailure.class, e.getFailure(), e.getMessage());
  }

  /**
   * One value slot for the run, reset to value 0 for each invocation, written and read through
   * every side of the run's {@link SharedSyncRegion}. Public, with public operations: Lincheck
   * calls them from generated code.
   */
  @Param.Params({
    @Param(name = "side", gen = IntGen.class, conf = "0:2"),
    @Param(name = "value", gen = IntGen.class, conf = "1:3")
  })
  public static class SlotOnEverySide {
    static final long OBJECT = 0x5107;
    static final int PAYLOAD_CHARS = 2_000; // long enough for a copy to overlap a write
    static final int VALUES = 4;

    static SharedSyncRegion shared;
    static long slot;
    static byte[][] frames;

    /** Allocates the run's slot, and has every side map it. */
    static void prepare(SharedSyncRegion region) {
      SharedSyncRegion.current = region;
      shared = region;
      frames = new byte[VALUES][];
      for (int v = 0; v < VALUES; v++) {
        frames[v] = Frames.frame(String.valueOf((char) ('a' + v)).repeat(PAYLOAD_CHARS), OBJECT, v);
      }
      slot = region.region.allocateValue(frames[0], frames[0].length, frames[0].length);
      for (int side = 0; side < region.sides(); side++) {
        ReadBuffer out = new ReadBuffer(64);
        assertEquals(
            ReadStatus.OK,
            region.side(side).readValue(slot, OBJECT, 0, out, soon()),
            "side " + side + " reads the slot");
      }
    }

    public SlotOnEverySide() {
      shared.region.writeValue(slot, frames[0], frames[0].length, soon());
    }

    static long soon() {
      return System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    }

    SyncAccess side(int side) {
      return shared.side(side % shared.sides());
    }

    @Operation
    public void write(@Param(name = "side") int side, @Param(name = "value") int value) {
      byte[] frame = frames[value];
      while (true) {
        try {
          side(side).writeValue(slot, frame, frame.length, soon());
          return;
        } catch (SyncFailedException e) {
          if (e.status() != SyncStatus.CONTENDED) {
            throw e;
          }
          // Refused before a byte was written: another writer held the slot all along. Again.
        }
      }
    }

    /** The value read, or what was wrong with the read. */
    @Operation
    public String read(@Param(name = "side") int side) {
      ReadBuffer out = new ReadBuffer(PAYLOAD_CHARS + 64);
      while (true) {
        ReadStatus status =
            side(side).readValue(slot, OBJECT, SnapshotCodec.ANY_COLOR, out, soon());
        if (status != ReadStatus.CONTENDED) {
          return status == ReadStatus.OK ? valueOf(out) : status.name();
        }
      }
    }

    /** The color of the slot's frame, read under the seqlock without copying it. */
    @Operation
    public String peek(@Param(name = "side") int side) {
      long color = -1;
      for (int attempt = 0; attempt < 1_000 && color < 0; attempt++) {
        color = side(side).peekValueColor(slot, OBJECT, soon()); // -1 while contended: again
      }
      return Long.toString(color);
    }

    /** The value a checked frame holds: its color, if every payload character agrees with it. */
    static String valueOf(ReadBuffer out) {
      int color = SnapshotCodec.color(out.bytes(), 0);
      String payload = (String) Frames.decode(out);
      char expected = (char) ('a' + color);
      if (payload.length() != PAYLOAD_CHARS || payload.chars().anyMatch(c -> c != expected)) {
        return "torn: color "
            + color
            + ", payload "
            + payload.chars().distinct().count()
            + " chars";
      }
      return Integer.toString(color);
    }
  }

  /** {@link SlotOnEverySide} whose writes copy the frame in without taking the seqlock. */
  public static class UnlockedWriterSlot extends SlotOnEverySide {
    @Override
    public void write(int side, int value) {
      ByteBuffer segment = shared.region.values().writableSegment(SlotLayout.segment(slot));
      int at = (int) SlotLayout.offset(slot) + SlotLayout.SLOT_HEADER_BYTES;
      segment.put(at, frames[value]);
    }
  }

  /** The sequential specification: the value last written, 0 at first. */
  public static final class Register {
    private int value;

    public void write(int side, int value) {
      this.value = value;
    }

    public String read(int side) {
      return Integer.toString(value);
    }

    public String peek(int side) {
      return Integer.toString(value);
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof Register other && value == other.value;
    }

    @Override
    public int hashCode() {
      return value;
    }
  }
}
