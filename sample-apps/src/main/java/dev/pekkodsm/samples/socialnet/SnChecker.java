package dev.pekkodsm.samples.socialnet;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;

/**
 * Checks every answer of a run against a model of what the client has been told, with no clock
 * shared with the services and no assumption about their order beyond what the client saw.
 *
 * <p>A compose must return the post it was asked for: the author, the mentioned users resolved in
 * order, every url replaced by its short form, and (on every {@code verifyEvery}-th compose) the
 * checksum of the clip watermarked with the post id. A timeline page must be ordered newest first,
 * hold no more posts than asked and no post twice, and every post on it must be one that was
 * composed (known now, or by the end of the run if its compose was still in flight), unchanged,
 * belong to that timeline (the reader follows or was mentioned by the author; the author, for a
 * user timeline), not have been deleted by a compose answered before the read was sent, and (on
 * every {@code verifyEvery}-th read) carry media whose pixels match the post's checksum. And the
 * page must be complete: every post answered before the read was sent that belongs to the timeline
 * and is newer than the page's oldest post (every one, if the page is not full) must be on it,
 * unless a compose sent before the read was answered deleted it; absences are settled at {@link
 * #finish()}, when every compose has answered. A post is deleted by the compose whose store made
 * room for it.
 *
 * <p>Thread-safe: answers are checked on the threads that complete them.
 */
final class SnChecker {

  private final SocialGraph graph;
  private final List<Media> clips;
  private final int verifyEvery;
  private final Map<Long, Known> posts = new ConcurrentHashMap<>();
  private final Map<Long, Long> deletedBySentNs = new ConcurrentHashMap<>();
  private final Map<Long, Long> deletedByAnsweredNs = new ConcurrentHashMap<>();
  private final List<ConcurrentSkipListMap<Long, Known>> home = new ArrayList<>();
  private final List<ConcurrentSkipListMap<Long, Known>> user = new ArrayList<>();
  private final ConcurrentLinkedQueue<Pending> pending = new ConcurrentLinkedQueue<>();
  private final AtomicLong verifications = new AtomicLong();
  private final LongAdder checked = new LongAdder();
  private final LongAdder mediaVerified = new LongAdder();
  private final LongAdder violations = new LongAdder();
  private final AtomicReference<String> firstViolation = new AtomicReference<>();

  /** A post the client has been answered, and when. */
  private record Known(Post post, int[] recipients, long answeredNs) {}

  /** A check that can only be settled once every compose has answered. */
  private sealed interface Pending permits Unknown, Absent {}

  /** A post seen on a page before its compose answered. */
  private record Unknown(Post post, Workload.Type type, int reader) implements Pending {}

  /** A post missing from a page; fine if a compose sent before {@code answeredNs} deleted it. */
  private record Absent(long postId, int reader, Workload.Type type, long answeredNs)
      implements Pending {}

  SnChecker(SocialGraph graph, List<Media> clips, int verifyEvery) {
    if (verifyEvery < 1) {
      throw new IllegalArgumentException("verifyEvery=" + verifyEvery + " must be >= 1");
    }
    this.graph = graph;
    this.clips = List.copyOf(clips);
    this.verifyEvery = verifyEvery;
    for (int u = 0; u < graph.users(); u++) {
      home.add(new ConcurrentSkipListMap<>(java.util.Collections.reverseOrder()));
      user.add(new ConcurrentSkipListMap<>(java.util.Collections.reverseOrder()));
    }
  }

  /** Checks a compose's answer; {@code sentNs} is when it was sent, read before sending. */
  void composed(Workload.Request request, SnClient.Composed answer, long sentNs) {
    long now = System.nanoTime();
    checked.increment();
    Post post = answer.post();
    String[] names = TextParser.mentions(request.text());
    int[] expectedMentions = new int[names.length];
    for (int i = 0; i < names.length; i++) {
      expectedMentions[i] = Integer.parseInt(names[i].substring("username_".length()));
    }
    String[] urls = TextParser.urls(request.text());
    String[] shortUrls = new String[urls.length];
    for (int i = 0; i < urls.length; i++) {
      shortUrls[i] = UrlShortenService.shorten(urls[i]);
    }
    Media clip = clips.get(request.clip());
    if (post.authorId() != request.userId()
        || !post.authorName().equals(SocialGraph.username(request.userId()))
        || !Arrays.equals(post.mentionIds(), expectedMentions)
        || !Arrays.equals(post.mentionNames(), names)
        || !Arrays.equals(post.expandedUrls(), urls)
        || !Arrays.equals(post.shortUrls(), shortUrls)
        || !post.text().equals(TextParser.replaceUrls(request.text(), shortUrls))
        || post.mediaFrames() != clip.frames()
        || post.mediaWidth() != clip.width()
        || post.mediaHeight() != clip.height()) {
      violation("compose " + request.seq() + " answered a post that differs from the request");
    }
    if (sampled()) {
      mediaVerified.increment();
      Media expected = clip.copy();
      Watermark.apply(expected, post.postId());
      if (expected.checksum() != post.mediaChecksum()) {
        violation("post " + post.postId() + " has a media checksum that is not its clip's");
      }
    }
    Set<Integer> recipients = new HashSet<>();
    for (int f : graph.followers(post.authorId())) {
      recipients.add(f);
    }
    for (int m : post.mentionIds()) {
      recipients.add(m);
    }
    int[] r = recipients.stream().mapToInt(Integer::intValue).sorted().toArray();
    Known known = new Known(post, r, now);
    posts.put(post.postId(), known);
    for (long d : answer.deleted()) {
      deletedBySentNs.merge(d, sentNs, Math::min);
      deletedByAnsweredNs.merge(d, now, Math::min);
    }
    if (!deletedBySentNs.containsKey(post.postId())) {
      user.get(post.authorId()).put(post.postId(), known);
      for (int u : r) {
        home.get(u).put(post.postId(), known);
      }
    }
    for (long d : answer.deleted()) {
      Known gone = posts.get(d);
      if (gone != null) {
        user.get(gone.post().authorId()).remove(d);
        for (int u : gone.recipients()) {
          home.get(u).remove(d);
        }
      }
    }
  }

  /**
   * Checks a timeline page of {@code reader} that asked for {@code size} posts; {@code sentNs} is
   * when the read was sent, read before sending.
   */
  void read(Workload.Type type, int reader, int size, SnClient.Timeline timeline, long sentNs) {
    long now = System.nanoTime();
    checked.increment();
    boolean verifyMedia = sampled();
    List<PostView> page = timeline.posts();
    if (timeline.listed() > size || page.size() > timeline.listed()) {
      violation(
          type.label()
              + " timeline of "
              + reader
              + " listed "
              + timeline.listed()
              + " posts and"
              + " showed "
              + page.size()
              + " for a page of "
              + size);
    }
    Set<Long> shown = new HashSet<>();
    long previous = Long.MAX_VALUE;
    for (PostView view : page) {
      Post p = view.post();
      if (p.postId() >= previous) {
        violation(type.label() + " timeline of " + reader + " is not newest first");
      }
      previous = p.postId();
      shown.add(p.postId());
      if (verifyMedia) {
        mediaVerified.increment();
        if (view.media().checksum() != p.mediaChecksum()) {
          violation("post " + p.postId() + " was read with media that does not match it");
        }
      }
      Long deletedAt = deletedByAnsweredNs.get(p.postId());
      if (deletedAt != null && deletedAt < sentNs) {
        violation("post " + p.postId() + " was read after the compose that deleted it answered");
      }
      Known known = posts.get(p.postId());
      if (known == null) {
        pending.add(new Unknown(p, type, reader));
      } else {
        checkShown(known, p, type, reader);
      }
    }
    // Posts newer than the page's oldest must be on it; all of them, if the page is not full.
    // A full page whose every post was deleted meanwhile says nothing about what it should show.
    if (timeline.listed() == size && page.isEmpty()) {
      return;
    }
    long oldest = timeline.listed() < size ? Long.MIN_VALUE : previous;
    ConcurrentSkipListMap<Long, Known> model =
        (type == Workload.Type.HOME ? home : user).get(reader);
    for (Known k : model.headMap(oldest, false).values()) {
      if (k.answeredNs() < sentNs && !shown.contains(k.post().postId())) {
        pending.add(new Absent(k.post().postId(), reader, type, now));
      }
    }
  }

  private void checkShown(Known known, Post shown, Workload.Type type, int reader) {
    if (!known.post().equals(shown)) {
      violation("post " + shown.postId() + " was read changed");
    }
    boolean belongs =
        type == Workload.Type.USER
            ? known.post().authorId() == reader
            : Arrays.binarySearch(known.recipients(), reader) >= 0;
    if (!belongs) {
      violation(
          "post "
              + shown.postId()
              + " is on the "
              + type.label()
              + " timeline of "
              + reader
              + ", where it does not belong");
    }
  }

  /** Settles the checks that waited for every compose to answer. Call once the run is over. */
  void finish() {
    Pending p;
    while ((p = pending.poll()) != null) {
      if (p instanceof Unknown u) {
        Known known = posts.get(u.post().postId());
        if (known == null) {
          violation("post " + u.post().postId() + " was read but no compose answered it");
        } else {
          checkShown(known, u.post(), u.type(), u.reader());
        }
      } else if (p instanceof Absent a) {
        Long deletedBy = deletedBySentNs.get(a.postId());
        if (deletedBy == null || deletedBy > a.answeredNs()) {
          violation(
              "post "
                  + a.postId()
                  + " was missing from the "
                  + a.type().label()
                  + " timeline of "
                  + a.reader()
                  + " although it was composed before and not deleted");
        }
      }
    }
  }

  /**
   * The page a quiet system must answer: the newest {@code size} posts of the timeline, as the
   * model has them.
   */
  long[] expected(Workload.Type type, int reader, int size) {
    return (type == Workload.Type.HOME ? home : user)
        .get(reader).keySet().stream().limit(size).mapToLong(Long::longValue).toArray();
  }

  /** Checks a page read when nothing else was running against {@link #expected}. */
  void quiet(Workload.Type type, int reader, int size, SnClient.Timeline page) {
    long[] ids = page.posts().stream().mapToLong(v -> v.post().postId()).toArray();
    if (!Arrays.equals(ids, expected(type, reader, size))) {
      violation(
          "the quiet "
              + type.label()
              + " timeline of "
              + reader
              + " is "
              + Arrays.toString(ids)
              + ", expected "
              + Arrays.toString(expected(type, reader, size)));
    }
    read(type, reader, size, page, System.nanoTime());
  }

  private boolean sampled() {
    return verifications.incrementAndGet() % verifyEvery == 0;
  }

  /** Counts a check that could not be made because its read failed. */
  void failed(String what) {
    violation(what);
  }

  private void violation(String what) {
    violations.increment();
    firstViolation.compareAndSet(null, what);
  }

  /** Answers checked. */
  long checked() {
    return checked.sum();
  }

  /** Media whose pixels were checked against a checksum. */
  long mediaVerified() {
    return mediaVerified.sum();
  }

  /** Violations found so far. */
  long violations() {
    return violations.sum();
  }

  /** The first violation found, or null. */
  String firstViolation() {
    return firstViolation.get();
  }

  /** Posts the model holds (answered and not deleted). */
  long livePosts() {
    return posts.keySet().stream().filter(id -> !deletedBySentNs.containsKey(id)).count();
  }
}
