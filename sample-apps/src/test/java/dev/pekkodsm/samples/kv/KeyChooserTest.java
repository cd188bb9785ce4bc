package dev.pekkodsm.samples.kv;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class KeyChooserTest {

  @Test
  void shouldDrawZipfianRanksWithTheExpectedHeadAndTail() {
    int n = 10_000;
    KeyChooser chooser = new KeyChooser(n, 0.99, 1);
    SplittableRandom random = new SplittableRandom(2);
    int draws = 400_000;
    int[] counts = new int[n];
    for (int i = 0; i < draws; i++) {
      counts[chooser.rank(random)]++;
    }
    double zetan = 0;
    for (int i = 1; i <= n; i++) {
      zetan += 1 / Math.pow(i, 0.99);
    }
    // P(rank 0) = 1 / zeta(n); P(rank 9) = 1 / (10^0.99 zeta(n)).
    assertEquals(1 / zetan, counts[0] / (double) draws, 0.005);
    assertEquals(1 / (Math.pow(10, 0.99) * zetan), counts[9] / (double) draws, 0.003);
    int top100 = 0;
    for (int i = 0; i < 100; i++) {
      top100 += counts[i];
    }
    assertTrue(top100 > draws / 2, "a zipf 0.99 head: the top 1 % of keys take over half");
  }

  @Test
  void shouldSpreadUniformDrawsAndMapRanksToEveryKeyOnce() {
    int n = 1000;
    KeyChooser chooser = new KeyChooser(n, 0, 3);
    SplittableRandom random = new SplittableRandom(4);
    int[] counts = new int[n];
    for (int i = 0; i < 200_000; i++) {
      counts[(int) chooser.next(random)]++;
    }
    for (int c : counts) {
      assertTrue(c > 100 && c < 320, "uniform draw count " + c);
    }
    KeyChooser zipf = new KeyChooser(n, 0.99, 3);
    boolean[] seen = new boolean[n];
    SplittableRandom r = new SplittableRandom(5);
    for (int i = 0; i < 500_000; i++) {
      seen[(int) zipf.next(r)] = true;
    }
    int distinct = 0;
    for (boolean s : seen) {
      distinct += s ? 1 : 0;
    }
    assertTrue(distinct > 900, "the permutation reaches the keys: " + distinct);
  }
}
