package dev.pekkodsm.samples.kv;

/** Results made up for tests of what is done with them. */
public final class KvResults {

  private KvResults() {}

  /**
   * A result of {@code system} over tcp, 3 nodes, 90 % GETs, with the given correctness counts; the
   * first error names a timeout when there are errors.
   */
  public static KvResult of(
      String system, boolean linearizable, long staleReads, long malformedReads, long errors) {
    return new KvResult(
        system,
        "tcp",
        linearizable,
        3,
        4,
        0.9,
        0.99,
        1000,
        64,
        10_000,
        1.0,
        10_000,
        1,
        2,
        3,
        1,
        2,
        9_000,
        staleReads,
        malformedReads,
        errors,
        errors > 0 ? "java.lang.IllegalStateException: ask timed out" : null,
        1.0);
  }
}
