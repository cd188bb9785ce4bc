package dev.pekkodsm.memory;

import dev.pekkodsm.serialization.ClassRegistry;
import dev.pekkodsm.serialization.SerializationSettings;
import dev.pekkodsm.serialization.internal.KryoPool;
import dev.pekkodsm.serialization.internal.Purpose;
import dev.pekkodsm.serialization.internal.SnapshotCodec;
import java.nio.file.Path;

/** Test helpers: a codec, arena settings, frames. */
final class Frames {
  static final long NODE = 0xA11CEL;

  static final SnapshotCodec CODEC =
      new SnapshotCodec(
          new KryoPool(
              ClassRegistry.empty(),
              new SerializationSettings(1 << 20, 64, true, 8),
              k -> {},
              "-"));

  static final int MAX_FRAME = (1 << 20) + SnapshotCodec.HEADER_BYTES;

  private Frames() {}

  static ArenaSettings settings(Path dir, int segmentBytes, int maxSegments) {
    return new ArenaSettings(
        dir, segmentBytes, maxSegments, Math.min(MAX_FRAME, segmentBytes / 2), false);
  }

  static byte[] frame(Object value, long object, int color) {
    return CODEC.encode(value, NODE, object, color, Purpose.SNAPSHOT);
  }

  static Object decode(ReadBuffer buffer) {
    return CODEC
        .pool()
        .fromBytes(
            buffer.bytes(),
            SnapshotCodec.HEADER_BYTES,
            buffer.length() - SnapshotCodec.HEADER_BYTES,
            Purpose.SNAPSHOT);
  }
}
