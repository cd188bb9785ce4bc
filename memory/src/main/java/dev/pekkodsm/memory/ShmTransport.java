package dev.pekkodsm.memory;

import dev.pekkodsm.serialization.internal.SnapshotCodec;
import java.io.IOException;
import java.nio.ByteOrder;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * Same-host one-sided reads: a peer's segment files are mapped read-only and a read is a memory
 * copy checked by the slot's seqlock and the frame's CRC. The peer's CPU is not involved. The
 * peer's sync region (its cells and value slots) is mapped read-write, and changed with the same
 * atomic instructions the peer itself uses: the cluster is one trust domain.
 *
 * <p>Whether a peer is on this host is decided by the files themselves: the transport can open the
 * peer's first segment and it carries the peer's random token. A namesake folder on another host (a
 * shared mount, a copied path) fails that check.
 */
public final class ShmTransport implements OneSidedTransport {

  private final SnapshotCodec codec;
  private final int maxFrameBytes;

  /**
   * @param codec checks frames
   * @param maxFrameBytes the largest frame this node accepts
   */
  public ShmTransport(SnapshotCodec codec, int maxFrameBytes) {
    this.codec = codec;
    this.maxFrameBytes = maxFrameBytes;
  }

  @Override
  public String name() {
    return "shm";
  }

  @Override
  public PeerReader open(PeerEndpoint peer) throws TransportUnavailableException {
    Reader reader = new Reader(peer.arena());
    MappedByteBuffer first = reader.map(0);
    if (first == null) {
      throw new TransportUnavailableException(reader.failure);
    }
    return reader;
  }

  @Override
  public void close() {}

  private final class Reader implements PeerReader {
    private final ArenaEndpoint peer;
    private final Path folder;
    private final AtomicReferenceArray<MappedByteBuffer> segments;
    private final AtomicReferenceArray<MappedByteBuffer> values;
    private volatile MappedByteBuffer cells;
    private volatile long cellsBytes;
    private volatile boolean closed;
    private volatile String failure = "not mapped";

    Reader(ArenaEndpoint peer) {
      this.peer = peer;
      this.folder = Path.of(peer.directory());
      this.segments = new AtomicReferenceArray<>(peer.maxSegments());
      this.values = new AtomicReferenceArray<>(peer.maxSegments());
    }

    @Override
    public String transport() {
      return "shm";
    }

    @Override
    public ArenaEndpoint endpoint() {
      return peer;
    }

    @Override
    public ReadStatus read(long locator, long object, int color, ReadBuffer out, long deadlineNs) {
      int index = SlotLayout.segment(locator);
      if (index >= peer.maxSegments()) {
        return ReadStatus.OUT_OF_RANGE;
      }
      MappedByteBuffer segment = segments.get(index);
      if (segment == null) {
        segment = map(index);
        if (segment == null) {
          // A segment the owner has not created is a locator outside its arena, not an outage.
          return Files.exists(SnapshotArena.segmentPath(folder, index))
              ? ReadStatus.UNAVAILABLE
              : ReadStatus.OUT_OF_RANGE;
        }
      }
      if (closed) {
        return ReadStatus.UNAVAILABLE;
      }
      return SlotReads.read(
          segment,
          peer.segmentBytes(),
          SlotLayout.offset(locator),
          codec,
          peer.node(),
          object,
          color,
          maxFrameBytes,
          out,
          deadlineNs);
    }

    @Override
    public long peekColor(long locator, long object, long deadlineNs) {
      int index = SlotLayout.segment(locator);
      if (index >= peer.maxSegments() || closed) {
        return -1;
      }
      MappedByteBuffer segment = segments.get(index);
      if (segment == null) {
        return -1; // the first read of a segment maps it
      }
      return SlotReads.peekColor(
          segment,
          peer.segmentBytes(),
          SlotLayout.offset(locator),
          peer.node(),
          object,
          deadlineNs);
    }

    /** Maps and validates one snapshot segment; null (with {@link #failure} set) if it cannot. */
    MappedByteBuffer map(int index) {
      return map(segments, SnapshotArena.segmentPath(folder, index), index, false);
    }

    /** Maps a segment read-only, or read-write for the value slots of the sync region. */
    private MappedByteBuffer map(
        AtomicReferenceArray<MappedByteBuffer> into, Path path, int index, boolean writable) {
      if (closed) {
        return null;
      }
      try (FileChannel channel =
          writable
              ? FileChannel.open(path, StandardOpenOption.READ, StandardOpenOption.WRITE)
              : FileChannel.open(path, StandardOpenOption.READ)) {
        if (channel.size() < peer.segmentBytes()) {
          failure = path + " is " + channel.size() + " bytes, expected " + peer.segmentBytes();
          return null;
        }
        MappedByteBuffer segment =
            channel.map(
                writable ? FileChannel.MapMode.READ_WRITE : FileChannel.MapMode.READ_ONLY,
                0,
                peer.segmentBytes());
        segment.order(ByteOrder.LITTLE_ENDIAN);
        long magic = (long) SlotLayout.LONG.get(segment, SlotLayout.SEGMENT_MAGIC_OFFSET);
        int version = (int) SlotLayout.INT.get(segment, SlotLayout.SEGMENT_VERSION_OFFSET);
        int storedIndex = (int) SlotLayout.INT.get(segment, SlotLayout.SEGMENT_INDEX_OFFSET);
        long tokenHi = (long) SlotLayout.LONG.get(segment, SlotLayout.SEGMENT_TOKEN_OFFSET);
        long tokenLo = (long) SlotLayout.LONG.get(segment, SlotLayout.SEGMENT_TOKEN_OFFSET + 8);
        long node = (long) SlotLayout.LONG.get(segment, SlotLayout.SEGMENT_NODE_OFFSET);
        if (magic != SlotLayout.SEGMENT_MAGIC || version != SlotLayout.LAYOUT_VERSION) {
          failure = path + " is not an arena segment of layout " + SlotLayout.LAYOUT_VERSION;
          return null;
        }
        if (tokenHi != peer.tokenHi()
            || tokenLo != peer.tokenLo()
            || node != peer.node()
            || storedIndex != index) {
          failure =
              path
                  + " belongs to another arena (token or node differs): the peer is not "
                  + "on this host, or has restarted";
          return null;
        }
        if (into.compareAndSet(index, null, segment)) {
          return segment;
        }
        return into.get(index);
      } catch (IOException | RuntimeException e) {
        failure = "cannot map " + path + ": " + e;
        return null;
      }
    }

    // ------------------------------------------------------------------ the sync region

    /** The peer's cells file, mapped read-write on first use and checked like a segment. */
    private MappedByteBuffer cells() {
      MappedByteBuffer mapped = cells;
      if (mapped != null) {
        return mapped;
      }
      synchronized (this) {
        if (cells != null) {
          return cells;
        }
        if (closed) {
          throw unavailable("the reader is closed");
        }
        Path path = folder.resolve(SyncLayout.CELLS_FILE);
        try (FileChannel channel =
            FileChannel.open(path, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
          long size = channel.size();
          if (size < SyncLayout.FIRST_CELL_OFFSET || size > Integer.MAX_VALUE) {
            throw unavailable(path + " is " + size + " bytes: not a cells file");
          }
          MappedByteBuffer m = channel.map(FileChannel.MapMode.READ_WRITE, 0, size);
          m.order(ByteOrder.LITTLE_ENDIAN);
          long magic = (long) SlotLayout.LONG.getAcquire(m, SyncLayout.MAGIC_OFFSET);
          int version = (int) SlotLayout.INT.get(m, SyncLayout.VERSION_OFFSET);
          long tokenHi = (long) SlotLayout.LONG.get(m, SyncLayout.TOKEN_OFFSET);
          long tokenLo = (long) SlotLayout.LONG.get(m, SyncLayout.TOKEN_OFFSET + 8);
          long node = (long) SlotLayout.LONG.get(m, SyncLayout.NODE_OFFSET);
          int count = (int) SlotLayout.INT.get(m, SyncLayout.COUNT_OFFSET);
          if (magic != SyncLayout.MAGIC || version != SyncLayout.LAYOUT_VERSION) {
            throw unavailable(
                path + " is not a sync region of layout " + SyncLayout.LAYOUT_VERSION);
          }
          if (tokenHi != peer.tokenHi() || tokenLo != peer.tokenLo() || node != peer.node()) {
            throw unavailable(path + " belongs to another arena (token or node differs)");
          }
          cellsBytes = Math.min(size, SyncLayout.fileBytes(count));
          cells = m;
          return m;
        } catch (IOException | RuntimeException e) {
          if (e instanceof SyncFailedException f) {
            throw f;
          }
          throw unavailable("cannot map " + path + ": " + e);
        }
      }
    }

    private MappedByteBuffer valueSegment(int index) {
      if (index < 0 || index >= peer.maxSegments()) {
        throw new SyncFailedException(SyncStatus.OUT_OF_RANGE, "no value segment " + index);
      }
      MappedByteBuffer segment = values.get(index);
      if (segment == null) {
        Path path = SnapshotArena.segmentPath(folder, SyncLayout.VALUES_PREFIX, index);
        segment = map(values, path, index, true);
        if (segment == null) {
          if (!Files.exists(path)) {
            throw new SyncFailedException(SyncStatus.OUT_OF_RANGE, "no value segment " + index);
          }
          throw unavailable(failure);
        }
      }
      return segment;
    }

    private SyncFailedException unavailable(String why) {
      return new SyncFailedException(SyncStatus.UNAVAILABLE, why);
    }

    @Override
    public long load(long cell, long object, int field, long deadlineNs) {
      MappedByteBuffer c = cells();
      return CellOps.load(c, cellsBytes, cell, object, field);
    }

    @Override
    public long compareAndExchange(
        long cell, long object, int field, long expected, long update, long deadlineNs) {
      MappedByteBuffer c = cells();
      return CellOps.compareAndExchange(c, cellsBytes, cell, object, field, expected, update);
    }

    @Override
    public long getAndAdd(long cell, long object, int field, long delta, long deadlineNs) {
      MappedByteBuffer c = cells();
      return CellOps.getAndAdd(c, cellsBytes, cell, object, field, delta);
    }

    @Override
    public void writeValue(long locator, byte[] frame, int length, long deadlineNs) {
      MappedByteBuffer segment = valueSegment(SlotLayout.segment(locator));
      SlotWrites.write(
          segment, peer.segmentBytes(), SlotLayout.offset(locator), frame, length, deadlineNs);
    }

    @Override
    public ReadStatus readValue(
        long locator, long object, int color, ReadBuffer out, long deadlineNs) {
      MappedByteBuffer segment;
      try {
        segment = valueSegment(SlotLayout.segment(locator));
      } catch (SyncFailedException e) {
        return e.status() == SyncStatus.OUT_OF_RANGE
            ? ReadStatus.OUT_OF_RANGE
            : ReadStatus.UNAVAILABLE;
      }
      return SlotReads.read(
          segment,
          peer.segmentBytes(),
          SlotLayout.offset(locator),
          codec,
          peer.node(),
          object,
          color,
          maxFrameBytes,
          out,
          deadlineNs);
    }

    @Override
    public long writeThenExchange(
        long cell,
        long object,
        int slotField,
        byte[] frame,
        int length,
        long expected,
        long update,
        long deadlineNs) {
      return SyncAccess.writeThenExchangeStepwise(
          this, cell, object, slotField, frame, length, expected, update, deadlineNs);
    }

    @Override
    public ActiveValue readActive(
        long cell, long object, int selectorBit, long knownColor, ReadBuffer out, long deadlineNs) {
      return SyncAccess.readActiveStepwise(
          this, cell, object, selectorBit, knownColor, out, deadlineNs);
    }

    @Override
    public ActiveValue exchangeThenRead(
        long cell,
        long object,
        int selectorBit,
        long expected,
        long update,
        long knownColor,
        ReadBuffer out,
        long deadlineNs) {
      return SyncAccess.exchangeThenReadStepwise(
          this, cell, object, selectorBit, expected, update, knownColor, out, deadlineNs);
    }

    @Override
    public long peekValueColor(long locator, long object, long deadlineNs) {
      int index = SlotLayout.segment(locator);
      MappedByteBuffer segment = index < peer.maxSegments() ? values.get(index) : null;
      if (segment == null || closed) {
        return -1; // the first read of a segment maps it
      }
      return SlotReads.peekColor(
          segment,
          peer.segmentBytes(),
          SlotLayout.offset(locator),
          peer.node(),
          object,
          deadlineNs);
    }

    @Override
    public void close() {
      closed = true;
      for (int i = 0; i < segments.length(); i++) {
        segments.set(i, null);
        values.set(i, null);
      }
      cells = null;
    }
  }
}
