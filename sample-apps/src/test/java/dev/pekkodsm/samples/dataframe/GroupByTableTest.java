package dev.pekkodsm.samples.dataframe;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The generator, the cache file and the group-by's own arithmetic. */
class GroupByTableTest {

  @Test
  void shouldGenerateDbBenchmarksColumnsOnceAndReuseTheFile(@TempDir Path dir) throws Exception {
    GroupByShape shape = new GroupByShape(100_000, 100);
    assertEquals("G1_1e5_1e2_0_0", shape.name());
    Path file = GroupByTable.ensure(dir, shape, 108);
    assertEquals(dir.resolve("G1_1e5_1e2_0_0.bin"), file);
    RowGroup all = GroupByTable.readAll(file);
    assertRange(all.id1, 0, 99, 100);
    assertRange(all.id2, 0, 99, 100);
    assertRange(all.id3, 0, 999, 900);
    assertRange(all.id4, 1, 100, 100);
    assertRange(all.id5, 1, 100, 100);
    assertRange(all.id6, 1, 1000, 900);
    assertRange(all.v1, 1, 5, 5);
    assertRange(all.v2, 1, 15, 15);
    for (double v : all.v3) {
      assertTrue(v >= 0 && v <= 100 && Math.abs(v * 1e6 - Math.rint(v * 1e6)) < 1e-3, "v3 " + v);
    }
    assertEquals("id001", GroupByTable.level(shape, false, 0));
    assertEquals("id0000001000", GroupByTable.level(shape, true, 999));

    RowGroup slice = GroupByTable.read(file, 500, 700);
    assertArrayEquals(Arrays.copyOfRange(all.v3, 500, 700), slice.v3);
    assertArrayEquals(Arrays.copyOfRange(all.id6, 500, 700), slice.id6);

    FileTime written = Files.getLastModifiedTime(file);
    Files.setLastModifiedTime(file, FileTime.fromMillis(written.toMillis() - 10_000));
    FileTime before = Files.getLastModifiedTime(file);
    GroupByTable.ensure(dir, shape, 108);
    assertEquals(before, Files.getLastModifiedTime(file), "the cache file is reused");

    Path again = GroupByTable.ensure(dir.resolve("other"), shape, 108);
    assertArrayEquals(Files.readAllBytes(file), Files.readAllBytes(again), "deterministic");
  }

  private static void assertRange(int[] column, int min, int max, int distinctAtLeast) {
    int lo = Arrays.stream(column).min().getAsInt();
    int hi = Arrays.stream(column).max().getAsInt();
    assertEquals(min, lo);
    assertEquals(max, hi);
    assertTrue(Arrays.stream(column).distinct().count() >= distinctAtLeast);
  }

  @Test
  void shouldRejectAMissingATruncatedAndAForeignFile(@TempDir Path dir) throws Exception {
    IllegalArgumentException missing =
        assertThrows(
            IllegalArgumentException.class, () -> GroupByTable.shapeOf(dir.resolve("none.bin")));
    assertTrue(missing.getMessage().contains("does not exist"), missing.getMessage());

    Path file = GroupByTable.ensure(dir, new GroupByShape(1000, 10), 1);
    byte[] bytes = Files.readAllBytes(file);
    Path truncated = dir.resolve("truncated.bin");
    Files.write(truncated, Arrays.copyOf(bytes, bytes.length - 8));
    IllegalArgumentException shortFile =
        assertThrows(IllegalArgumentException.class, () -> GroupByTable.shapeOf(truncated));
    assertTrue(shortFile.getMessage().contains("delete it"), shortFile.getMessage());

    Path foreign = dir.resolve("foreign.bin");
    Files.writeString(foreign, "id1,id2,id3\n");
    IllegalArgumentException notATable =
        assertThrows(IllegalArgumentException.class, () -> GroupByTable.shapeOf(foreign));
    assertTrue(notATable.getMessage().contains("not a group-by table"), notATable.getMessage());
  }

  @Test
  void shouldRejectAShapeWhoseRowsAreNotAMultipleOfK() {
    assertThrows(IllegalArgumentException.class, () -> new GroupByShape(1001, 10));
    assertThrows(IllegalArgumentException.class, () -> new GroupByShape(10, 0));
    assertEquals(10_000_000, GroupByShape.parseCount("1e7"));
    assertThrows(IllegalArgumentException.class, () -> GroupByShape.parseCount("lots"));
    assertThrows(IllegalArgumentException.class, () -> GroupByShape.parseCount("2.5"));
  }

  @Test
  void shouldSpreadBlocksOverTheNodes() {
    GroupByShape shape = new GroupByShape(10_000_000, 100);
    assertEquals(GroupByShape.MAX_BLOCK_ROWS, shape.blockRows(3));
    assertEquals(77, shape.blocks(3));
    assertEquals(5, new GroupByShape(60, 3).blockRows(3));
    assertEquals(12, new GroupByShape(60, 3).blocks(3));
  }

  @Test
  void shouldComputeMediansLikeQuantileCont() {
    SplittableRandom random = new SplittableRandom(3);
    for (int n = 1; n < 60; n++) {
      double[] v = new double[n + 4];
      for (int i = 0; i < v.length; i++) {
        v[i] = random.nextInt(20); // many ties
      }
      double[] sorted = Arrays.copyOfRange(v, 2, 2 + n);
      Arrays.sort(sorted);
      double expected =
          n % 2 == 1
              ? sorted[n / 2]
              : sorted[n / 2 - 1] + 0.5 * (sorted[n / 2] - sorted[n / 2 - 1]);
      assertEquals(expected, Statistics.median(v, 2, 2 + n), 0.0, "n=" + n);
    }
    assertTrue(Double.isNaN(Statistics.sampleDeviation(new double[] {4}, 0, 1)));
    assertEquals(Math.sqrt(2), Statistics.sampleDeviation(new double[] {1, 3}, 0, 2), 1e-15);
    assertTrue(Double.isNaN(Statistics.r2(3, 6, 9, 12, 30, 18)), "x constant");
    assertEquals(1.0, Statistics.r2(3, 6, 12, 14, 56, 28), 1e-15, "y = 2x");
  }
}
