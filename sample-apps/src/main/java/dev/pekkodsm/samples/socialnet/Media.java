package dev.pekkodsm.samples.socialnet;

import java.util.Objects;
import java.util.SplittableRandom;
import java.util.zip.CRC32C;

/**
 * The media of a post: {@code frames} RGB frames of {@code width x height} pixels, three bytes per
 * pixel, one frame after the other in {@code pixels} (DRust's SocialNet: 5 frames of 480x270
 * decoded from a video, 1,944,000 bytes).
 *
 * <p>A record so that every variant carries the same thing: Pekko's Jackson serializer, the DSM's
 * Kryo and Hazelcast's compact serialization each write it as three ints and one byte string. The
 * array is not copied: whoever holds a {@code Media} that others may read must not change it (the
 * media service changes only the copy it owns).
 */
public record Media(int width, int height, int frames, byte[] pixels) {

  /** Checks the shape. */
  public Media {
    Objects.requireNonNull(pixels, "pixels");
    if (width <= 0 || height <= 0 || frames <= 0) {
      throw new IllegalArgumentException(
          "media of " + frames + " frames of " + width + "x" + height + ": all must be > 0");
    }
    if ((long) width * height * 3 * frames != pixels.length) {
      throw new IllegalArgumentException(
          "pixels.length="
              + pixels.length
              + " is not "
              + frames
              + " frames of "
              + width
              + "x"
              + height
              + " RGB");
    }
  }

  /** Bytes of one frame. */
  public int frameBytes() {
    return width * height * 3;
  }

  /** A copy with its own pixel array: what a client uploads. */
  public Media copy() {
    return new Media(width, height, frames, pixels.clone());
  }

  /** CRC32C of the pixels: what a post records and readers check. */
  public long checksum() {
    CRC32C crc = new CRC32C();
    crc.update(pixels, 0, pixels.length);
    return crc.getValue();
  }

  /**
   * A synthetic clip standing in for DRust's decoded video: smooth colour gradients that drift from
   * frame to frame, with a little noise, so neighbouring pixels differ as in a real picture.
   * Deterministic in {@code seed}.
   */
  public static Media clip(MediaShape shape, long seed) {
    byte[] pixels = new byte[Math.toIntExact(shape.bytes())];
    SplittableRandom random = new SplittableRandom(seed);
    int base = random.nextInt(256);
    int i = 0;
    for (int f = 0; f < shape.frames(); f++) {
      for (int y = 0; y < shape.height(); y++) {
        for (int x = 0; x < shape.width(); x++) {
          int noise = random.nextInt(8);
          pixels[i++] = (byte) (base + x + 3 * f + noise);
          pixels[i++] = (byte) (base + y + 5 * f + noise);
          pixels[i++] = (byte) (base + ((x + y) >> 1) + 7 * f);
        }
      }
    }
    return new Media(shape.width(), shape.height(), shape.frames(), pixels);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Media m
        && m.width == width
        && m.height == height
        && m.frames == frames
        && java.util.Arrays.equals(m.pixels, pixels);
  }

  @Override
  public int hashCode() {
    return Objects.hash(width, height, frames, java.util.Arrays.hashCode(pixels));
  }

  @Override
  public String toString() {
    return "Media(" + frames + " x " + width + "x" + height + ", " + pixels.length + " B)";
  }
}
