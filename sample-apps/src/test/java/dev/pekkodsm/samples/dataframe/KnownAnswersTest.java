package dev.pekkodsm.samples.dataframe;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every question on every system, on a small table with known answers, compared in full with
 * DuckDB's answer: groups of one row, ties in the top two, the deviation of one value, a median
 * between two values, a correlation of constant values. The distributed systems run on three nodes
 * with the table in 12 blocks, so every answer is merged from partials of all nodes.
 */
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class KnownAnswersTest {

  static final GroupByShape SHAPE = new GroupByShape(60, 3);

  @TempDir static Path dir;
  static Path file;
  static FrameSystem duckdb;

  @BeforeAll
  static void writeTableAndStartTheOracle() throws Exception {
    file = dir.resolve("known.bin");
    GroupByTable.write(file, SHAPE, knownRows());
    duckdb = DuckDbFrame.start(1, file, SHAPE);
  }

  @AfterAll
  static void stopTheOracle() {
    if (duckdb != null) {
      duckdb.close();
    }
  }

  /**
   * 60 rows, k = 3 (so id3 and id6 have 20 levels). Rows 0 to 5 are made by hand, the rest drawn at
   * random but never with id4 = 3 or id6 above 17, so that the hand-made rows alone form these
   * groups:
   *
   * <ul>
   *   <li>id6 = 20: row 0 only (v3 42.5): one row in the top two;
   *   <li>id6 = 19: rows 1 and 2, both v3 7.25: a tie, two rows of 7.25;
   *   <li>id6 = 18: rows 3 to 5, v3 5.0, 9.5, 9.0: top two 9.5 and 9.0;
   *   <li>(id4, id5) = (3, 3): row 0 only: median 42.5, sd NULL;
   *   <li>(3, 2): rows 2 and 5, v3 7.25 and 9.0: median 8.125, sd 1.2374368670764582;
   *   <li>(3, 1): rows 1, 3, 4, v3 7.25, 5.0, 9.5: median 7.25;
   *   <li>(id2, id4) = (id001, 3): rows 1 to 5, v1 always 3: corr of a constant, NULL or NaN.
   * </ul>
   */
  static RowGroup knownRows() {
    int n = SHAPE.rows();
    int[] id1 = new int[n];
    int[] id2 = new int[n];
    int[] id3 = new int[n];
    int[] id4 = new int[n];
    int[] id5 = new int[n];
    int[] id6 = new int[n];
    int[] v1 = new int[n];
    int[] v2 = new int[n];
    double[] v3 = new double[n];
    SplittableRandom random = new SplittableRandom(7);
    for (int i = 0; i < n; i++) {
      id1[i] = random.nextInt(3);
      id2[i] = random.nextInt(3);
      id3[i] = random.nextInt(20);
      id4[i] = 1 + random.nextInt(2);
      id5[i] = 1 + random.nextInt(3);
      id6[i] = 1 + random.nextInt(17);
      v1[i] = 1 + random.nextInt(5);
      v2[i] = 1 + random.nextInt(15);
      v3[i] = Math.rint(random.nextDouble() * 100e6) / 1e6;
    }
    int[] hand6 = {20, 19, 19, 18, 18, 18};
    double[] hand3 = {42.5, 7.25, 7.25, 5.0, 9.5, 9.0};
    int[] hand5 = {3, 1, 2, 1, 1, 2};
    for (int i = 0; i < 6; i++) {
      id4[i] = 3;
      id5[i] = hand5[i];
      id6[i] = hand6[i];
      v3[i] = hand3[i];
      id2[i] = i == 0 ? 2 : 0;
      v1[i] = 3;
    }
    return new RowGroup(id1, id2, id3, id4, id5, id6, v1, v2, v3);
  }

  @Test
  void shouldAnswerLikeDuckDbOnDsm() throws Exception {
    try (FrameSystem dsm = DsmFrame.start(3, file, SHAPE)) {
      checkEveryQuestion(dsm);
    }
  }

  @Test
  void shouldAnswerLikeDuckDbOnDelegation() throws Exception {
    try (FrameSystem delegation = DelegationFrame.start(3, file, SHAPE)) {
      checkEveryQuestion(delegation);
    }
  }

  @Test
  void shouldAnswerLikeDuckDbOnHazelcast() throws Exception {
    try (FrameSystem hazelcast = HazelcastFrame.start(3, file, SHAPE)) {
      checkEveryQuestion(hazelcast);
    }
  }

  @Test
  void shouldGiveTheHandMadeAnswersOnDuckDb() throws Exception {
    List<Object[]> q8 = duckdb.answer(Question.Q8).answer().sortedRows();
    assertEquals(List.of(42.5), valuesOf(q8, 20L), "one row in group 20");
    assertEquals(List.of(7.25, 7.25), valuesOf(q8, 19L), "a tie keeps both rows");
    assertEquals(List.of(9.0, 9.5), valuesOf(q8, 18L), "the largest two");

    List<Object[]> q6 = duckdb.answer(Question.Q6).answer().sortedRows();
    assertEquals(List.of(42.5, Double.NaN), valuesOf(q6, 3L, 3L), "sd of one value is NULL");
    Object[] two = row(q6, 3L, 2L);
    assertEquals(8.125, (double) two[2], 1e-12, "median between two values");
    assertEquals(1.2374368670764582, (double) two[3], 1e-12);
    assertEquals(7.25, (double) row(q6, 3L, 1L)[2], 1e-12);

    Object[] constant = row(duckdb.answer(Question.Q9).answer().sortedRows(), "id001", 3L);
    assertTrue(Double.isNaN((double) constant[2]), "corr of a constant: " + constant[2]);
  }

  /** Every question's answer, compared row by row with DuckDB's, and digest against digest. */
  private static void checkEveryQuestion(FrameSystem system) throws Exception {
    for (Question q : Question.values()) {
      Answer expected = duckdb.answer(q).answer();
      Answer actual = system.answer(q).answer();
      assertSameRows(q, expected.sortedRows(), actual.sortedRows());
      String mismatch = expected.digest().mismatch(actual.digest());
      assertEquals(null, mismatch, q.id() + " digest");
    }
  }

  static void assertSameRows(Question q, List<Object[]> expected, List<Object[]> actual) {
    assertEquals(expected.size(), actual.size(), q.id() + " rows");
    for (int r = 0; r < expected.size(); r++) {
      Object[] e = expected.get(r);
      Object[] a = actual.get(r);
      for (int c = 0; c < e.length; c++) {
        String where = q.id() + " row " + Arrays.toString(e) + " vs " + Arrays.toString(a);
        if (e[c] instanceof Double x) {
          double y = (Double) a[c];
          assertTrue(
              Double.isNaN(x)
                  ? Double.isNaN(y)
                  : Math.abs(x - y) <= 1e-9 * Math.max(1, Math.abs(x)),
              where);
        } else {
          assertEquals(e[c], a[c], where);
        }
      }
    }
  }

  private static List<Double> valuesOf(List<Object[]> rows, Object... key) {
    List<Double> out = new ArrayList<>();
    for (Object[] r : rows) {
      if (Arrays.equals(Arrays.copyOf(r, key.length), key)) {
        for (int c = key.length; c < r.length; c++) {
          out.add((Double) r[c]);
        }
      }
    }
    return out;
  }

  private static Object[] row(List<Object[]> rows, Object... key) {
    for (Object[] r : rows) {
      if (Arrays.equals(Arrays.copyOf(r, key.length), key)) {
        return r;
      }
    }
    throw new AssertionError("no row " + Arrays.toString(key));
  }
}
