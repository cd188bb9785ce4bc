package dev.pekkodsm.coherence;

/**
 * A queued request was not granted before its deadline. Carries who held the object, so the API
 * layer can say exactly what blocked.
 */
public final class BorrowTimeoutException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final transient BorrowState.Holders holders;
  private final BorrowState.Kind kind;
  private final long waitedNs;

  public BorrowTimeoutException(BorrowState.Kind kind, BorrowState.Holders holders, long waitedNs) {
    super(
        kind + " borrow not granted within " + waitedNs / 1_000_000 + " ms; holders: " + holders,
        null,
        false,
        false);
    this.kind = kind;
    this.holders = holders;
    this.waitedNs = waitedNs;
  }

  public BorrowState.Holders holders() {
    return holders;
  }

  public BorrowState.Kind kind() {
    return kind;
  }

  public long waitedNs() {
    return waitedNs;
  }
}
