package dev.pekkodsm;

import dev.pekkodsm.coherence.GlobalAddress;
import dev.pekkodsm.coherence.NodeId;
import java.util.Map;

/**
 * A mutable borrow, transfer or drop waited {@code pekko.dsm.borrow-timeout} for shared references
 * or borrows to end, and they did not. The holders are named; release those references (or end
 * those borrows) first.
 */
public final class BorrowConflictException extends DsmException {
  private static final long serialVersionUID = 1L;

  private final int localBorrows;
  private final transient Map<NodeId, Integer> lentReferences;

  public BorrowConflictException(
      GlobalAddress address, String message, int localBorrows, Map<NodeId, Integer> lent) {
    super(address, message);
    this.localBorrows = localBorrows;
    this.lentReferences = Map.copyOf(lent);
  }

  /** Local shared borrows that were in progress when the wait gave up. */
  public int localBorrows() {
    return localBorrows;
  }

  /** References lent out, by the node holding them, as the owner knew them. */
  public Map<NodeId, Integer> lentReferences() {
    return lentReferences;
  }

  /** All lent references. */
  public int lentCount() {
    return lentReferences.values().stream().mapToInt(Integer::intValue).sum();
  }
}
