package dev.pekkodsm.samples.kv;

import java.util.SplittableRandom;

/**
 * Chooses keys {@code 0..n-1}: uniformly, or zipfian with constant {@code theta} by the method of
 * Gray et al. ("Quickly generating billion-record synthetic databases", SIGMOD 1994), as YCSB does.
 * Ranks are mapped to keys through a fixed random permutation, so the hot keys are spread over
 * buckets and nodes instead of being 0, 1, 2...
 *
 * <p>Immutable and shareable; each thread draws with its own {@link SplittableRandom}.
 */
final class KeyChooser {

  private final int n;
  private final double theta;
  private final double zetan;
  private final double alpha;
  private final double eta;
  private final double half;
  private final int[] keyOfRank;

  KeyChooser(int n, double theta, long seed) {
    if (n <= 0) {
      throw new IllegalArgumentException("n=" + n + " must be > 0");
    }
    this.n = n;
    this.theta = theta;
    if (theta > 0) {
      zetan = zeta(n, theta);
      double zeta2 = zeta(2, theta);
      alpha = 1.0 / (1.0 - theta);
      eta = (1 - Math.pow(2.0 / n, 1 - theta)) / (1 - zeta2 / zetan);
      half = 1 + Math.pow(0.5, theta);
    } else {
      zetan = alpha = eta = half = 0;
    }
    keyOfRank = new int[n];
    for (int i = 0; i < n; i++) {
      keyOfRank[i] = i;
    }
    SplittableRandom shuffle = new SplittableRandom(seed ^ 0x5DEECE66DL);
    for (int i = n - 1; i > 0; i--) {
      int j = shuffle.nextInt(i + 1);
      int t = keyOfRank[i];
      keyOfRank[i] = keyOfRank[j];
      keyOfRank[j] = t;
    }
  }

  /** The next key. */
  long next(SplittableRandom random) {
    return keyOfRank[rank(random)];
  }

  /** The popularity rank of the next draw: 0 is the most popular. */
  int rank(SplittableRandom random) {
    if (theta == 0) {
      return random.nextInt(n);
    }
    double u = random.nextDouble();
    double uz = u * zetan;
    if (uz < 1.0) {
      return 0;
    }
    if (uz < half) {
      return Math.min(1, n - 1);
    }
    int r = (int) (n * Math.pow(eta * u - eta + 1, alpha));
    return Math.min(r, n - 1);
  }

  private static double zeta(long n, double theta) {
    double sum = 0;
    for (long i = 1; i <= n; i++) {
      sum += 1 / Math.pow(i, theta);
    }
    return sum;
  }
}
