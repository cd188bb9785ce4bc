package dev.pekkodsm.samples.dataframe;

/**
 * The partial aggregate of one question over some rows, as it travels from where the rows live to
 * where the answer is merged: one entry per group present in those rows.
 *
 * @param question the question's ordinal
 * @param groups the number of groups
 * @param keysHigh the high half of each group's key (question 10 only), or an empty array
 * @param keys each group's key: the composite code of its key columns (see {@link GroupBy})
 * @param longs the integer states, state by state: state {@code s} of group {@code g} at {@code s *
 *     groups + g}; state 0 is always the row count
 * @param doubles the double states, laid out the same way
 * @param offsets question 6 only: group {@code g}'s values of v3 are {@code values[offsets[g] ..
 *     offsets[g + 1])}; else an empty array
 * @param values question 6 only: the values of v3, group by group; else an empty array
 */
public record Partial(
    int question,
    int groups,
    long[] keysHigh,
    long[] keys,
    long[] longs,
    double[] doubles,
    int[] offsets,
    double[] values) {

  /** The approximate size of the serialized form. */
  public long bytes() {
    return 8L * (keysHigh.length + keys.length + longs.length + doubles.length + values.length)
        + 4L * offsets.length
        + 64;
  }
}
