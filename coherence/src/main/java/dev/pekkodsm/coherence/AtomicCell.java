package dev.pekkodsm.coherence;

import dev.pekkodsm.memory.SyncAccess;
import dev.pekkodsm.memory.SyncLayout;

/**
 * A {@code DAtomicLong} at its home: the cell in the sync region whose word is its value, changed
 * one-sided by atomic instructions (or the transport's atomics) from every node.
 */
public final class AtomicCell {

  /** What an atomic operation does. */
  public enum Op {
    GET,
    SET,
    ADD_AND_GET,
    GET_AND_ADD,
    COMPARE_AND_SET
  }

  /** The outcome: the value the operation returns, and for compare-and-set whether it did. */
  public record Result(long value, boolean done) {}

  private final long cell;

  public AtomicCell(long cell) {
    this.cell = cell;
  }

  /** The locator of the atomic's cell in the home's sync region. */
  public long cell() {
    return cell;
  }

  /**
   * Applies {@code op} to the atomic's cell through {@code sync}, one-sided: get, set, add and
   * compare-and-set are one atomic operation each (set is a compare-and-exchange loop).
   */
  public static Result apply(
      SyncAccess sync, long cell, long object, Op op, long a, long b, long deadlineNs) {
    return switch (op) {
      case GET -> new Result(sync.load(cell, object, SyncLayout.WORD, deadlineNs), true);
      case ADD_AND_GET ->
          new Result(sync.getAndAdd(cell, object, SyncLayout.WORD, a, deadlineNs) + a, true);
      case GET_AND_ADD ->
          new Result(sync.getAndAdd(cell, object, SyncLayout.WORD, a, deadlineNs), true);
      case COMPARE_AND_SET -> {
        long witness = sync.compareAndExchange(cell, object, SyncLayout.WORD, a, b, deadlineNs);
        yield witness == a ? new Result(b, true) : new Result(witness, false);
      }
      case SET -> {
        long seen = sync.load(cell, object, SyncLayout.WORD, deadlineNs);
        while (true) {
          long witness =
              sync.compareAndExchange(cell, object, SyncLayout.WORD, seen, a, deadlineNs);
          if (witness == seen) {
            yield new Result(seen, true);
          }
          seen = witness;
        }
      }
    };
  }
}
