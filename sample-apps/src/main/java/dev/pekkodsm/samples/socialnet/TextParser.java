package dev.pekkodsm.samples.socialnet;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The text service's parsing, with DeathStarBench's patterns: a mention is {@code @} followed by
 * letters, digits, {@code -} or {@code _}; a url is {@code http://} or {@code https://} followed by
 * the characters a url may hold.
 */
final class TextParser {

  static final Pattern MENTION = Pattern.compile("@[a-zA-Z0-9-_]+");
  static final Pattern URL = Pattern.compile("(http://|https://)([a-zA-Z0-9_!~*'().&=+$%-]+)");

  private TextParser() {}

  /** The user names mentioned in {@code text}, in order, without the {@code @}. */
  static String[] mentions(String text) {
    List<String> names = new ArrayList<>();
    Matcher m = MENTION.matcher(text);
    while (m.find()) {
      names.add(m.group().substring(1));
    }
    return names.toArray(new String[0]);
  }

  /** The urls in {@code text}, in order. */
  static String[] urls(String text) {
    List<String> urls = new ArrayList<>();
    Matcher m = URL.matcher(text);
    while (m.find()) {
      urls.add(m.group());
    }
    return urls.toArray(new String[0]);
  }

  /**
   * {@code text} with its i-th url replaced by {@code shortUrls[i]}.
   *
   * @throws IllegalArgumentException if the counts differ
   */
  static String replaceUrls(String text, String[] shortUrls) {
    Matcher m = URL.matcher(text);
    StringBuilder out = new StringBuilder(text.length());
    int i = 0;
    while (m.find()) {
      if (i == shortUrls.length) {
        throw new IllegalArgumentException("more urls in the text than shortened urls");
      }
      m.appendReplacement(out, Matcher.quoteReplacement(shortUrls[i++]));
    }
    if (i != shortUrls.length) {
      throw new IllegalArgumentException("fewer urls in the text than shortened urls");
    }
    m.appendTail(out);
    return out.toString();
  }
}
