package dev.pekkodsm.samples.dataframe;

/**
 * The statistics db-benchmark's group-by questions ask for, computed as DuckDB computes them (the
 * reference answers come from DuckDB): a squared correlation from exact sums, a continuous median,
 * a sample deviation. Pure functions over ranges of arrays, shared by every system that finishes
 * answers on the caller.
 */
final class Statistics {

  private Statistics() {}

  /**
   * {@code pow(corr(x, y), 2)} from exact sums over {@code n} rows: NaN where x or y does not vary
   * (DuckDB's NaN or NULL there).
   */
  static double r2(long n, long sx, long sy, long sxx, long syy, long sxy) {
    double cov = (double) (n * sxy - sx * sy);
    double vx = (double) (n * sxx - sx * sx);
    double vy = (double) (n * syy - sy * sy);
    double corr = vx == 0 || vy == 0 ? Double.NaN : cov / Math.sqrt(vx * vy);
    return corr * corr;
  }

  /** {@code quantile_cont(x, 0.5)} of {@code v[from, to)}; reorders that range. */
  static double median(double[] v, int from, int to) {
    int n = to - from;
    double position = (n - 1) * 0.5;
    int lo = from + (int) Math.floor(position);
    double low = select(v, from, to - 1, lo);
    if (position == Math.floor(position)) {
      return low;
    }
    double high = Double.POSITIVE_INFINITY;
    for (int i = lo + 1; i < to; i++) {
      high = Math.min(high, v[i]);
    }
    return low + (position - Math.floor(position)) * (high - low);
  }

  /** Hoare's selection: puts the {@code k}-th smallest of {@code v[lo..hi]} at {@code k}. */
  private static double select(double[] v, int lo, int hi, int k) {
    while (hi > lo) {
      double pivot = v[(lo + hi) >>> 1];
      int i = lo;
      int j = hi;
      while (i <= j) {
        while (v[i] < pivot) {
          i++;
        }
        while (v[j] > pivot) {
          j--;
        }
        if (i <= j) {
          double t = v[i];
          v[i++] = v[j];
          v[j--] = t;
        }
      }
      if (k <= j) {
        hi = j;
      } else if (k >= i) {
        lo = i;
      } else {
        return v[k];
      }
    }
    return v[k];
  }

  /** {@code stddev(x)}, the sample deviation, NaN for fewer than two values. */
  static double sampleDeviation(double[] v, int from, int to) {
    int n = to - from;
    if (n < 2) {
      return Double.NaN;
    }
    double sum = 0;
    for (int i = from; i < to; i++) {
      sum += v[i];
    }
    double mean = sum / n;
    double squares = 0;
    for (int i = from; i < to; i++) {
      double e = v[i] - mean;
      squares += e * e;
    }
    return Math.sqrt(squares / (n - 1));
  }
}
