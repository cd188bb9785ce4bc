package dev.pekkodsm.samples.socialnet;

import java.util.Arrays;
import java.util.Objects;

/**
 * A post as the compose-post service builds it (DeathStarBench's {@code Post}): its id, creator,
 * text with shortened urls, user mentions, urls, time, and a description of its media (shape and
 * checksum; the pixels travel or are referenced separately, as each variant does).
 *
 * <p>Immutable by contract: the arrays are not copied, and nobody changes them after the post is
 * built. {@link #equals} compares content.
 */
public record Post(
    long postId,
    int authorId,
    String authorName,
    String text,
    int[] mentionIds,
    String[] mentionNames,
    String[] shortUrls,
    String[] expandedUrls,
    long timestampUs,
    int mediaFrames,
    int mediaWidth,
    int mediaHeight,
    long mediaChecksum) {

  /** Checks the fields. */
  public Post {
    Objects.requireNonNull(authorName, "authorName");
    Objects.requireNonNull(text, "text");
    Objects.requireNonNull(mentionIds, "mentionIds");
    Objects.requireNonNull(mentionNames, "mentionNames");
    Objects.requireNonNull(shortUrls, "shortUrls");
    Objects.requireNonNull(expandedUrls, "expandedUrls");
    if (mentionIds.length != mentionNames.length || shortUrls.length != expandedUrls.length) {
      throw new IllegalArgumentException("mention or url arrays of different lengths");
    }
  }

  /**
   * Whether {@code other} says the same thing: everything but the id and the time, which depend on
   * when and where it was composed.
   */
  public boolean sameContent(Post other) {
    return authorId == other.authorId
        && authorName.equals(other.authorName)
        && text.equals(other.text)
        && Arrays.equals(mentionIds, other.mentionIds)
        && Arrays.equals(mentionNames, other.mentionNames)
        && Arrays.equals(shortUrls, other.shortUrls)
        && Arrays.equals(expandedUrls, other.expandedUrls)
        && mediaFrames == other.mediaFrames
        && mediaWidth == other.mediaWidth
        && mediaHeight == other.mediaHeight;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Post p
        && p.postId == postId
        && p.timestampUs == timestampUs
        && p.mediaChecksum == mediaChecksum
        && sameContent(p);
  }

  @Override
  public int hashCode() {
    return Long.hashCode(postId) * 31 + text.hashCode();
  }

  @Override
  public String toString() {
    return "Post(" + postId + " by " + authorName + ": " + text.length() + " chars)";
  }
}
