package dev.pekkodsm.samples.gemm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Products on grids that do not split evenly and on node counts that do not divide the grid, every
 * cell checked (all-ones inputs) or one per tile plus Freivalds' check (random inputs); and the
 * checks themselves, which must catch a wrong product.
 */
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class GemmCorrectnessTest {

  private static GemmResult run(String system, int nodes, GemmSpec spec) throws Exception {
    GemmResult r = new GemmBench(spec, System.out, false).run(system, nodes);
    assertTrue(r.correct(), system + " on " + nodes + " nodes, " + spec + ": " + r);
    return r;
  }

  @Test
  void shouldRecurseThroughOddGridsWithStrassen() throws Exception {
    // 5 x 5 tiles: halves of 3 (padded), then 2, then leaves of one tile; 3 nodes.
    GemmResult r = run("dsm-strassen", 3, new GemmSpec(80, 16, GemmSpec.Inputs.ONES, 1, 1));
    assertEquals(80L * 80, r.exactCellsChecked(), "every cell");
    // 6 x 6 tiles with leaves of up to 2 x 2: 6 -> 3 -> 2, random inputs.
    run("dsm-strassen", 2, new GemmSpec(96, 16, GemmSpec.Inputs.RANDOM, 2, 2));
  }

  @Test
  void shouldMultiplyOddGridsOnNodeCountsThatDoNotDivideThem() throws Exception {
    GemmSpec fiveByFive = new GemmSpec(80, 16, GemmSpec.Inputs.RANDOM, 3, 1);
    run("dsm", 2, fiveByFive);
    run("delegation", 3, new GemmSpec(48, 16, GemmSpec.Inputs.ONES, 4, 1));
    run("messages", 2, fiveByFive);
    run("local", 1, fiveByFive);
  }

  @Test
  void shouldMultiplyASingleTileOnMoreNodesThanTiles() throws Exception {
    GemmSpec one = new GemmSpec(32, 32, GemmSpec.Inputs.ONES, 5, 1);
    run("dsm", 3, one);
    run("messages", 3, one);
  }

  @Test
  void shouldCatchAWrongCellAndAMisplacedTile() throws Exception {
    GemmSpec spec = new GemmSpec(64, 16, GemmSpec.Inputs.RANDOM, 6, 1);
    LocalGemm right = (LocalGemm) LocalGemm.start(1, spec);
    right.load();
    right.multiply(new java.util.concurrent.atomic.AtomicLong());
    GemmCheck check = new GemmCheck(spec);
    assertTrue(check.check(right::resultTile).correct());

    GemmCheck.Outcome oneCellOff =
        check.check(
            index -> {
              double[] tile = right.resultTile(index);
              if (index == 5) {
                tile[100] += 1;
              }
              return tile;
            });
    assertFalse(oneCellOff.correct());
    assertTrue(oneCellOff.freivaldsMaxError() > 0);

    GemmCheck.Outcome swapped =
        check.check(index -> right.resultTile(index == 1 ? 4 : index == 4 ? 1 : index));
    assertFalse(swapped.correct());
    assertTrue(swapped.wrongCells() > 0, "the exact cells see it too");

    GemmSpec ones = new GemmSpec(64, 16, GemmSpec.Inputs.ONES, 6, 1);
    GemmCheck.Outcome zeros = new GemmCheck(ones).check(index -> new double[16 * 16]);
    assertFalse(zeros.correct());
    assertEquals(64L * 64, zeros.wrongCells());
  }
}
