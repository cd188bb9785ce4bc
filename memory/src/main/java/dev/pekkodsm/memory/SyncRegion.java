package dev.pekkodsm.memory;

import static dev.pekkodsm.memory.SlotLayout.INT;
import static dev.pekkodsm.memory.SlotLayout.LONG;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * A node's sync region (see {@link SyncLayout}): the cells of its mutexes and atomics, which peers
 * on this host map read-write and change with atomic instructions, and the writable slots the
 * values of its mutexes are committed into. Created in the folder of the node's snapshot arena,
 * with its token, so a peer that can read the arena finds and checks the region the same way.
 *
 * <p>The owner allocates and frees cells and value slots; everyone, the owner included, changes
 * them only through {@link SyncAccess}. Thread-safe.
 */
public final class SyncRegion implements SyncAccess, AutoCloseable {

  private final long node;
  private final int cellCount;
  private final long fileBytes;
  private final MappedByteBuffer cells;
  private final SnapshotArena values;
  private final int valueSegmentBytes;

  // Guarded by this.
  private int nextCell;
  private int[] freeCells = new int[64];
  private int freeCount;
  private int liveCells;

  private SyncRegion(long node, int cellCount, MappedByteBuffer cells, SnapshotArena values) {
    this.node = node;
    this.cellCount = cellCount;
    this.fileBytes = SyncLayout.fileBytes(cellCount);
    this.cells = cells;
    this.values = values;
    this.valueSegmentBytes = values.settings().segmentBytes();
  }

  /**
   * Creates the region in {@code arena}'s folder: a cells file of {@code cellCount} cells (sparse:
   * untouched cells cost nothing) and the value arena.
   *
   * @throws UncheckedIOException if the files cannot be created
   */
  public static SyncRegion create(SnapshotArena arena, int cellCount) {
    if (cellCount < 1 || SyncLayout.fileBytes(cellCount) > Integer.MAX_VALUE) {
      throw new IllegalArgumentException(
          "cellCount=" + cellCount + " must be in [1, " + maxCells() + "]");
    }
    Path path = arena.folder().resolve(SyncLayout.CELLS_FILE);
    long bytes = SyncLayout.fileBytes(cellCount);
    try (FileChannel channel =
        FileChannel.open(
            path,
            StandardOpenOption.CREATE_NEW,
            StandardOpenOption.READ,
            StandardOpenOption.WRITE)) {
      MappedByteBuffer cells = channel.map(FileChannel.MapMode.READ_WRITE, 0, bytes);
      cells.order(ByteOrder.LITTLE_ENDIAN);
      INT.set(cells, SyncLayout.VERSION_OFFSET, SyncLayout.LAYOUT_VERSION);
      INT.set(cells, SyncLayout.COUNT_OFFSET, cellCount);
      LONG.set(cells, SyncLayout.TOKEN_OFFSET, arena.tokenHi());
      LONG.set(cells, SyncLayout.TOKEN_OFFSET + 8, arena.tokenLo());
      long node = arena.endpoint().node();
      LONG.set(cells, SyncLayout.NODE_OFFSET, node);
      LONG.setRelease(cells, SyncLayout.MAGIC_OFFSET, SyncLayout.MAGIC); // header before magic
      return new SyncRegion(node, cellCount, cells, arena.sibling(SyncLayout.VALUES_PREFIX));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create the sync region " + path, e);
    }
  }

  /** The largest cell count a region may have. */
  public static int maxCells() {
    return (Integer.MAX_VALUE - SyncLayout.FIRST_CELL_OFFSET) / SyncLayout.CELL_BYTES;
  }

  /**
   * Allocates a cell for {@code object} of {@code kind}, its fields zero.
   *
   * @return the cell's locator
   * @throws ArenaFullException if every cell is in use
   */
  public long allocateCell(int kind, long object) {
    int index;
    synchronized (this) {
      if (freeCount > 0) {
        index = freeCells[--freeCount];
      } else if (nextCell < cellCount) {
        index = nextCell++;
      } else {
        throw new ArenaFullException(
            "the sync region of node "
                + Long.toHexString(node)
                + " has no free cell: "
                + cellCount
                + " mutexes and atomics are live. Raise pekko.dsm.sync.max-cells");
      }
      liveCells++;
    }
    int at = SyncLayout.FIRST_CELL_OFFSET + index * SyncLayout.CELL_BYTES;
    for (int field = 0; field < SyncLayout.CELL_BYTES; field += 8) {
      LONG.set(cells, at + field, 0L);
    }
    LONG.set(cells, at + SyncLayout.OBJECT, object);
    INT.setRelease(cells, at + SyncLayout.KIND, kind); // the fields before the kind
    return at;
  }

  /** Frees a cell once no handle can name it any more; operations naming it fail from then on. */
  public void freeCell(long cell) {
    int at = (int) cell;
    INT.setRelease(cells, at + SyncLayout.KIND, SyncLayout.KIND_FREE);
    LONG.set(cells, at + SyncLayout.OBJECT, 0L);
    synchronized (this) {
      if (freeCount == freeCells.length) {
        freeCells = java.util.Arrays.copyOf(freeCells, freeCount * 2);
      }
      freeCells[freeCount++] = (at - SyncLayout.FIRST_CELL_OFFSET) / SyncLayout.CELL_BYTES;
      liveCells--;
    }
  }

  /** Cells in use now. */
  public synchronized int liveCells() {
    return liveCells;
  }

  /**
   * Publishes a frame into a new writable value slot that holds frames of up to {@code
   * frameCapacity} bytes (at least this one), for a mutex's value.
   *
   * @return the slot's locator
   */
  public long allocateValue(byte[] frame, int length, int frameCapacity) {
    return values.reserve(frame, length, frameCapacity);
  }

  /** Frees a value slot no cell points at any more. */
  public void freeValue(long locator) {
    values.free(locator);
  }

  /** The largest frame a value slot holds. */
  public int valueCapacity(long locator) {
    return values.frameCapacityOf(locator);
  }

  @Override
  public long load(long cell, long object, int field, long deadlineNs) {
    return CellOps.load(cells, fileBytes, cell, object, field);
  }

  @Override
  public long compareAndExchange(
      long cell, long object, int field, long expected, long update, long deadlineNs) {
    return CellOps.compareAndExchange(cells, fileBytes, cell, object, field, expected, update);
  }

  @Override
  public long getAndAdd(long cell, long object, int field, long delta, long deadlineNs) {
    return CellOps.getAndAdd(cells, fileBytes, cell, object, field, delta);
  }

  @Override
  public void writeValue(long locator, byte[] frame, int length, long deadlineNs) {
    ByteBuffer segment = values.writableSegment(SlotLayout.segment(locator));
    if (segment == null) {
      throw new SyncFailedException(SyncStatus.OUT_OF_RANGE, "no value segment for " + locator);
    }
    SlotWrites.write(
        segment, valueSegmentBytes, SlotLayout.offset(locator), frame, length, deadlineNs);
  }

  @Override
  public ReadStatus readValue(
      long locator, long object, int color, ReadBuffer out, long deadlineNs) {
    return values.read(locator, object, color, out);
  }

  @Override
  public long peekValueColor(long locator, long object, long deadlineNs) {
    return values.peekColor(locator, object);
  }

  /**
   * A writable view of the cells file (little-endian, the whole file), for a transport that
   * registers the region with a NIC so that peers operate on it one-sided. Nobody changes the
   * region through it; every change goes through {@link SyncAccess}.
   */
  public ByteBuffer cellsForRegistration() {
    return cells();
  }

  /**
   * A writable view of segment {@code index} of the value slots, or null if there is no such
   * segment: as {@link #cellsForRegistration()}.
   */
  public ByteBuffer valuesForRegistration(int index) {
    return values.writableSegment(index);
  }

  /** The values arena, for the tcp read server. */
  SnapshotArena values() {
    return values;
  }

  /** A read-write view of the cells file, for the tcp read server. */
  ByteBuffer cells() {
    return cells.duplicate().order(ByteOrder.LITTLE_ENDIAN);
  }

  /** The size of the cells file. */
  long fileBytes() {
    return fileBytes;
  }

  /** Stops the region; its files go with the arena's folder. */
  @Override
  public void close() {
    values.close();
  }
}
