package dev.pekkodsm.samples.dataframe;

/**
 * A block of consecutive rows of the group-by table, column by column: one DSM object per block.
 * id1, id2 and id3 are dictionary codes (0-based indexes into {@link GroupByTable#level}); id4 to
 * id6, v1 and v2 are the integers themselves, v3 the double. Never modified once built.
 */
public final class RowGroup {
  final int[] id1;
  final int[] id2;
  final int[] id3;
  final int[] id4;
  final int[] id5;
  final int[] id6;
  final int[] v1;
  final int[] v2;
  final double[] v3;

  RowGroup(
      int[] id1,
      int[] id2,
      int[] id3,
      int[] id4,
      int[] id5,
      int[] id6,
      int[] v1,
      int[] v2,
      double[] v3) {
    this.id1 = id1;
    this.id2 = id2;
    this.id3 = id3;
    this.id4 = id4;
    this.id5 = id5;
    this.id6 = id6;
    this.v1 = v1;
    this.v2 = v2;
    this.v3 = v3;
  }

  /** The number of rows. */
  public int rows() {
    return v3.length;
  }

  /** Heap bytes of the columns. */
  long bytes() {
    return 32L * rows() + 8L * rows();
  }
}
