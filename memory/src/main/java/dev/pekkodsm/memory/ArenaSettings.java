package dev.pekkodsm.memory;

import java.nio.file.Path;
import java.util.Objects;

/**
 * Where and how large a node's snapshot arena is, validated once when built.
 *
 * @param directory the parent directory of arena folders; {@code /dev/shm} keeps them in memory and
 *     lets same-host peers map them
 * @param segmentBytes the size of one segment file; the largest snapshot must fit in one
 * @param maxSegments how many segments the arena may grow to
 * @param maxFrameBytes the largest frame (header and payload) that will be published
 * @param cleanStale whether to delete arena folders left behind by dead processes of this host
 */
public record ArenaSettings(
    Path directory, int segmentBytes, int maxSegments, int maxFrameBytes, boolean cleanStale) {

  /** The maximum number of segments a locator can address. */
  public static final int SEGMENT_LIMIT = 1 << 15;

  public ArenaSettings {
    Objects.requireNonNull(directory, "directory");
    if (segmentBytes < (1 << 16) || segmentBytes > (1 << 30)) {
      throw new IllegalArgumentException(
          "segmentBytes=" + segmentBytes + " must be in [64 KiB, 1 GiB]");
    }
    if (maxSegments < 1 || maxSegments > SEGMENT_LIMIT) {
      throw new IllegalArgumentException(
          "maxSegments=" + maxSegments + " must be in [1, " + SEGMENT_LIMIT + "]");
    }
    if (maxFrameBytes < 64) {
      throw new IllegalArgumentException("maxFrameBytes=" + maxFrameBytes + " must be >= 64");
    }
    long largestSlot = SlotLayout.capacityFor(maxFrameBytes);
    if (largestSlot > segmentBytes - SlotLayout.FIRST_SLOT_OFFSET) {
      throw new IllegalArgumentException(
          "segmentBytes="
              + segmentBytes
              + " cannot hold the largest snapshot: maxFrameBytes="
              + maxFrameBytes
              + " needs a slot of "
              + largestSlot
              + " bytes plus a "
              + SlotLayout.FIRST_SLOT_OFFSET
              + "-byte segment header");
    }
  }
}
