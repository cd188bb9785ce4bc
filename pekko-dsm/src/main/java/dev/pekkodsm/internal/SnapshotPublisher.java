package dev.pekkodsm.internal;

import dev.pekkodsm.coherence.GlobalAddress;
import dev.pekkodsm.coherence.OwnedObject;
import dev.pekkodsm.coherence.Snapshot;
import dev.pekkodsm.coherence.SnapshotPort;
import dev.pekkodsm.coherence.Timing;
import dev.pekkodsm.coherence.home.HomeReply;
import dev.pekkodsm.coherence.mutex.MutexStore;
import dev.pekkodsm.memory.ReadBuffer;
import dev.pekkodsm.memory.SnapshotArena;
import dev.pekkodsm.memory.SyncRegion;
import dev.pekkodsm.serialization.internal.KryoPool;
import dev.pekkodsm.serialization.internal.Purpose;
import dev.pekkodsm.serialization.internal.SnapshotCodec;
import java.util.Arrays;
import java.util.concurrent.ConcurrentHashMap;
import java.util.zip.CRC32C;

/**
 * Writes this node's objects into its arena, where other nodes read them one-sided: snapshots at a
 * color, snapshots rewritten in place (mutexes, atomics), and values parked for a large move. Also
 * the node's serializer of snapshot payloads.
 *
 * <p>Thread-safe.
 */
public final class SnapshotPublisher implements SnapshotPort, MutexStore {

  private final long self;
  private final KryoPool kryo;
  private final SnapshotCodec codec;
  private final SnapshotArena arena;
  private final SyncRegion region;
  private final Timing timing;
  private final Metrics metrics;
  private final int moveInlineBytes;
  private final long moveSlotKeepNs;
  private final ConcurrentHashMap<Long, Timing.Cancellable> moveSlots = new ConcurrentHashMap<>();

  /**
   * @param moveInlineBytes a moved value up to this size travels in the reply; larger ones wait in
   *     the arena
   * @param moveSlotKeepNs how long a large moved value waits for its writer's read at most
   */
  SnapshotPublisher(
      long self,
      KryoPool kryo,
      SnapshotCodec codec,
      SnapshotArena arena,
      SyncRegion region,
      Timing timing,
      Metrics metrics,
      int moveInlineBytes,
      long moveSlotKeepNs) {
    this.self = self;
    this.kryo = kryo;
    this.codec = codec;
    this.arena = arena;
    this.region = region;
    this.timing = timing;
    this.metrics = metrics;
    this.moveInlineBytes = moveInlineBytes;
    this.moveSlotKeepNs = moveSlotKeepNs;
  }

  /**
   * {@inheritDoc} For a mutex or an atomic, whose value lives in the sync region, the locator of
   * its cell.
   */
  @Override
  public Snapshot publish(OwnedObject obj) {
    switch (obj.kind()) {
      case MUTEX -> {
        return new Snapshot(obj.mutexCell().cell(), 0);
      }
      case ATOMIC -> {
        return new Snapshot(obj.atomicCell().cell(), 0);
      }
      default -> {
        // a box's or an arc's snapshot, below
      }
    }
    long locator = obj.locator();
    if (locator != 0) {
      return new Snapshot(locator, obj.snapshotBytes());
    }
    GlobalAddress a = obj.address();
    long[] published = new long[2];
    codec.encode(
        obj.value(),
        self,
        a.object(),
        a.color(),
        Purpose.SNAPSHOT,
        (frame, length) -> {
          published[0] = arena.publish(frame, length);
          published[1] = length;
          return null;
        });
    metrics.snapshotsPublished.increment();
    long effective = obj.published(a.color(), published[0], (int) published[1]);
    if (effective == 0) {
      throw new IllegalStateException("object " + a + " changed while being published");
    }
    return new Snapshot(effective, obj.snapshotBytes());
  }

  /**
   * Publishes {@code value} as the snapshot of {@code (object, color)} of this node, before the
   * object has that address (a write whose new color must be safe before it is seen).
   *
   * @return the slot's locator and the frame's length
   */
  long[] publishAt(Object value, long object, int color) {
    long[] published = new long[2];
    codec.encode(
        value,
        self,
        object,
        color,
        Purpose.SNAPSHOT,
        (frame, length) -> {
          published[0] = arena.publish(frame, length);
          published[1] = length;
          return null;
        });
    metrics.snapshotsPublished.increment();
    return published;
  }

  /**
   * Serializes an object being handed over, once (its nested handles move with it). Small values
   * travel in the reply; large ones wait in the arena for a one-sided read, because a message frame
   * is bounded.
   */
  HomeReply handOverValue(OwnedObject obj) {
    GlobalAddress a = obj.address();
    return codec.encode(
        obj.value(),
        self,
        a.object(),
        a.color(),
        Purpose.MOVE,
        (frame, length) -> {
          int payload = length - SnapshotCodec.HEADER_BYTES;
          if (payload <= moveInlineBytes) {
            byte[] bytes = new byte[payload];
            System.arraycopy(frame, SnapshotCodec.HEADER_BYTES, bytes, 0, payload);
            return new HomeReply.HandedOver(bytes);
          }
          long locator = arena.publish(frame, length);
          moveSlots.put(locator, timing.schedule(moveSlotKeepNs, () -> freeMoveSlot(locator)));
          return new HomeReply.HandedOverAt(a.color(), locator, length);
        });
  }

  /** Frees a slot left for a large move, once; unknown locators are ignored. */
  void freeMoveSlot(long locator) {
    Timing.Cancellable pending = moveSlots.remove(locator);
    if (pending != null) {
      pending.cancel();
      arena.free(locator);
    }
  }

  // ---------------------------------------------------------------- the sync region

  /** This node's sync region. */
  @Override
  public SyncRegion region() {
    return region;
  }

  /** The frame of a mutex's value, of any node's mutex (a locker commits into its home's slot). */
  public byte[] frame(Object value, long home, long object, int color) {
    return codec.encode(value, home, object, color, Purpose.SNAPSHOT);
  }

  @Override
  public byte[] frame(Object value, long object, int color) {
    return frame(value, self, object, color);
  }

  @Override
  public Object decode(ReadBuffer buffer) {
    return kryo.fromBytes(
        buffer.bytes(),
        SnapshotCodec.HEADER_BYTES,
        buffer.length() - SnapshotCodec.HEADER_BYTES,
        Purpose.SNAPSHOT);
  }

  /** Serializes a value as a snapshot payload (no handle may be inside). */
  public byte[] encodeValue(Object value) {
    return kryo.toBytes(value, Purpose.SNAPSHOT);
  }

  /** Deserializes a snapshot payload. */
  public Object decodeValue(byte[] bytes) {
    return kryo.fromBytes(bytes, 0, bytes.length, Purpose.SNAPSHOT);
  }

  /** Deserializes a value that moved here in a message (its nested handles arrive with it). */
  public Object decodeMoved(byte[] bytes) {
    return kryo.fromBytes(bytes, 0, bytes.length, Purpose.MOVE);
  }

  /**
   * A hash of a value's serialized form, for debug-mode detection of mutation during a shared
   * borrow. Never 0.
   */
  public long fingerprint(Object value) {
    byte[] bytes = kryo.toBytes(value, Purpose.FINGERPRINT);
    CRC32C crc = new CRC32C();
    crc.update(bytes);
    long h = (crc.getValue() << 32) ^ bytes.length ^ Arrays.hashCode(bytes);
    return h == 0 ? 1 : h;
  }
}
