package dev.pekkodsm.coherence.mutex;

import dev.pekkodsm.memory.ArenaSettings;
import dev.pekkodsm.memory.ReadBuffer;
import dev.pekkodsm.memory.SnapshotArena;
import dev.pekkodsm.memory.SyncRegion;
import dev.pekkodsm.serialization.ClassRegistry;
import dev.pekkodsm.serialization.SerializationSettings;
import dev.pekkodsm.serialization.internal.KryoPool;
import dev.pekkodsm.serialization.internal.Purpose;
import dev.pekkodsm.serialization.internal.SnapshotCodec;
import java.nio.file.Path;

/**
 * A real sync region in a test folder, with values of the JDK's types framed by the DSM's codec:
 * the store a node gives its mutexes, without a node.
 */
public final class TestStore implements MutexStore, AutoCloseable {

  public static final SnapshotCodec CODEC =
      new SnapshotCodec(
          new KryoPool(
              ClassRegistry.empty(),
              new SerializationSettings(1 << 20, 64, true, 8),
              k -> {},
              "-"));

  private final long node;
  private final SnapshotArena arena;
  private final SyncRegion region;

  public TestStore(Path dir, long node) {
    this.node = node;
    this.arena =
        SnapshotArena.create(new ArenaSettings(dir, 1 << 20, 4, 1 << 16, false), node, CODEC);
    this.region = SyncRegion.create(arena, 4096);
  }

  @Override
  public SyncRegion region() {
    return region;
  }

  /** The arena the region lives beside, for peers that open it over a transport. */
  public SnapshotArena arena() {
    return arena;
  }

  @Override
  public byte[] frame(Object value, long object, int color) {
    return CODEC.encode(value, node, object, color, Purpose.SNAPSHOT);
  }

  @Override
  public Object decode(ReadBuffer buffer) {
    return CODEC
        .pool()
        .fromBytes(
            buffer.bytes(),
            SnapshotCodec.HEADER_BYTES,
            buffer.length() - SnapshotCodec.HEADER_BYTES,
            Purpose.SNAPSHOT);
  }

  /** A payload (a frame without its header) decoded, as a locker reads a lock's answer. */
  public Object decodeValue(byte[] payload) {
    return CODEC.pool().fromBytes(payload, 0, payload.length, Purpose.SNAPSHOT);
  }

  @Override
  public void close() {
    region.close();
    arena.close();
  }
}
