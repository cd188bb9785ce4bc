package dev.pekkodsm.memory;

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

/** Test helpers shared by the transport tests: a codec, arena settings, frames, tampering. */
public final class Frames {
  static final long NODE = 0xA11CEL;

  public static final SnapshotCodec CODEC =
      new SnapshotCodec(
          new KryoPool(
              ClassRegistry.empty(),
              new SerializationSettings(1 << 20, 64, true, 8),
              k -> {},
              "-"));

  public static final int MAX_FRAME = (1 << 20) + SnapshotCodec.HEADER_BYTES;

  private Frames() {}

  static ArenaSettings settings(Path dir, int segmentBytes, int maxSegments) {
    return new ArenaSettings(
        dir, segmentBytes, maxSegments, Math.min(MAX_FRAME, segmentBytes / 2), false);
  }

  static byte[] frame(Object value, long object, int color) {
    return CODEC.encode(value, NODE, object, color, Purpose.SNAPSHOT);
  }

  public static Object decode(ReadBuffer buffer) {
    return CODEC
        .pool()
        .fromBytes(
            buffer.bytes(),
            SnapshotCodec.HEADER_BYTES,
            buffer.length() - SnapshotCodec.HEADER_BYTES,
            Purpose.SNAPSHOT);
  }

  /** Changes segment {@code index} of {@code arena} behind its back, as corruption would. */
  public static void tamper(SnapshotArena arena, int index, Consumer<MappedByteBuffer> change)
      throws IOException {
    tamper(arena, "seg-", index, change);
  }

  /** {@link #tamper(SnapshotArena, int, Consumer)} for the segments named {@code prefix}NNNNN. */
  public static void tamper(
      SnapshotArena arena, String prefix, int index, Consumer<MappedByteBuffer> change)
      throws IOException {
    try (FileChannel channel =
        FileChannel.open(
            SnapshotArena.segmentPath(arena.folder(), prefix, index),
            StandardOpenOption.READ,
            StandardOpenOption.WRITE)) {
      MappedByteBuffer raw =
          channel.map(FileChannel.MapMode.READ_WRITE, 0, arena.settings().segmentBytes());
      raw.order(ByteOrder.LITTLE_ENDIAN);
      change.accept(raw);
    }
  }
}
