package dev.pekkodsm.samples.socialnet;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

/**
 * url-shorten: gives every url a short form {@code http://short-url/} + 10 characters and remembers
 * the pair (DeathStarBench stores it in MongoDB). The short form is derived from the url (60 bits
 * of its SHA-256 in base 62) rather than drawn at random, so that a url always shortens the same
 * way and runs of the three variants can be compared. Keeps the newest {@value #KEPT_URLS} pairs.
 */
final class UrlShortenService {

  static final String PREFIX = "http://short-url/";
  static final int KEPT_URLS = 100_000;
  private static final char[] BASE62 =
      "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789".toCharArray();

  sealed interface Command extends SnMessage permits ComposeUrls {}

  record ComposeUrls(String[] urls, ActorRef<Urls> replyTo) implements Command {}

  record Urls(String[] shortUrls, String[] expandedUrls) implements SnMessage {}

  private UrlShortenService() {}

  static Behavior<Command> create() {
    Map<String, String> expandedByShort =
        new LinkedHashMap<>() {
          @Override
          protected boolean removeEldestEntry(Map.Entry<String, String> eldest) {
            return size() > KEPT_URLS;
          }
        };
    return Behaviors.receive(Command.class)
        .onMessage(
            ComposeUrls.class,
            m -> {
              String[] shortUrls = new String[m.urls().length];
              for (int i = 0; i < shortUrls.length; i++) {
                shortUrls[i] = shorten(m.urls()[i]);
                expandedByShort.put(shortUrls[i], m.urls()[i]);
              }
              m.replyTo().tell(new Urls(shortUrls, m.urls()));
              return Behaviors.same();
            })
        .build();
  }

  /** The short form of {@code url}. */
  static String shorten(String url) {
    byte[] digest;
    try {
      digest = MessageDigest.getInstance("SHA-256").digest(url.getBytes(StandardCharsets.UTF_8));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JVM has SHA-256", e);
    }
    char[] out = new char[10];
    long v = ByteBuffer.wrap(digest).getLong() >>> 4; // 60 bits, spread over 10 base-62 digits
    for (int i = 0; i < out.length; i++) {
      out[i] = BASE62[(int) Long.remainderUnsigned(v, 62)];
      v = Long.divideUnsigned(v, 62);
    }
    return PREFIX + new String(out);
  }
}
