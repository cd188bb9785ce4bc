package dev.pekkodsm.memory.rdma;

import dev.pekkodsm.memory.ArenaSettings;
import dev.pekkodsm.memory.ReadBuffer;
import dev.pekkodsm.memory.SnapshotArena;
import dev.pekkodsm.serialization.ClassRegistry;
import dev.pekkodsm.serialization.SerializationSettings;
import dev.pekkodsm.serialization.internal.KryoPool;
import dev.pekkodsm.serialization.internal.Purpose;
import dev.pekkodsm.serialization.internal.SnapshotCodec;
import java.io.IOException;
import java.nio.ByteOrder;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.function.Consumer;

/** Test helpers: a codec, arenas, frames, and a writer's-eye view of a segment. */
final class RdmaFrames {
  static final long NODE = 0xB0BL;

  static final SnapshotCodec CODEC =
      new SnapshotCodec(
          new KryoPool(
              ClassRegistry.empty(),
              new SerializationSettings(1 << 20, 64, true, 8),
              k -> {},
              "-"));

  static final int MAX_FRAME = (1 << 20) + SnapshotCodec.HEADER_BYTES;

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
    return CODEC
        .pool()
        .fromBytes(
            buffer.bytes(),
            SnapshotCodec.HEADER_BYTES,
            buffer.length() - SnapshotCodec.HEADER_BYTES,
            Purpose.SNAPSHOT);
  }

  /** Changes segment {@code index} of {@code arena} behind its back, as a rogue writer would. */
  static void tamper(SnapshotArena arena, int index, Consumer<MappedByteBuffer> change)
      throws IOException {
    Path path = SnapshotArena.segmentPath(arena.folder(), index);
    try (FileChannel channel =
        FileChannel.open(path, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
      MappedByteBuffer raw =
          channel.map(FileChannel.MapMode.READ_WRITE, 0, arena.settings().segmentBytes());
      raw.order(ByteOrder.LITTLE_ENDIAN);
      change.accept(raw);
    }
  }
}
