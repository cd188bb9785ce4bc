package dev.pekkodsm.samples.socialnet;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class TextParserTest {

  @Test
  void shouldFindMentionsAndUrlsAsDeathStarBenchDoes() {
    String text = "@a_1 hello @b-2, see http://x.org/p and https://y.io?q=1 @ end";
    assertArrayEquals(new String[] {"a_1", "b-2"}, TextParser.mentions(text));
    assertArrayEquals(new String[] {"http://x.org", "https://y.io"}, TextParser.urls(text));
  }

  @Test
  void shouldReplaceEachUrlByItsShortFormInOrder() {
    String text = "a http://x.org b https://y.io c";
    assertEquals("a S1 b S2 c", TextParser.replaceUrls(text, new String[] {"S1", "S2"}));
    assertEquals("$1 ok", TextParser.replaceUrls("http://x.org ok", new String[] {"$1"}));
    assertThrows(
        IllegalArgumentException.class, () -> TextParser.replaceUrls(text, new String[] {"S1"}));
  }

  @Test
  void shouldShortenAUrlAlwaysTheSameWay() {
    String s = UrlShortenService.shorten("http://example.com");
    assertEquals(s, UrlShortenService.shorten("http://example.com"));
    assertNotEquals(s, UrlShortenService.shorten("http://example.org"));
    assertEquals(UrlShortenService.PREFIX.length() + 10, s.length());
  }
}
