package dev.pekkodsm.samples.socialnet;

import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * The request mix of a run, and the deterministic stream of requests it draws, after
 * DeathStarBench's wrk2 scripts: a user chosen uniformly; a compose's text is 256 random letters
 * and digits, one to six mentions of other users ({@code @username_N}) and one to six urls ({@code
 * http://} and 64 random characters); its media is one of the run's clips. A timeline read asks for
 * the newest {@code page} posts (wrk2's scripts read a random page among the first hundred posts;
 * here the retention keeps only recent posts, so the first page is read).
 */
public enum Workload {
  /** DeathStarBench's mixed workload: 60 % home timeline, 30 % user timeline, 10 % compose. */
  MIXED(0.6, 0.3),
  /** compose-post alone. */
  COMPOSE(0, 0),
  /** read-home-timeline alone. */
  HOME(1, 0),
  /** read-user-timeline alone. */
  USER(0, 1);

  private final double home;
  private final double user;

  Workload(double home, double user) {
    this.home = home;
    this.user = user;
  }

  /** The name on the command line. */
  public String label() {
    return name().toLowerCase(Locale.ROOT);
  }

  /** Parses a name on the command line. */
  public static Workload parse(String name) {
    for (Workload w : values()) {
      if (w.label().equals(name.trim().toLowerCase(Locale.ROOT))) {
        return w;
      }
    }
    throw new IllegalArgumentException(
        "unknown workload " + name + "; known: mixed, compose, home, user");
  }

  /** The three request types. */
  public enum Type {
    COMPOSE,
    HOME,
    USER;

    /** The name in tables and files. */
    public String label() {
      return switch (this) {
        case COMPOSE -> "compose";
        case HOME -> "home";
        case USER -> "user";
      };
    }
  }

  /** One request: its type, user, and for a compose the text and the clip. */
  public record Request(long seq, Type type, int userId, String text, int clip) {}

  /** A deterministic stream of this workload's requests. Not thread-safe. */
  public Source source(long seed, int users, int clips) {
    return new Source(this, new SplittableRandom(seed), users, clips);
  }

  /** Requests drawn one after the other. */
  public static final class Source {
    private static final char[] CHARS =
        "qwertyuiopasdfghjklzxcvbnmQWERTYUIOPASDFGHJKLZXCVBNM1234567890".toCharArray();
    private final Workload workload;
    private final SplittableRandom random;
    private final int users;
    private final int clips;
    private long seq;

    Source(Workload workload, SplittableRandom random, int users, int clips) {
      this.workload = workload;
      this.random = random;
      this.users = users;
      this.clips = clips;
    }

    /** The next request. */
    public Request next() {
      double coin = random.nextDouble();
      Type type =
          coin < workload.home
              ? Type.HOME
              : coin < workload.home + workload.user ? Type.USER : Type.COMPOSE;
      int user = random.nextInt(users);
      if (type != Type.COMPOSE) {
        return new Request(seq++, type, user, null, -1);
      }
      StringBuilder text = new StringBuilder(256 + 7 * 20 + 7 * 72);
      appendRandom(text, 256);
      int mentions = 1 + random.nextInt(6);
      for (int i = 0; i < mentions; i++) {
        int other;
        do {
          other = random.nextInt(users);
        } while (other == user);
        text.append(" @").append(SocialGraph.username(other));
      }
      int urls = 1 + random.nextInt(6);
      for (int i = 0; i < urls; i++) {
        text.append(" http://");
        appendRandom(text, 64);
      }
      return new Request(seq++, type, user, text.toString(), random.nextInt(clips));
    }

    /** The next {@code n} requests. */
    public List<Request> next(int n) {
      java.util.ArrayList<Request> out = new java.util.ArrayList<>(n);
      for (int i = 0; i < n; i++) {
        out.add(next());
      }
      return out;
    }

    private void appendRandom(StringBuilder out, int length) {
      for (int i = 0; i < length; i++) {
        out.append(CHARS[random.nextInt(CHARS.length)]);
      }
    }
  }
}
