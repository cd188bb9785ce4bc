package dev.pekkodsm.samples.socialnet;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;

/**
 * The social graph of the benchmark: a deterministic stand-in for socfb-Reed98, the Facebook
 * friendship graph DeathStarBench loads (962 users, 18,812 undirected edges), which cannot be
 * downloaded here.
 *
 * <p>Generation (Chung-Lu): each user gets a weight drawn from a log-normal distribution ({@code
 * exp(N(0, 0.9))}, {@link java.util.Random} seeded with {@code seed}); edges are drawn by picking
 * both ends with probability proportional to weight, dropping self-loops and duplicates, until the
 * graph has exactly {@link #EDGES} edges. A user left without an edge is then joined to a partner
 * chosen by weight, and an edge between two users of degree at least two is removed for it, so the
 * count stays exact. The expected degree of a user is proportional to its weight, so the degrees
 * are heavy-tailed. With the benchmark's seed (42): minimum 1, median 30, mean 39.1, 90th
 * percentile 85, 99th 166, maximum 288, and the 10 % best-connected users hold 30.5 % of the edge
 * ends; socfb-Reed98 has 1, 29, 39.1, 87, 157, 313 and 30.5 %.
 *
 * <p>As DeathStarBench's loader does, each undirected edge is a follow in both directions, so a
 * user's followers and followees are the same set. Immutable and thread-safe once built.
 */
public final class SocialGraph {

  /** Users, as in socfb-Reed98. */
  public static final int USERS = 962;

  /** Undirected edges, as in socfb-Reed98. */
  public static final int EDGES = 18_812;

  /** Spread of the log-normal weights; 0.9 matches socfb-Reed98's degree percentiles best. */
  static final double WEIGHT_SIGMA = 0.9;

  private final int[][] neighbours;
  private final int edges;

  private SocialGraph(int[][] neighbours, int edges) {
    this.neighbours = neighbours;
    this.edges = edges;
  }

  /**
   * The benchmark's graph: {@link #USERS} users, {@link #EDGES} edges, generated from {@code seed}.
   */
  public static SocialGraph generate(long seed) {
    return generate(USERS, EDGES, seed);
  }

  /**
   * A graph of {@code users} users and {@code edgeCount} edges, generated as described above.
   *
   * @throws IllegalArgumentException if the edges cannot fit (more than a complete graph) or are
   *     too few to give every user one
   */
  public static SocialGraph generate(int users, int edgeCount, long seed) {
    if (users < 2) {
      throw new IllegalArgumentException("users=" + users + " must be >= 2");
    }
    long complete = (long) users * (users - 1) / 2;
    if (edgeCount < users || edgeCount > complete / 2) {
      throw new IllegalArgumentException(
          "edges="
              + edgeCount
              + " must be between users="
              + users
              + " and half a complete graph ("
              + complete / 2
              + ")");
    }
    Random random = new Random(seed);
    double[] cumulative = new double[users];
    double total = 0;
    for (int u = 0; u < users; u++) {
      total += Math.exp(random.nextGaussian() * WEIGHT_SIGMA);
      cumulative[u] = total;
    }
    Set<Long> edgeSet = new HashSet<>();
    List<Long> edgeList = new ArrayList<>();
    int[] degree = new int[users];
    while (edgeList.size() < edgeCount) {
      int a = pick(cumulative, total, random);
      int b = pick(cumulative, total, random);
      if (a != b && edgeSet.add(key(a, b))) {
        edgeList.add(key(a, b));
        degree[a]++;
        degree[b]++;
      }
    }
    for (int u = 0; u < users; u++) {
      if (degree[u] > 0) {
        continue;
      }
      int partner;
      do {
        partner = pick(cumulative, total, random);
      } while (partner == u);
      // Make room: remove the first edge (in drawing order) whose ends both keep an edge.
      for (int i = 0; i < edgeList.size(); i++) {
        long e = edgeList.get(i);
        int x = (int) (e >>> 32);
        int y = (int) e;
        if (degree[x] > 1 && degree[y] > 1 && x != partner && y != partner) {
          edgeList.remove(i);
          edgeSet.remove(e);
          degree[x]--;
          degree[y]--;
          break;
        }
      }
      edgeList.add(key(u, partner));
      edgeSet.add(key(u, partner));
      degree[u]++;
      degree[partner]++;
    }
    int[][] neighbours = new int[users][];
    int[] filled = new int[users];
    for (int u = 0; u < users; u++) {
      neighbours[u] = new int[degree[u]];
    }
    for (long e : edgeList) {
      int x = (int) (e >>> 32);
      int y = (int) e;
      neighbours[x][filled[x]++] = y;
      neighbours[y][filled[y]++] = x;
    }
    for (int[] n : neighbours) {
      Arrays.sort(n);
    }
    return new SocialGraph(neighbours, edgeList.size());
  }

  private static int pick(double[] cumulative, double total, Random random) {
    int i = Arrays.binarySearch(cumulative, random.nextDouble() * total);
    return Math.min(cumulative.length - 1, i >= 0 ? i : -i - 1);
  }

  private static long key(int a, int b) {
    return ((long) Math.min(a, b) << 32) | Math.max(a, b);
  }

  /** Number of users; user ids are {@code 0..users()-1}. */
  public int users() {
    return neighbours.length;
  }

  /** Number of undirected edges. */
  public int edges() {
    return edges;
  }

  /** The followers of {@code user} (also its followees), ascending. Do not modify. */
  public int[] followers(int user) {
    return neighbours[user];
  }

  /** Whether {@code follower} follows {@code user}. */
  public boolean follows(int follower, int user) {
    return Arrays.binarySearch(neighbours[user], follower) >= 0;
  }

  /** The user's name, as DeathStarBench's loader registers it. */
  public static String username(int user) {
    return "username_" + user;
  }

  /** Degree statistics, for the documentation and the run's description. */
  public DegreeStats degreeStats() {
    int[] d = new int[neighbours.length];
    long sum = 0;
    for (int u = 0; u < d.length; u++) {
      d[u] = neighbours[u].length;
      sum += d[u];
    }
    Arrays.sort(d);
    long top = 0;
    for (int i = d.length - d.length / 10; i < d.length; i++) {
      top += d[i];
    }
    return new DegreeStats(
        d[0],
        d[d.length / 2],
        sum / (double) d.length,
        d[(int) (0.9 * d.length)],
        d[(int) (0.99 * d.length)],
        d[d.length - 1],
        top / (double) sum);
  }

  /**
   * Degree percentiles of a graph and the share of edge ends held by the best-connected tenth of
   * the users (0.1 for a regular graph).
   */
  public record DegreeStats(
      int min, int median, double mean, int p90, int p99, int max, double topTenthShare) {}
}
