package dev.pekkodsm.samples.socialnet;

/**
 * A post as a reader gets it: the post and its media. In the {@code dsm} variant both may be the
 * node's cached copies, shared with other readers: do not modify them.
 */
public record PostView(Post post, Media media) {}
