package dev.pekkodsm.memory.rdma;

import dev.pekkodsm.memory.ArenaSettings;
import dev.pekkodsm.memory.Frames;
import dev.pekkodsm.memory.ReadBuffer;
import dev.pekkodsm.memory.SnapshotArena;
import dev.pekkodsm.serialization.internal.Purpose;
import dev.pekkodsm.serialization.internal.SnapshotCodec;
import java.io.IOException;
import java.nio.MappedByteBuffer;
import java.nio.file.Path;
import java.util.function.Consumer;

/** Test helpers: a codec, arenas, frames, and a writer's-eye view of a segment. */
final class RdmaFrames {
  static final long NODE = 0xB0BL;

  static final SnapshotCodec CODEC = Frames.CODEC;

  static final int MAX_FRAME = Frames.MAX_FRAME;

  private RdmaFrames() {}

  static SnapshotArena arena(Path dir, long node, int segmentBytes, int maxSegments) {
    return SnapshotArena.create(
        new ArenaSettings(
            dir, segmentBytes, maxSegments, Math.min(MAX_FRAME, segmentBytes / 2), false),
        node,
        CODEC);
  }

  static byte[] frame(long node, Object value, long object, int color) {
    return CODEC.encode(value, node, object, color, Purpose.SNAPSHOT);
  }

  static Object decode(ReadBuffer buffer) {
    return Frames.decode(buffer);
  }

  /** Changes segment {@code index} of {@code arena} behind its back, as a rogue writer would. */
  static void tamper(SnapshotArena arena, int index, Consumer<MappedByteBuffer> change)
      throws IOException {
    Frames.tamper(arena, index, change);
  }
}
