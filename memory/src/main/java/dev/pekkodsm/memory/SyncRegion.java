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
import java.util.Arrays;
import java.util.BitSet;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A node's sync region (see {@link SyncLayout}): the cells of its mutexes and atomics, which peers
 * on this host map read-write and change with atomic instructions, and the writable slots the
 * values of its mutexes are committed into. Created in the folder of the node's snapshot arena,
 * with its token, so a peer that can read the arena finds and checks the region the same way.
 *
 * <p>The owner allocates and frees cells and value slots; everyone, the owner included, changes
 * them only through {@link SyncAccess}. Thread-safe.
 *
 * <p>A <em>mirror</em> ({@link #mirror}) is the backup's copy of another node's region, in the
 * folder of the mirror of its arena: it allocates nothing and changes by the records of what the
 * primary allocated and freed ({@link #applyCellAllocated}, {@link #applyCellFreed}, {@link
 * #applyValueWrite}, {@link #applyValueFree}) and by the one-sided operations writers apply to both
 * regions, until {@link #promote()} makes it an ordinary region.
 *
 * <p>A region whose node keeps a backup reports every change its owner makes to a {@link Changes}
 * ({@link #replicateTo}) <em>before</em> the change can be seen here: a value visible in the region
 * is at the backup already. Changes made one-sided by peers (and through {@link #unreported()})
 * bypass it: with a backup, peers take and give back locks one-sided, which a mirror does not hold
 * (it holds committed values), and commit one-sided only what they wrote to the backup first.
 */
public final class SyncRegion implements SyncAccess, AutoCloseable {

  private final long node;
  private final int cellCount;
  private final long fileBytes;
  private final MappedByteBuffer cells;
  private final SnapshotArena values;
  private final int valueSegmentBytes;

  private final Map<Long, Object> cellLocks = new ConcurrentHashMap<>(); // see cellLock
  private volatile Changes changes; // null: no backup

  // Guarded by this.
  private BitSet mirrorCells; // non-null while this is an unpromoted mirror: its allocated cells
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
   * Where the owner's changes to a region are reported before they are made, for a backup. Every
   * call returns once the change may be seen (the backup holds it, or will before anything shipped
   * after it), or throws, and then the change is not made here.
   */
  public interface Changes {

    /**
     * Whether field {@code field} of a cell of {@code kind} going from {@code old} to {@code
     * update} is a change the backup holds. One that is not (a lock taken or given back) is made at
     * once, waiting for nothing, and never reported.
     */
    boolean holds(int kind, int field, long old, long update);

    /**
     * Whether a change the backup holds is made only once the backup acknowledged it (a value seen
     * through this field), rather than reported and made at once (a field seen only through
     * another, such as a slot's locator through the word, or a change the backup is only told of
     * after the fact). Changes that wait are reported one at a time per cell, under a lock of the
     * cell held while the backup is told.
     */
    boolean waits(int kind, int field, long old, long update);

    /**
     * Field {@code field} of {@code cell}, of {@code kind} and {@code object}, goes from {@code
     * old} to {@code update}: returns once the change may be seen ({@link #waits}), or at once.
     *
     * @return a ticket for {@link #fieldChanged}
     * @throws SyncFailedException if the backup cannot be told; the field keeps {@code old}, and
     *     the backup is told so
     */
    long fieldChanging(long cell, int kind, long object, int field, long old, long update);

    /**
     * The change reported with {@code ticket} was made: the field holds {@code value} now. Lets the
     * reporter repeat it if the backup changed in between (a new backup's copy may have been taken
     * before it was made).
     */
    void fieldChanged(long ticket, long cell, int kind, long object, int field, long value);

    /**
     * A change reported with {@link #fieldChanging} was not made (the field changed meanwhile): it
     * holds {@code value}. Told without waiting, and never taken back: it is what the field holds,
     * which a later change of the cell follows.
     */
    void fieldStands(long cell, int kind, long object, int field, long value);

    /** {@code cell} was allocated to {@code object} of {@code kind}, its fields zero. */
    void cellAllocated(long cell, int kind, long object);

    /** {@code cell} is about to be freed. */
    void cellFreeing(long cell);

    /** The value slot at {@code locator} (of {@code capacity} bytes) gets {@code frame}. */
    void valueWritten(long locator, int capacity, byte[] frame, int length);

    /** The value slot at {@code locator} is about to be freed. */
    void valueFreeing(long locator);
  }

  /**
   * Reports the owner's changes to {@code sink} from now on, or to nobody ({@code null}).
   *
   * @throws IllegalStateException on an unpromoted mirror
   */
  public void replicateTo(Changes sink) {
    requireOwned("replicateTo");
    this.changes = sink;
  }

  /**
   * Creates the region in {@code arena}'s folder: a cells file of {@code cellCount} cells (sparse:
   * untouched cells cost nothing) and the value arena.
   *
   * @throws IllegalStateException if {@code arena} is a mirror
   * @throws UncheckedIOException if the files cannot be created
   */
  public static SyncRegion create(SnapshotArena arena, int cellCount) {
    if (arena.isMirror()) {
      throw new IllegalStateException(
          "the arena " + arena.folder() + " is a mirror; use mirror() for its region");
    }
    return open(arena, cellCount);
  }

  /**
   * Creates the mirror of a node's region in the folder of {@code mirrorArena}, the mirror of that
   * node's arena: a cells file with the node's id and token and {@code cellCount} cells (the
   * primary's count), and the mirror of its value arena.
   *
   * @throws IllegalStateException if {@code mirrorArena} is not an unpromoted mirror
   * @throws UncheckedIOException if the files cannot be created
   */
  public static SyncRegion mirror(SnapshotArena mirrorArena, int cellCount) {
    if (!mirrorArena.isMirror()) {
      throw new IllegalStateException(
          "the arena " + mirrorArena.folder() + " is not a mirror; use create() for a primary");
    }
    SyncRegion region = open(mirrorArena, cellCount);
    synchronized (region) {
      region.mirrorCells = new BitSet();
    }
    return region;
  }

  private static SyncRegion open(SnapshotArena arena, int cellCount) {
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

  /** How many cells the region has room for. */
  public int cellCount() {
    return cellCount;
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
      requireOwned("allocateCell");
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
    initCell(at, kind, object);
    Changes sink = changes;
    if (sink != null) {
      sink.cellAllocated(at, kind, object);
    }
    return at;
  }

  private void initCell(int at, int kind, long object) {
    for (int field = 0; field < SyncLayout.CELL_BYTES; field += 8) {
      LONG.set(cells, at + field, 0L);
    }
    LONG.set(cells, at + SyncLayout.OBJECT, object);
    INT.setRelease(cells, at + SyncLayout.KIND, kind); // the fields before the kind
  }

  private void clearCell(int at) {
    INT.setRelease(cells, at + SyncLayout.KIND, SyncLayout.KIND_FREE);
    LONG.set(cells, at + SyncLayout.OBJECT, 0L);
  }

  /** Frees a cell once no handle can name it any more; operations naming it fail from then on. */
  public void freeCell(long cell) {
    requireOwned("freeCell");
    int at = (int) cell;
    Changes sink = changes;
    if (sink != null) {
      synchronized (cellLock(cell)) { // after any change of it still being reported
        sink.cellFreeing(at);
        clearCell(at);
      }
      cellLocks.remove(cell);
    } else {
      clearCell(at);
    }
    synchronized (this) {
      if (freeCount == freeCells.length) {
        freeCells = Arrays.copyOf(freeCells, freeCount * 2);
      }
      freeCells[freeCount++] = (at - SyncLayout.FIRST_CELL_OFFSET) / SyncLayout.CELL_BYTES;
      liveCells--;
    }
  }

  /**
   * Takes {@link SyncLayout#REPLICATION_CELL} for the backup's epoch and id ({@link
   * #publishBackup}); before {@link #replicateTo}, so the backup is not told of it.
   *
   * @throws IllegalStateException if a cell was allocated before, or on a mirror
   */
  public void reserveReplicationCell() {
    synchronized (this) {
      requireOwned("reserveReplicationCell");
      if (nextCell != 0 || changes != null) {
        throw new IllegalStateException(
            "the replication cell is the region's first, taken before any other");
      }
      nextCell = 1;
      liveCells++;
    }
    initCell((int) SyncLayout.REPLICATION_CELL, SyncLayout.KIND_REPLICATION, 0);
  }

  /**
   * Says which node backs this region up ({@code backup}, 0 for none) from copy {@code epoch} on:
   * the id first, then the epoch, so a writer that reads the epoch, then the id, never pairs an
   * epoch with a later backup's id without the later epoch telling it. Not reported.
   */
  public void publishBackup(long epoch, long backup) {
    int at = (int) SyncLayout.REPLICATION_CELL;
    CellOps.check(cells, fileBytes, at, SyncLayout.REPLICATION_OBJECT, SyncLayout.WORD);
    if ((int) INT.getVolatile(cells, at + SyncLayout.KIND) != SyncLayout.KIND_REPLICATION) {
      throw new IllegalStateException("the region has no replication cell");
    }
    LONG.setVolatile(cells, at + SyncLayout.FULL_VERSION, backup);
    LONG.setVolatile(cells, at + SyncLayout.WORD, epoch);
  }

  /**
   * On a mirror: field {@code field} of the allocated cell at {@code cell}, whatever object it
   * belongs to.
   *
   * @throws IllegalArgumentException if {@code cell} names no allocated cell
   * @throws IllegalStateException if this is not an unpromoted mirror
   */
  public synchronized long mirrorField(long cell, int field) {
    if (!isAllocated(cell) || !SyncLayout.isOperandField(field)) {
      throw new IllegalArgumentException("no allocated cell at " + cell + " field " + field);
    }
    return (long) LONG.getVolatile(cells, (int) cell + field);
  }

  /**
   * The region as another writer on this host operates on it: nothing done through this view is
   * reported to the backup ({@link #replicateTo}), as a peer's one-sided operations are not. For
   * the owner's own commits of a mutex, which the committing thread writes to the backup itself
   * first, as a peer does.
   */
  public SyncAccess unreported() {
    return unreported;
  }

  private final SyncAccess unreported =
      new SyncAccess() {
        @Override
        public long load(long cell, long object, int field, long deadlineNs) {
          return CellOps.load(cells, fileBytes, cell, object, field);
        }

        @Override
        public long compareAndExchange(
            long cell, long object, int field, long expected, long update, long deadlineNs) {
          return CellOps.compareAndExchange(
              cells, fileBytes, cell, object, field, expected, update);
        }

        @Override
        public long getAndAdd(long cell, long object, int field, long delta, long deadlineNs) {
          return CellOps.getAndAdd(cells, fileBytes, cell, object, field, delta);
        }

        @Override
        public void writeValue(long locator, byte[] frame, int length, long deadlineNs) {
          writeFrame(locator, frame, length, deadlineNs);
        }

        @Override
        public ReadStatus readValue(
            long locator, long object, int color, ReadBuffer out, long deadlineNs) {
          return SyncRegion.this.readValue(locator, object, color, out, deadlineNs);
        }

        @Override
        public long peekValueColor(long locator, long object, long deadlineNs) {
          return SyncRegion.this.peekValueColor(locator, object, deadlineNs);
        }
      };

  /**
   * Says how far the stream to the backup got: the number of the last record that joined it and of
   * the last one the backup acknowledged, in the epoch {@link #publishBackup} last named. Not
   * reported.
   */
  public void publishStream(long lastSeq, long ackedSeq) {
    int at = (int) SyncLayout.REPLICATION_CELL;
    CellOps.check(cells, fileBytes, at, SyncLayout.REPLICATION_OBJECT, SyncLayout.WORD);
    LONG.setVolatile(cells, at + SyncLayout.REPLICATION_LAST, lastSeq);
    LONG.setVolatile(cells, at + SyncLayout.REPLICATION_ACKED, ackedSeq);
  }

  /** The kind of the cell at {@code cell} ({@link SyncLayout#KIND_FREE} if none is there). */
  public int kindOf(long cell) {
    if (!SyncLayout.holdsCell(fileBytes, cell)) {
      return SyncLayout.KIND_FREE;
    }
    return (int) INT.getVolatile(cells, (int) cell + SyncLayout.KIND);
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
    requireOwned("allocateValue");
    long locator = values.reserve(frame, length, frameCapacity);
    Changes sink = changes;
    if (sink != null) {
      sink.valueWritten(locator, slotCapacity(locator), frame, length);
    }
    return locator;
  }

  private int slotCapacity(long locator) {
    return values.frameCapacityOf(locator) + SlotLayout.SLOT_HEADER_BYTES;
  }

  /** Frees a value slot no cell points at any more. */
  public void freeValue(long locator) {
    requireOwned("freeValue");
    Changes sink = changes;
    if (sink != null) {
      sink.valueFreeing(locator);
    }
    values.free(locator);
  }

  /**
   * On a mirror: makes the cell at {@code cell} belong to {@code object} of {@code kind}, its
   * fields zero, as the primary's {@link #allocateCell} did. A record repeating what the cell holds
   * changes nothing (the operations applied since stand).
   *
   * @throws IllegalArgumentException if {@code cell} names no cell, {@code kind} is no kind, or the
   *     cell is allocated to another object or kind; nothing is changed
   * @throws IllegalStateException if this is not an unpromoted mirror
   */
  public synchronized void applyCellAllocated(long cell, int kind, long object) {
    BitSet allocated = requireMirror("applyCellAllocated");
    int at = checkCell(cell);
    if (kind != SyncLayout.KIND_ATOMIC && kind != SyncLayout.KIND_MUTEX) {
      throw new IllegalArgumentException(
          "mirror record refused: cell " + cell + " gets kind " + Integer.toHexString(kind));
    }
    int index = (at - SyncLayout.FIRST_CELL_OFFSET) / SyncLayout.CELL_BYTES;
    if (allocated.get(index)) {
      int held = (int) INT.getVolatile(cells, at + SyncLayout.KIND);
      long owner = (long) LONG.getVolatile(cells, at + SyncLayout.OBJECT);
      if (held == kind && owner == object) {
        return;
      }
      throw new IllegalArgumentException(
          "mirror record refused: cell "
              + cell
              + " is allocated to object "
              + Long.toHexString(owner)
              + " (kind "
              + Integer.toHexString(held)
              + "), not free for object "
              + Long.toHexString(object)
              + " (kind "
              + Integer.toHexString(kind)
              + ")");
    }
    initCell(at, kind, object);
    allocated.set(index);
  }

  /**
   * On a mirror: frees the cell at {@code cell} as the primary's {@link #freeCell} did. A repeated
   * record changes nothing.
   *
   * @throws IllegalArgumentException if {@code cell} names no cell; nothing is changed
   * @throws IllegalStateException if this is not an unpromoted mirror
   */
  public synchronized void applyCellFreed(long cell) {
    BitSet allocated = requireMirror("applyCellFreed");
    int at = checkCell(cell);
    int index = (at - SyncLayout.FIRST_CELL_OFFSET) / SyncLayout.CELL_BYTES;
    if (allocated.get(index)) {
      clearCell(at);
      allocated.clear(index);
    }
  }

  /**
   * On a mirror: sets field {@code field} of the allocated cell at {@code cell} to {@code value},
   * as the primary's owner changed it.
   *
   * @throws IllegalArgumentException if {@code cell} names no allocated cell or {@code field} is no
   *     8-byte field a writer changes (the word, the full version, a slot locator); nothing is
   *     changed
   * @throws IllegalStateException if this is not an unpromoted mirror
   */
  public synchronized void applyCellField(long cell, int field, long value) {
    BitSet allocated = requireMirror("applyCellField");
    int at = checkCell(cell);
    if (!SyncLayout.isOperandField(field)) {
      throw new IllegalArgumentException(
          "mirror record refused: field " + field + " of cell " + cell + " is not writable");
    }
    if (!allocated.get((at - SyncLayout.FIRST_CELL_OFFSET) / SyncLayout.CELL_BYTES)) {
      throw new IllegalArgumentException(
          "mirror record refused: cell " + cell + " is not allocated");
    }
    LONG.setVolatile(cells, at + field, value);
  }

  /**
   * On a mirror: {@link SnapshotArena#applyWrite} on the value arena, for the primary's {@link
   * #allocateValue}.
   */
  public void applyValueWrite(long locator, int capacity, byte[] frame, int length) {
    synchronized (this) {
      requireMirror("applyValueWrite");
    }
    values.applyWrite(locator, capacity, frame, length);
  }

  /**
   * On a mirror: {@link SnapshotArena#applyFree} on the value arena, for the primary's {@link
   * #freeValue}.
   */
  public void applyValueFree(long locator) {
    synchronized (this) {
      requireMirror("applyValueFree");
    }
    values.applyFree(locator);
  }

  /**
   * Makes a mirror an ordinary region of its node, which allocates and frees from now on: cells are
   * allocated from those the records left free and value slots as {@link SnapshotArena#promote()}
   * says. Records are refused from now on.
   *
   * @throws IllegalStateException if this is not an unpromoted mirror
   */
  public synchronized void promote() {
    BitSet allocated = requireMirror("promote");
    values.promote();
    nextCell = allocated.length();
    freeCount = 0;
    for (int index = nextCell - 1; index >= 0; index--) {
      if (!allocated.get(index)) {
        if (freeCount == freeCells.length) {
          freeCells = Arrays.copyOf(freeCells, freeCount * 2);
        }
        freeCells[freeCount++] = index;
      }
    }
    liveCells = allocated.cardinality();
    mirrorCells = null;
  }

  /**
   * On a mirror: true if a record allocated the cell at {@code cell} (false for a locator that
   * names no cell).
   *
   * @throws IllegalStateException if this is not an unpromoted mirror
   */
  public synchronized boolean isAllocated(long cell) {
    BitSet allocated = requireMirror("isAllocated");
    return SyncLayout.holdsCell(fileBytes, cell)
        && allocated.get(((int) cell - SyncLayout.FIRST_CELL_OFFSET) / SyncLayout.CELL_BYTES);
  }

  /** True while this is a mirror that has not been promoted. */
  public synchronized boolean isMirror() {
    return mirrorCells != null;
  }

  private BitSet requireMirror(String operation) {
    if (mirrorCells == null) {
      throw new IllegalStateException(
          operation
              + ": the sync region of node "
              + Long.toHexString(node)
              + " is not a mirror (or was promoted); it changes by its own allocations only");
    }
    return mirrorCells;
  }

  private synchronized void requireOwned(String operation) {
    if (mirrorCells != null) {
      throw new IllegalStateException(
          operation
              + ": the sync region mirrors node "
              + Long.toHexString(node)
              + " and changes by its records only; promote() it first");
    }
  }

  private int checkCell(long cell) {
    if (!SyncLayout.holdsCell(fileBytes, cell)) {
      throw new IllegalArgumentException(
          "mirror record refused: " + cell + " names no cell of a region of " + cellCount);
    }
    return (int) cell;
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
    Changes sink = changes;
    if (sink == null) {
      return CellOps.compareAndExchange(cells, fileBytes, cell, object, field, expected, update);
    }
    long first = CellOps.load(cells, fileBytes, cell, object, field);
    if (first != expected) {
      return first; // a failed exchange, as of this load
    }
    int kind = (int) INT.getVolatile(cells, (int) cell + SyncLayout.KIND);
    if (!sink.holds(kind, field, expected, update)) {
      // Nothing the backup holds changes: no order to keep with it, so no lock that a change
      // waiting for the backup could hold up (the thread serving requests takes locks back).
      return CellOps.compareAndExchange(cells, fileBytes, cell, object, field, expected, update);
    }
    if (!sink.waits(kind, field, expected, update)) {
      // Reported first, made at once, and the backup told what stands if it was not made: never
      // held up by a change of the same cell that waits for the backup.
      long ticket = sink.fieldChanging(cell, kind, object, field, expected, update);
      long witness =
          CellOps.compareAndExchange(cells, fileBytes, cell, object, field, expected, update);
      if (witness != expected) {
        sink.fieldStands(cell, kind, object, field, witness);
      } else {
        sink.fieldChanged(ticket, cell, kind, object, field, update);
      }
      return witness;
    }
    synchronized (cellLock(cell)) {
      long seen = CellOps.load(cells, fileBytes, cell, object, field);
      if (seen != expected) {
        return seen;
      }
      long ticket = sink.fieldChanging(cell, kind, object, field, expected, update);
      long witness =
          CellOps.compareAndExchange(cells, fileBytes, cell, object, field, expected, update);
      if (witness != expected) {
        // Changed meanwhile by a change the backup does not hold (a lock taken, given back or
        // taken back): the backup is told what stands.
        if (sink.holds(kind, field, update, witness)) {
          sink.fieldStands(cell, kind, object, field, witness);
        }
      } else {
        sink.fieldChanged(ticket, cell, kind, object, field, update);
      }
      return witness;
    }
  }

  @Override
  public long getAndAdd(long cell, long object, int field, long delta, long deadlineNs) {
    Changes sink = changes;
    if (sink == null) {
      return CellOps.getAndAdd(cells, fileBytes, cell, object, field, delta);
    }
    while (true) {
      long seen = CellOps.load(cells, fileBytes, cell, object, field);
      if (compareAndExchange(cell, object, field, seen, seen + delta, deadlineNs) == seen) {
        return seen;
      }
    }
  }

  /** The lock ordering the reported changes of one cell (held while the backup is told). */
  private Object cellLock(long cell) {
    return cellLocks.computeIfAbsent(cell, c -> new Object());
  }

  @Override
  public void writeValue(long locator, byte[] frame, int length, long deadlineNs) {
    writeFrame(locator, frame, length, deadlineNs);
    Changes sink = changes;
    if (sink != null) {
      // Reported once written (a frame that does not fit is refused above, and not reported): it
      // goes into a slot no word names yet (a commit's inactive slot), and the word's change that
      // makes it seen is reported after this, and waits for both.
      sink.valueWritten(locator, slotCapacity(locator), frame, length);
    }
  }

  private void writeFrame(long locator, byte[] frame, int length, long deadlineNs) {
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
