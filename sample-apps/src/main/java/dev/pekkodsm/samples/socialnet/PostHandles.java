package dev.pekkodsm.samples.socialnet;

import dev.pekkodsm.DArc;
import dev.pekkodsm.DsmException;
import java.util.Objects;

/**
 * The {@code dsm} variant's reference to a stored post: a handle to the post and one to its media,
 * both immutable values with shared ownership. Post storage and every timeline that shows the post
 * hold a pair each; a pair sent in a message moves, so a holder sends {@link #copy()} and keeps its
 * own. The post and media are freed when the last pair anywhere is dropped.
 */
record PostHandles(DArc<Post> post, DArc<Media> media) {

  PostHandles {
    Objects.requireNonNull(post, "post");
    Objects.requireNonNull(media, "media");
  }

  /** Another pair to the same post and media. Costs no message. */
  PostHandles copy() {
    return new PostHandles(post.clone(), media.clone());
  }

  /**
   * Another pair, or null if one of the handles cannot be split now: a handle's weight halves with
   * every copy, and once it is spent pekko-dsm refuses to split it until its home has topped it up
   * (a {@link DsmException} that says to retry shortly).
   */
  PostHandles tryCopy() {
    DArc<Post> p;
    try {
      p = post.clone();
    } catch (DsmException e) {
      return null;
    }
    try {
      return new PostHandles(p, media.clone());
    } catch (DsmException e) {
      p.drop();
      return null;
    }
  }

  /** Gives up this pair's shares. */
  void drop() {
    post.drop();
    media.drop();
  }
}
