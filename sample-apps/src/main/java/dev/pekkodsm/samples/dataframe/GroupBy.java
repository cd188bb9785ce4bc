package dev.pekkodsm.samples.dataframe;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The hash group-by of the ten questions, in two steps: {@link #partial} aggregates the rows of one
 * row group (where they live), {@link #merge} combines the partials of all row groups into the
 * answer. Shared by pekko-dsm and the delegation peer, so that they differ only in how rows are
 * placed and partials travel.
 *
 * <p>A group's key is a composite code of its key columns: for questions 1 to 9 one {@code long}
 * (mixed radix of the dictionary codes, and of integer keys minus one), for question 10 two (id1,
 * id2, id4, id5 in the high half, id3, id6 in the low). Groups are found by direct indexing where
 * the key space is small next to the rows, by {@link GroupHash} otherwise.
 *
 * <p>Exact semantics, as DuckDB's: sums of integers are exact; {@code avg} is the sum over the
 * count; {@code quantile_cont(v3, 0.5)} interpolates between the two middle values; {@code stddev}
 * is the sample deviation, NULL (NaN here) for one value; {@code corr(v1, v2)^2} from exact integer
 * sums, NaN where a variance is zero; the largest two v3 per group keep ties (two equal values give
 * two rows).
 */
public final class GroupBy {

  /** Integer states per question (state 0 is the count). */
  private static final int[] LONGS = {2, 2, 2, 3, 3, 1, 3, 1, 6, 1};

  /** Double states per question. */
  private static final int[] DOUBLES = {0, 0, 1, 1, 1, 0, 0, 2, 0, 1};

  /** The largest key space merged by direct indexing. */
  private static final long DENSE_LIMIT = 1L << 24;

  private GroupBy() {}

  /** The strings of the dictionary-coded columns: id1/id2's {@code k}, id3's {@code rows/k}. */
  public record Levels(String[] large, String[] small) {
    /** The levels of {@code shape}. */
    public static Levels of(GroupByShape shape) {
      return new Levels(GroupByTable.levels(shape, false), GroupByTable.levels(shape, true));
    }
  }

  /** The size of question {@code q}'s key space (questions 1 to 9). */
  static long keySpace(Question q, GroupByShape shape) {
    long k = shape.k();
    long small = shape.smallGroups();
    return switch (q) {
      case Q1, Q4 -> k;
      case Q2, Q6, Q9 -> k * k;
      case Q3, Q5, Q7, Q8 -> small;
      case Q10 -> Long.MAX_VALUE;
    };
  }

  // ------------------------------------------------------------------ where the rows live

  /** Aggregates the rows of {@code rows} for {@code q}. */
  public static Partial partial(Question q, GroupByShape shape, RowGroup rows) {
    int n = rows.rows();
    int[] gid;
    int groups;
    long[] keys;
    long[] keysHigh = new long[0];
    boolean dense = q != Question.Q10 && keySpace(q, shape) <= 2L * n + 16;
    if (q == Question.Q10) {
      GroupHash hash = new GroupHash(n);
      gid = new int[n];
      long k = shape.k();
      long small = shape.smallGroups();
      for (int i = 0; i < n; i++) {
        long high = ((rows.id1[i] * k + rows.id2[i]) * k + rows.id4[i] - 1) * k + rows.id5[i] - 1;
        long low = rows.id3[i] * small + rows.id6[i] - 1;
        gid[i] = hash.add(high, low);
      }
      groups = hash.size();
      keysHigh = Arrays.copyOf(hash.high(), groups);
      keys = Arrays.copyOf(hash.low(), groups);
    } else if (dense) {
      gid = codes(q, shape, rows);
      groups = (int) keySpace(q, shape);
      keys = null;
    } else {
      int[] codes = codes(q, shape, rows);
      GroupHash hash = new GroupHash(Math.min(n, (int) keySpace(q, shape)));
      gid = new int[n];
      for (int i = 0; i < n; i++) {
        gid[i] = hash.add(0, codes[i]);
      }
      groups = hash.size();
      keys = Arrays.copyOf(hash.low(), groups);
    }
    long[] l = new long[LONGS[q.ordinal()] * groups];
    double[] d = new double[DOUBLES[q.ordinal()] * groups];
    aggregate(q, rows, gid, groups, l, d);

    // Keep the groups present (all of them when hashed), and for q6 their values.
    int[] present;
    if (dense) {
      int count = 0;
      for (int g = 0; g < groups; g++) {
        if (l[g] != 0) {
          count++;
        }
      }
      present = new int[count];
      keys = new long[count];
      for (int g = 0, j = 0; g < groups; g++) {
        if (l[g] != 0) {
          present[j] = g;
          keys[j++] = g;
        }
      }
    } else {
      present = null;
    }
    int out = present == null ? groups : present.length;
    long[] outLongs = compact(l, groups, present, out);
    double[] outDoubles = compact(d, groups, present, out);
    int[] offsets = new int[0];
    double[] values = new double[0];
    if (q == Question.Q6) {
      int[] slot = new int[groups]; // group -> position in the output
      offsets = new int[out + 1];
      for (int j = 0; j < out; j++) {
        int g = present == null ? j : present[j];
        slot[g] = j;
        offsets[j + 1] = offsets[j] + (int) l[g];
      }
      values = new double[n];
      int[] next = Arrays.copyOf(offsets, out);
      for (int i = 0; i < n; i++) {
        values[next[slot[gid[i]]]++] = rows.v3[i];
      }
    }
    return new Partial(q.ordinal(), out, keysHigh, keys, outLongs, outDoubles, offsets, values);
  }

  /** The composite key code of every row, for questions 1 to 9. */
  private static int[] codes(Question q, GroupByShape shape, RowGroup r) {
    int n = r.rows();
    int k = shape.k();
    int[] c = new int[n];
    switch (q) {
      case Q1 -> System.arraycopy(r.id1, 0, c, 0, n);
      case Q2 -> {
        for (int i = 0; i < n; i++) {
          c[i] = r.id1[i] * k + r.id2[i];
        }
      }
      case Q3, Q7 -> System.arraycopy(r.id3, 0, c, 0, n);
      case Q4 -> {
        for (int i = 0; i < n; i++) {
          c[i] = r.id4[i] - 1;
        }
      }
      case Q5, Q8 -> {
        for (int i = 0; i < n; i++) {
          c[i] = r.id6[i] - 1;
        }
      }
      case Q6 -> {
        for (int i = 0; i < n; i++) {
          c[i] = (r.id4[i] - 1) * k + r.id5[i] - 1;
        }
      }
      case Q9 -> {
        for (int i = 0; i < n; i++) {
          c[i] = r.id2[i] * k + r.id4[i] - 1;
        }
      }
      case Q10 -> throw new IllegalArgumentException("q10 has a two-part key");
    }
    return c;
  }

  private static void aggregate(
      Question q, RowGroup r, int[] gid, int groups, long[] l, double[] d) {
    int n = r.rows();
    int[] v1 = r.v1;
    int[] v2 = r.v2;
    double[] v3 = r.v3;
    int g2 = 2 * groups;
    switch (q) {
      case Q1, Q2 -> {
        for (int i = 0; i < n; i++) {
          int g = gid[i];
          l[g]++;
          l[groups + g] += v1[i];
        }
      }
      case Q3 -> {
        for (int i = 0; i < n; i++) {
          int g = gid[i];
          l[g]++;
          l[groups + g] += v1[i];
          d[g] += v3[i];
        }
      }
      case Q4, Q5 -> {
        for (int i = 0; i < n; i++) {
          int g = gid[i];
          l[g]++;
          l[groups + g] += v1[i];
          l[g2 + g] += v2[i];
          d[g] += v3[i];
        }
      }
      case Q6 -> {
        for (int i = 0; i < n; i++) {
          l[gid[i]]++;
        }
      }
      case Q7 -> {
        Arrays.fill(l, groups, g2, Long.MIN_VALUE);
        Arrays.fill(l, g2, 3 * groups, Long.MAX_VALUE);
        for (int i = 0; i < n; i++) {
          int g = gid[i];
          l[g]++;
          l[groups + g] = Math.max(l[groups + g], v1[i]);
          l[g2 + g] = Math.min(l[g2 + g], v2[i]);
        }
      }
      case Q8 -> {
        Arrays.fill(d, Double.NEGATIVE_INFINITY);
        for (int i = 0; i < n; i++) {
          int g = gid[i];
          l[g]++;
          top2(d, groups, g, v3[i]);
        }
      }
      case Q9 -> {
        for (int i = 0; i < n; i++) {
          int g = gid[i];
          long x = v1[i];
          long y = v2[i];
          l[g]++;
          l[groups + g] += x;
          l[g2 + g] += y;
          l[3 * groups + g] += x * x;
          l[4 * groups + g] += y * y;
          l[5 * groups + g] += x * y;
        }
      }
      case Q10 -> {
        for (int i = 0; i < n; i++) {
          int g = gid[i];
          l[g]++;
          d[g] += v3[i];
        }
      }
    }
  }

  private static void top2(double[] d, int groups, int g, double x) {
    if (x > d[g]) {
      d[groups + g] = d[g];
      d[g] = x;
    } else if (x > d[groups + g]) {
      d[groups + g] = x;
    }
  }

  private static long[] compact(long[] states, int groups, int[] present, int out) {
    if (present == null || states.length == 0) {
      return states;
    }
    int n = states.length / groups;
    long[] c = new long[n * out];
    for (int s = 0; s < n; s++) {
      for (int j = 0; j < out; j++) {
        c[s * out + j] = states[s * groups + present[j]];
      }
    }
    return c;
  }

  private static double[] compact(double[] states, int groups, int[] present, int out) {
    if (present == null || states.length == 0) {
      return states;
    }
    int n = states.length / groups;
    double[] c = new double[n * out];
    for (int s = 0; s < n; s++) {
      for (int j = 0; j < out; j++) {
        c[s * out + j] = states[s * groups + present[j]];
      }
    }
    return c;
  }

  // ------------------------------------------------------------------ where the answer is made

  /** Merges the partials of every row group into the answer. */
  public static Answer merge(Question q, GroupByShape shape, Levels levels, List<Partial> parts) {
    Merged m = accumulate(q, shape, parts);
    return finish(
        q, shape, levels, m.groups, m.capacity, m.l, m.d, m.high, m.low, m.offsets, m.values);
  }

  /**
   * Merges partials into one partial of the same question (a node combining the partials of its own
   * row groups before they travel). Not for question 6, whose partials carry every value.
   */
  public static Partial combinePartials(Question q, GroupByShape shape, List<Partial> parts) {
    if (q == Question.Q6) {
      throw new IllegalArgumentException("q6's partials are not combined: they hold every value");
    }
    Merged m = accumulate(q, shape, parts);
    int[] present;
    long[] keys;
    long[] keysHigh = new long[0];
    if (m.low == null) {
      int count = 0;
      for (int g = 0; g < m.groups; g++) {
        if (m.l[g] != 0) {
          count++;
        }
      }
      present = new int[count];
      keys = new long[count];
      for (int g = 0, j = 0; g < m.groups; g++) {
        if (m.l[g] != 0) {
          present[j] = g;
          keys[j++] = g;
        }
      }
    } else {
      present = new int[m.groups];
      for (int g = 0; g < m.groups; g++) {
        present[g] = g;
      }
      keys = Arrays.copyOf(m.low, m.groups);
      if (q == Question.Q10) {
        keysHigh = Arrays.copyOf(m.high, m.groups);
      }
    }
    return new Partial(
        q.ordinal(),
        present.length,
        keysHigh,
        keys,
        compact(m.l, m.capacity, present, present.length),
        compact(m.d, m.capacity, present, present.length),
        new int[0],
        new double[0]);
  }

  /** Partials merged: states by group, with each group's key when hashed. */
  private record Merged(
      int groups,
      int capacity,
      long[] l,
      double[] d,
      long[] high,
      long[] low,
      int[] offsets,
      double[] values) {}

  private static Merged accumulate(Question q, GroupByShape shape, List<Partial> parts) {
    int nl = LONGS[q.ordinal()];
    int nd = DOUBLES[q.ordinal()];
    boolean dense = q != Question.Q10 && keySpace(q, shape) <= DENSE_LIMIT;
    long total = 0;
    for (Partial p : parts) {
      if (p.question() != q.ordinal()) {
        throw new IllegalArgumentException("a partial of q" + (p.question() + 1) + " for " + q);
      }
      total += p.groups();
    }
    int capacity = (int) (dense ? keySpace(q, shape) : Math.min(total, Integer.MAX_VALUE - 8));
    long[] l = new long[nl * capacity];
    double[] d = new double[nd * capacity];
    if (q == Question.Q7) {
      Arrays.fill(l, capacity, 2 * capacity, Long.MIN_VALUE);
      Arrays.fill(l, 2 * capacity, 3 * capacity, Long.MAX_VALUE);
    } else if (q == Question.Q8) {
      Arrays.fill(d, Double.NEGATIVE_INFINITY);
    }
    GroupHash hash = dense ? null : new GroupHash(Math.min(capacity, 1 << 22));
    List<int[]> gids = new ArrayList<>(parts.size());
    for (Partial p : parts) {
      int[] gid = new int[p.groups()];
      long[] high = p.keysHigh();
      long[] keys = p.keys();
      for (int j = 0; j < gid.length; j++) {
        gid[j] = dense ? (int) keys[j] : hash.add(high.length == 0 ? 0 : high[j], keys[j]);
      }
      gids.add(gid);
      combine(q, p, gid, capacity, l, d);
    }
    int groups = dense ? capacity : hash.size();
    int[] offsets = null;
    double[] values = null;
    if (q == Question.Q6) {
      offsets = new int[groups + 1];
      for (int g = 0; g < groups; g++) {
        offsets[g + 1] = offsets[g] + (int) l[g];
      }
      values = new double[offsets[groups]];
      int[] next = Arrays.copyOf(offsets, groups);
      for (int i = 0; i < parts.size(); i++) {
        Partial p = parts.get(i);
        int[] gid = gids.get(i);
        for (int j = 0; j < p.groups(); j++) {
          int from = p.offsets()[j];
          int length = p.offsets()[j + 1] - from;
          System.arraycopy(p.values(), from, values, next[gid[j]], length);
          next[gid[j]] += length;
        }
      }
    }
    return new Merged(
        groups,
        capacity,
        l,
        d,
        dense ? null : hash.high(),
        dense ? null : hash.low(),
        offsets,
        values);
  }

  private static void combine(
      Question q, Partial p, int[] gid, int capacity, long[] l, double[] d) {
    int n = p.groups();
    long[] pl = p.longs();
    double[] pd = p.doubles();
    int nl = pl.length / Math.max(1, n);
    for (int s = 0; s < nl; s++) {
      int to = s * capacity;
      int from = s * n;
      if (q == Question.Q7 && s == 1) {
        for (int j = 0; j < n; j++) {
          l[to + gid[j]] = Math.max(l[to + gid[j]], pl[from + j]);
        }
      } else if (q == Question.Q7 && s == 2) {
        for (int j = 0; j < n; j++) {
          l[to + gid[j]] = Math.min(l[to + gid[j]], pl[from + j]);
        }
      } else {
        for (int j = 0; j < n; j++) {
          l[to + gid[j]] += pl[from + j];
        }
      }
    }
    if (q == Question.Q8) {
      for (int j = 0; j < n; j++) {
        top2(d, capacity, gid[j], pd[j]);
        top2(d, capacity, gid[j], pd[n + j]);
      }
    } else if (pd.length > 0) {
      int nd = pd.length / n;
      for (int s = 0; s < nd; s++) {
        for (int j = 0; j < n; j++) {
          d[s * capacity + gid[j]] += pd[s * n + j];
        }
      }
    }
  }

  private static Answer finish(
      Question q,
      GroupByShape shape,
      Levels levels,
      int groups,
      int capacity,
      long[] l,
      double[] d,
      long[] high,
      long[] low,
      int[] offsets,
      double[] values) {
    // The groups present, in key order when dense.
    int rows = 0;
    for (int g = 0; g < groups; g++) {
      if (l[g] != 0) {
        rows += q == Question.Q8 && l[g] >= 2 ? 2 : 1;
      }
    }
    int[] group = new int[rows];
    for (int g = 0, r = 0; g < groups; g++) {
      if (l[g] != 0) {
        group[r++] = g;
        if (q == Question.Q8 && l[g] >= 2) {
          group[r++] = g;
        }
      }
    }
    long k = shape.k();
    long small = shape.smallGroups();
    int c = capacity;
    List<Answer.Column> cols = new ArrayList<>();
    long[] key = new long[rows];
    for (int r = 0; r < rows; r++) {
      key[r] = low == null ? group[r] : low[group[r]];
    }
    switch (q) {
      case Q1 -> {
        cols.add(strings(key, 1, k, levels.large()));
        cols.add(longs(l, c, 1, group));
      }
      case Q2 -> {
        cols.add(strings(key, k, k, levels.large()));
        cols.add(strings(key, 1, k, levels.large()));
        cols.add(longs(l, c, 1, group));
      }
      case Q3 -> {
        cols.add(strings(key, 1, small, levels.small()));
        cols.add(longs(l, c, 1, group));
        cols.add(means(d, c, 0, l, group));
      }
      case Q4 -> {
        cols.add(integers(key, 1, k));
        cols.add(means(l, c, 1, group));
        cols.add(means(l, c, 2, group));
        cols.add(means(d, c, 0, l, group));
      }
      case Q5 -> {
        cols.add(integers(key, 1, small));
        cols.add(longs(l, c, 1, group));
        cols.add(longs(l, c, 2, group));
        cols.add(doubles(d, c, 0, group));
      }
      case Q6 -> {
        cols.add(integers(key, k, k));
        cols.add(integers(key, 1, k));
        double[] median = new double[rows];
        double[] sd = new double[rows];
        for (int r = 0; r < rows; r++) {
          int g = group[r];
          median[r] = Statistics.median(values, offsets[g], offsets[g + 1]);
          sd[r] = Statistics.sampleDeviation(values, offsets[g], offsets[g + 1]);
        }
        cols.add(new Answer.Doubles(median));
        cols.add(new Answer.Doubles(sd));
      }
      case Q7 -> {
        cols.add(strings(key, 1, small, levels.small()));
        long[] range = new long[rows];
        for (int r = 0; r < rows; r++) {
          range[r] = l[c + group[r]] - l[2 * c + group[r]];
        }
        cols.add(new Answer.Longs(range));
      }
      case Q8 -> {
        cols.add(integers(key, 1, small));
        double[] top = new double[rows];
        for (int r = 0; r < rows; r++) {
          boolean second = r > 0 && group[r - 1] == group[r];
          top[r] = d[(second ? c : 0) + group[r]];
        }
        cols.add(new Answer.Doubles(top));
      }
      case Q9 -> {
        cols.add(strings(key, k, k, levels.large()));
        cols.add(integers(key, 1, k));
        double[] r2 = new double[rows];
        for (int r = 0; r < rows; r++) {
          int g = group[r];
          r2[r] =
              Statistics.r2(l[g], l[c + g], l[2 * c + g], l[3 * c + g], l[4 * c + g], l[5 * c + g]);
        }
        cols.add(new Answer.Doubles(r2));
      }
      case Q10 -> {
        long[] hi = new long[rows];
        for (int r = 0; r < rows; r++) {
          hi[r] = high[group[r]];
        }
        cols.add(strings(hi, k * k * k, k, levels.large()));
        cols.add(strings(hi, k * k, k, levels.large()));
        cols.add(strings(key, small, small, levels.small()));
        cols.add(integers(hi, k, k));
        cols.add(integers(hi, 1, k));
        cols.add(integers(key, 1, small));
        cols.add(doubles(d, c, 0, group));
        cols.add(longs(l, c, 0, group));
      }
    }
    return new Answer(q, rows, cols);
  }

  /** Digit {@code (key / divisor) % radix} of each key, as codes into {@code levels}. */
  private static Answer.Strings strings(long[] key, long divisor, long radix, String[] levels) {
    int[] codes = new int[key.length];
    for (int r = 0; r < key.length; r++) {
      codes[r] = (int) ((key[r] / divisor) % radix);
    }
    return new Answer.Strings(codes, levels);
  }

  /** Digit {@code (key / divisor) % radix} of each key, plus one: an integer key column. */
  private static Answer.Longs integers(long[] key, long divisor, long radix) {
    long[] out = new long[key.length];
    for (int r = 0; r < key.length; r++) {
      out[r] = (key[r] / divisor) % radix + 1;
    }
    return new Answer.Longs(out);
  }

  private static Answer.Longs longs(long[] l, int capacity, int state, int[] group) {
    long[] out = new long[group.length];
    for (int r = 0; r < group.length; r++) {
      out[r] = l[state * capacity + group[r]];
    }
    return new Answer.Longs(out);
  }

  private static Answer.Doubles doubles(double[] d, int capacity, int state, int[] group) {
    double[] out = new double[group.length];
    for (int r = 0; r < group.length; r++) {
      out[r] = d[state * capacity + group[r]];
    }
    return new Answer.Doubles(out);
  }

  /** Sum state {@code state} of {@code l} over the count. */
  private static Answer.Doubles means(long[] l, int capacity, int state, int[] group) {
    double[] out = new double[group.length];
    for (int r = 0; r < group.length; r++) {
      out[r] = l[state * capacity + group[r]] / (double) l[group[r]];
    }
    return new Answer.Doubles(out);
  }

  private static Answer.Doubles means(double[] d, int capacity, int state, long[] l, int[] group) {
    double[] out = new double[group.length];
    for (int r = 0; r < group.length; r++) {
      out[r] = d[state * capacity + group[r]] / l[group[r]];
    }
    return new Answer.Doubles(out);
  }
}
