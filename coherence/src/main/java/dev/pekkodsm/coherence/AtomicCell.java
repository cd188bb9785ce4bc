package dev.pekkodsm.coherence;

/**
 * The value of a {@code DAtomicLong} at its home, with the version of its published snapshot.
 * Operations and their publication are serialized by the cell's monitor, so snapshots are published
 * in the order the operations happened.
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

  private long value;
  private int version;

  public AtomicCell(long initial) {
    this.value = initial;
  }

  /**
   * Applies {@code op} and, if the atomic's snapshot is published (it was shared with another
   * node), publishes the new value before returning, so a one-sided read that starts afterwards
   * sees it.
   */
  public synchronized Result apply(
      SnapshotPort snapshots, OwnedObject home, Op op, long a, long b) {
    long before = value;
    Result result =
        switch (op) {
          case GET -> new Result(value, true);
          case SET -> {
            value = a;
            yield new Result(before, true);
          }
          case ADD_AND_GET -> {
            value += a;
            yield new Result(value, true);
          }
          case GET_AND_ADD -> {
            value += a;
            yield new Result(before, true);
          }
          case COMPARE_AND_SET -> {
            boolean match = value == a;
            if (match) {
              value = b;
            }
            yield new Result(value, match);
          }
        };
    if (value != before && home.locator() != 0) {
      snapshots.republish(home, value, ++version);
    }
    return result;
  }

  /** Publishes the current value if it is not yet; the first export of the atomic calls this. */
  public synchronized void ensurePublished(SnapshotPort snapshots, OwnedObject home) {
    if (home.locator() == 0) {
      snapshots.republish(home, value, version);
    }
  }
}
