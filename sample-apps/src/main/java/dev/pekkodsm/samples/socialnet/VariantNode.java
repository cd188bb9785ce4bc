package dev.pekkodsm.samples.socialnet;

import java.util.List;
import java.util.concurrent.CompletionStage;

/**
 * What one variant does differently on one node: how an upload is handed to the services, how the
 * media service's result and the post reach post-storage, and how a reader gets a timeline's posts
 * and their media. Everything else (the services, their sharding, the order of the calls) is the
 * same in every variant.
 *
 * @param <U> the upload as compose-post passes it to the media service
 * @param <M> the watermarked media as the media service passes it back
 */
interface VariantNode<U, M> {

  /** Makes {@code media}, which this node has just received from a client, an upload. */
  CompletionStage<U> upload(Media media);

  /** Has the media service on {@code mediaNode} watermark the upload for post {@code postId}. */
  CompletionStage<Watermarked<M>> watermark(int mediaNode, long postId, U upload);

  /**
   * Has post-storage store the post and its media. Completes once stored, and once the posts
   * retention deleted to make room are gone from every timeline.
   */
  CompletionStage<Stored> store(Post post, Watermarked<M> media);

  /**
   * The posts of a timeline page with their media, in the page's order, as the reader gets them.
   */
  CompletionStage<List<PostView>> materialize(TimelineService.Page page);

  /**
   * The media service's result: the media in the variant's form, and the checksum of its pixels.
   */
  record Watermarked<M>(M media, long checksum) {}

  /**
   * Post-storage's answer: the pair of handles timelines hold ({@code dsm}; null in the others) and
   * the posts deleted to make room.
   */
  record Stored(PostHandles handles, long[] deleted) {}
}
