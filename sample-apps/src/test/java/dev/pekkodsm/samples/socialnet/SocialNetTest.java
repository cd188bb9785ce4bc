package dev.pekkodsm.samples.socialnet;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The services on three nodes, in every variant: text, fan-out, timelines, retention, media, and
 * that the three variants answer a request sequence alike and the DSM variant leaks nothing. One
 * cluster per variant, shared by the tests; each test starts by deleting every post.
 */
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class SocialNetTest {

  static final SocialGraph GRAPH = SocialGraph.generate(42);
  static final MediaShape SHAPE = new MediaShape(2, 40, 30);
  static final Media CLIP = Media.clip(SHAPE, 5);
  static final int RETAINED = 6;
  static final Map<String, SocialNet> NETS = new HashMap<>();
  static final Map<String, long[]> OBJECTS_AT_START = new HashMap<>();

  static synchronized SocialNet net(String variant) {
    return NETS.computeIfAbsent(
        variant,
        v -> {
          SocialNet net =
              SocialNet.start(
                  v, new SocialNet.Settings(3, GRAPH, SHAPE, RETAINED, Duration.ofSeconds(20)));
          OBJECTS_AT_START.put(v, net.dsmObjects());
          return net;
        });
  }

  /** A clean cluster: no post anywhere. */
  static SocialNet clean(String variant) {
    SocialNet net = net(variant);
    net.deleteAll();
    return net;
  }

  @AfterAll
  static void stop() {
    NETS.values().forEach(SocialNet::close);
    NETS.clear();
  }

  static <T> T await(CompletionStage<T> stage) throws Exception {
    return stage.toCompletableFuture().get(60, TimeUnit.SECONDS);
  }

  static long[] ids(SnClient.Timeline t) {
    return t.posts().stream().mapToLong(v -> v.post().postId()).toArray();
  }

  /** A user who follows neither {@code a} nor {@code b} and is neither. */
  static int stranger(int a, int b) {
    for (int u = 0; u < GRAPH.users(); u++) {
      if (u != a && u != b && !GRAPH.follows(u, a) && !GRAPH.follows(u, b)) {
        return u;
      }
    }
    throw new IllegalStateException("everyone follows " + a + " or " + b);
  }

  @ParameterizedTest
  @ValueSource(strings = {"dsm", "values", "hazelcast"})
  void shouldResolveMentionsAndShortenUrls(String variant) throws Exception {
    SocialNet net = clean(variant);
    String text =
        "hi @username_17 and @username_900, not @nobody: see http://example.com/a?b and"
            + " https://pekko.apache.org";
    Post post = await(net.client(1).compose(3, text, CLIP)).post();
    assertEquals(3, post.authorId());
    assertEquals("username_3", post.authorName());
    assertArrayEquals(new int[] {17, 900}, post.mentionIds(), "unknown names are left out");
    assertArrayEquals(new String[] {"username_17", "username_900"}, post.mentionNames());
    assertArrayEquals(
        new String[] {"http://example.com", "https://pekko.apache.org"},
        post.expandedUrls(),
        "DeathStarBench's url pattern stops at '/'");
    for (String s : post.shortUrls()) {
      assertTrue(s.matches("http://short-url/[a-zA-Z0-9]{10}"), s);
    }
    assertEquals(
        "hi @username_17 and @username_900, not @nobody: see "
            + post.shortUrls()[0]
            + "/a?b and "
            + post.shortUrls()[1],
        post.text());
    assertEquals(UrlShortenService.shorten("http://example.com"), post.shortUrls()[0]);
  }

  @ParameterizedTest
  @ValueSource(strings = {"dsm", "values", "hazelcast"})
  void shouldFanOutToFollowersAndMentionedUsersOnly(String variant) throws Exception {
    SocialNet net = clean(variant);
    int author = 10;
    int mentioned = stranger(author, author);
    int outsider = stranger(author, mentioned);
    Post post =
        await(net.client(0).compose(author, "ping @" + SocialGraph.username(mentioned), CLIP))
            .post();
    int[] followers = GRAPH.followers(author);
    assertTrue(followers.length > 0);
    for (int i = 0; i < followers.length; i++) {
      SnClient.Timeline home = await(net.client(i % 3).readHomeTimeline(followers[i], 0, 10));
      assertArrayEquals(
          new long[] {post.postId()}, ids(home), "follower " + followers[i] + " sees the post");
    }
    assertArrayEquals(
        new long[] {post.postId()}, ids(await(net.client(2).readHomeTimeline(mentioned, 0, 10))));
    assertEquals(0, await(net.client(1).readHomeTimeline(outsider, 0, 10)).listed());
    assertEquals(0, await(net.client(1).readHomeTimeline(author, 0, 10)).listed());
    assertArrayEquals(
        new long[] {post.postId()}, ids(await(net.client(1).readUserTimeline(author, 0, 10))));
  }

  @ParameterizedTest
  @ValueSource(strings = {"dsm", "values", "hazelcast"})
  void shouldKeepTimelinesNewestFirstAndPagesBounded(String variant) throws Exception {
    SocialNet net = clean(variant);
    int author = 20;
    List<Long> posted = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      posted.add(await(net.client(i % 3).compose(author, "post " + i, CLIP)).post().postId());
    }
    long[] newestFirst = {
      posted.get(4), posted.get(3), posted.get(2), posted.get(1), posted.get(0)
    };
    assertArrayEquals(newestFirst, ids(await(net.client(0).readUserTimeline(author, 0, 10))));
    SnClient.Timeline first = await(net.client(1).readUserTimeline(author, 0, 3));
    assertEquals(3, first.listed());
    assertArrayEquals(Arrays.copyOfRange(newestFirst, 0, 3), ids(first));
    assertArrayEquals(
        Arrays.copyOfRange(newestFirst, 3, 5),
        ids(await(net.client(2).readUserTimeline(author, 3, 9))));
    assertEquals(0, await(net.client(2).readUserTimeline(author, 2, 2)).listed());
    int follower = GRAPH.followers(author)[0];
    SnClient.Timeline home = await(net.client(2).readHomeTimeline(follower, 0, 2));
    assertArrayEquals(Arrays.copyOfRange(newestFirst, 0, 2), ids(home));
    for (PostView v : home.posts()) {
      Media expected = CLIP.copy();
      Watermark.apply(expected, v.post().postId());
      assertEquals(expected, v.media(), "the post's own watermarked media, intact");
      assertEquals(expected.checksum(), v.post().mediaChecksum());
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"dsm", "values", "hazelcast"})
  void shouldDeleteTheOldestPostsOfAFullShardFromEveryTimeline(String variant) throws Exception {
    SocialNet net = clean(variant);
    int author = 30;
    int follower = GRAPH.followers(author)[0];
    Set<Long> live = new HashSet<>();
    Set<Long> deleted = new HashSet<>();
    int posts = 4 * RETAINED;
    for (int i = 0; i < posts; i++) {
      SnClient.Composed c = await(net.client(i % 3).compose(author, "post " + i, CLIP));
      live.add(c.post().postId());
      for (long d : c.deleted()) {
        assertTrue(live.remove(d), "deleted post " + d + " was live");
        deleted.add(d);
      }
    }
    assertTrue(deleted.size() >= posts - 3 * RETAINED, "deleted " + deleted.size());
    assertTrue(live.size() <= 3 * RETAINED);
    long[] expected =
        live.stream().sorted((a, b) -> Long.compare(b, a)).mapToLong(x -> x).toArray();
    assertArrayEquals(expected, ids(await(net.client(0).readUserTimeline(author, 0, posts))));
    assertArrayEquals(expected, ids(await(net.client(1).readHomeTimeline(follower, 0, posts))));
    if (variant.equals("dsm")) {
      // A post and its media are two objects; nothing else is left once drops have arrived.
      awaitObjects(net, OBJECTS_AT_START.get(variant)[0] + 2L * live.size());
    }
    assertEquals(live.size(), net.deleteAll());
    assertEquals(0, await(net.client(2).readUserTimeline(author, 0, posts)).listed());
    assertEquals(0, await(net.client(0).readHomeTimeline(follower, 0, posts)).listed());
    awaitObjects(net, OBJECTS_AT_START.get(variant)[0]);
    assertEquals(OBJECTS_AT_START.get(variant)[1], net.dsmObjects()[1], "arena slots freed");
    assertEquals(0, net.hazelcastEntries());
  }

  /**
   * A timeline shard copies a post's handles for every read. A burst of 300 reads from one shard
   * away from the post's home is served in full and, since a copy takes a fixed share of a handle's
   * weight and a holder asks for more long before it runs low, without a read waiting for weight
   * (with weight halved on every copy, the shard ran dry after about 20 and retried).
   */
  @Test
  void shouldServeABurstOfReadsOfOnePostFromAShardAwayFromItsHome() throws Exception {
    SocialNet net = clean("dsm");
    int author = 50;
    int composeNode = 0;
    int reader = -1;
    for (int f : GRAPH.followers(author)) {
      if (f % 3 != composeNode) {
        reader = f;
        break;
      }
    }
    assertTrue(reader >= 0);
    Post post = await(net.client(composeNode).compose(author, "hot", CLIP)).post();
    long retriesBefore = net.traffic().readRetries();
    List<CompletionStage<SnClient.Timeline>> reads = new ArrayList<>();
    for (int i = 0; i < 300; i++) {
      reads.add(net.client(i % 3).readHomeTimeline(reader, 0, 10));
    }
    for (CompletionStage<SnClient.Timeline> r : reads) {
      assertArrayEquals(new long[] {post.postId()}, ids(await(r)));
    }
    assertEquals(
        retriesBefore,
        net.traffic().readRetries(),
        "300 copies at once did not wait for the post's home to top up a handle's weight");
    net.deleteAll();
    awaitObjects(net, OBJECTS_AT_START.get("dsm")[0]);
  }

  static void awaitObjects(SocialNet net, long expected) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (net.dsmObjects()[0] != expected && System.nanoTime() < deadline) {
      TimeUnit.MILLISECONDS.sleep(50);
    }
    assertEquals(expected, net.dsmObjects()[0], "DSM objects homed on the nodes");
  }

  /**
   * Two authors with common followers post in turns, and their timelines are read between the posts
   * from every node. Posts are compared by content and media, not by id, which each variant draws
   * from its own clock; fewer posts than one shard retains, so retention (which depends on where
   * ids hash) deletes nothing.
   */
  @Test
  void shouldAnswerTheSameSequenceAlikeInEveryVariant() throws Exception {
    int a = 40;
    int b = commonFollowee(a);
    int reader = common(a, b);
    Map<String, List<String>> answers = new HashMap<>();
    for (String variant : SocialNet.VARIANTS) {
      SocialNet net = clean(variant);
      List<String> log = new ArrayList<>();
      Map<Long, Integer> seq = new HashMap<>();
      for (int i = 0; i < RETAINED; i++) {
        int author = i % 2 == 0 ? a : b;
        String text =
            "post " + i + " @" + SocialGraph.username(reader) + " http://example.org/x" + i;
        Post p = await(net.client(i % 3).compose(author, text, CLIP)).post();
        seq.put(p.postId(), i);
        log.add("compose " + i + ": " + describe(p, seq));
        for (int r = 0; r < 3; r++) {
          log.add("home " + describe(await(net.client(r).readHomeTimeline(reader, 0, 4)), seq));
          log.add("user a " + describe(await(net.client(r).readUserTimeline(a, 1, 3)), seq));
          log.add("user b " + describe(await(net.client(r).readUserTimeline(b, 0, 10)), seq));
        }
      }
      answers.put(variant, log);
    }
    assertEquals(answers.get("values"), answers.get("dsm"));
    assertEquals(answers.get("values"), answers.get("hazelcast"));
    assertTrue(answers.get("dsm").contains("home [5, 4, 3, 2]"), answers.get("dsm").toString());
  }

  static String describe(Post p, Map<Long, Integer> seq) {
    return p.authorName()
        + "|"
        + p.text().replace(p.shortUrls()[0], "<" + p.expandedUrls()[0] + ">")
        + "|"
        + Arrays.toString(p.mentionIds())
        + "|"
        + Arrays.toString(p.shortUrls())
        + "|"
        + p.mediaFrames()
        + "x"
        + p.mediaWidth()
        + "x"
        + p.mediaHeight()
        + "|media of post "
        + seq.get(p.postId());
  }

  static String describe(SnClient.Timeline t, Map<Long, Integer> seq) {
    List<Integer> order = new ArrayList<>();
    for (PostView v : t.posts()) {
      Media expected = CLIP.copy();
      Watermark.apply(expected, v.post().postId());
      assertEquals(expected, v.media());
      order.add(seq.get(v.post().postId()));
    }
    return order.toString();
  }

  static int commonFollowee(int a) {
    for (int b = a + 1; b < GRAPH.users(); b++) {
      if (b != a && common(a, b) >= 0) {
        return b;
      }
    }
    throw new IllegalStateException("no user shares a follower with " + a);
  }

  static int common(int a, int b) {
    for (int f : GRAPH.followers(a)) {
      if (GRAPH.follows(f, b) && f != a && f != b) {
        return f;
      }
    }
    return -1;
  }

  @Test
  void shouldRefuseAnUnknownUserAtOnce() {
    SnClient client = net("values").client(0);
    IllegalArgumentException e =
        org.junit.jupiter.api.Assertions.assertThrows(
            IllegalArgumentException.class, () -> client.compose(962, "x", CLIP));
    assertTrue(e.getMessage().contains("users are 0..961"), e.getMessage());
    assertFalse(
        org.junit.jupiter.api.Assertions.assertThrows(
                IllegalArgumentException.class, () -> client.readHomeTimeline(-1, 0, 10))
            .getMessage()
            .isEmpty());
  }
}
