package dev.pekkodsm.samples.socialnet;

import java.util.Locale;

/**
 * The size of every post's media in a run: {@code frames} RGB frames of {@code width x height}.
 * Written {@code FRAMESxWIDTHxHEIGHT}, as in {@code 5x480x270} (DRust's default).
 */
public record MediaShape(int frames, int width, int height) {

  /** DRust's SocialNet media: 5 frames of 480x270, 1,944,000 bytes. */
  public static final MediaShape DRUST = new MediaShape(5, 480, 270);

  /** The largest media a run may use (a DSM value is at most 16 MiB by default). */
  public static final long MAX_BYTES = 12L << 20;

  /** Checks the values. */
  public MediaShape {
    String name = "media " + frames + "x" + width + "x" + height;
    if (frames <= 0 || width <= 0 || height <= 0) {
      throw new IllegalArgumentException(name + ": frames, width and height must be > 0");
    }
    long bytes = (long) frames * width * height * 3;
    if (bytes > MAX_BYTES) {
      throw new IllegalArgumentException(
          name + " is " + bytes + " bytes; at most " + MAX_BYTES + " are supported");
    }
  }

  /** Parses {@code FRAMESxWIDTHxHEIGHT}, e.g. {@code 5x480x270} or {@code 1x64x64}. */
  public static MediaShape parse(String text) {
    String[] parts = text.trim().toLowerCase(Locale.ROOT).split("x");
    if (parts.length != 3) {
      throw new IllegalArgumentException(
          "media '" + text + "' is not FRAMESxWIDTHxHEIGHT, e.g. 5x480x270");
    }
    try {
      return new MediaShape(
          Integer.parseInt(parts[0]), Integer.parseInt(parts[1]), Integer.parseInt(parts[2]));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(
          "media '" + text + "' is not FRAMESxWIDTHxHEIGHT, e.g. 5x480x270");
    }
  }

  /** Bytes of the pixels. */
  public long bytes() {
    return (long) frames * width * height * 3;
  }

  @Override
  public String toString() {
    return frames + "x" + width + "x" + height;
  }
}
