package dev.pekkodsm.samples.socialnet;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class SocialGraphTest {

  @Test
  void shouldHaveReed98sSizeWithEveryUserFollowedAndFollowsBothWays() {
    SocialGraph g = SocialGraph.generate(42);
    assertEquals(962, g.users());
    assertEquals(18_812, g.edges());
    long ends = 0;
    for (int u = 0; u < g.users(); u++) {
      assertTrue(g.followers(u).length >= 1, "user " + u + " has a follower");
      for (int f : g.followers(u)) {
        assertTrue(f != u, "no self-follow");
        assertTrue(g.follows(u, f), u + " and " + f + " follow each other");
      }
      ends += g.followers(u).length;
    }
    assertEquals(2L * 18_812, ends, "no duplicate edge");
  }

  @Test
  void shouldBeTheSameGraphForTheSameSeedAndAnotherForAnother() {
    SocialGraph a = SocialGraph.generate(42);
    SocialGraph b = SocialGraph.generate(42);
    SocialGraph c = SocialGraph.generate(43);
    boolean differs = false;
    for (int u = 0; u < a.users(); u++) {
      assertArrayEquals(a.followers(u), b.followers(u));
      differs |= !java.util.Arrays.equals(a.followers(u), c.followers(u));
    }
    assertTrue(differs);
  }

  @Test
  void shouldHaveAHeavyTailedDegreeDistributionLikeReed98s() {
    SocialGraph.DegreeStats s = SocialGraph.generate(42).degreeStats();
    // socfb-Reed98: min 1, median 29, mean 39.1, p90 87, p99 157, max 313, top tenth 30 %.
    assertEquals(1, s.min(), s.toString());
    assertEquals(39.11, s.mean(), 0.01, s.toString());
    assertTrue(s.median() >= 24 && s.median() <= 34, s.toString());
    assertTrue(s.max() >= 5 * s.mean(), "hubs: " + s);
    assertTrue(s.p99() >= 3.5 * s.mean(), s.toString());
    assertTrue(s.topTenthShare() >= 0.27 && s.topTenthShare() <= 0.36, s.toString());
  }

  @Test
  void shouldRefuseImpossibleSizes() {
    assertThrows(IllegalArgumentException.class, () -> SocialGraph.generate(1, 1, 1));
    assertThrows(IllegalArgumentException.class, () -> SocialGraph.generate(10, 40, 1));
  }
}
