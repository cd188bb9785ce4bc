package dev.pekkodsm.samples.socialnet;

/**
 * What the media service does to every frame: blends a stamp into the bottom-right corner, a block
 * of up to 96x24 pixels whose 16x4 cells show the post id's 64 bits (a set bit tints its cell
 * white, a clear one blue), so every post's media is unique and its checksum tells posts apart.
 *
 * <p>DRust's media service tints and recolours whole frames (four passes over every pixel) and
 * draws text; on the 2-core machine this benchmark runs on, that work would dominate every variant
 * alike and hide what the comparison is about, the cost of moving the media between services. The
 * stamp keeps a real change to every frame at a few percent of the bytes.
 */
public final class Watermark {

  static final int STAMP_WIDTH = 96;
  static final int STAMP_HEIGHT = 24;

  private Watermark() {}

  /** Stamps {@code postId} into every frame of {@code media}, in place. */
  public static void apply(Media media, long postId) {
    int width = media.width();
    int height = media.height();
    int w = Math.min(STAMP_WIDTH, width);
    int h = Math.min(STAMP_HEIGHT, height);
    byte[] p = media.pixels();
    for (int f = 0; f < media.frames(); f++) {
      int frame = f * media.frameBytes();
      for (int y = 0; y < h; y++) {
        int row = frame + ((height - h + y) * width + (width - w)) * 3;
        int cellRow = y * 4 / h;
        for (int x = 0; x < w; x++) {
          int bit = cellRow * 16 + x * 16 / w;
          boolean set = ((postId >>> bit) & 1) != 0;
          int i = row + x * 3;
          p[i] = blend(p[i], set ? 255 : 0);
          p[i + 1] = blend(p[i + 1], set ? 255 : 0);
          p[i + 2] = blend(p[i + 2], 255);
        }
      }
    }
  }

  private static byte blend(byte pixel, int tint) {
    return (byte) (((pixel & 0xff) + 3 * tint) >> 2);
  }
}
