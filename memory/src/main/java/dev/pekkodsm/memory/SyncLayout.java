package dev.pekkodsm.memory;

/**
 * The layout of a node's sync region: the cells that lock words and atomics live in, which peers
 * change with one-sided atomic operations. The cells file sits in the arena folder beside the
 * snapshot segments; the values of mutexes live in writable slots of a second arena in the same
 * folder ({@code val-NNNNN} files), with the slot layout of {@link SlotLayout}.
 *
 * <pre>
 * cells file ("sync-cells")
 *   0    8  magic "PDSMSYN1"
 *   8    4  layout version
 *  12    4  cell count
 *  16   16  arena token (the arena's; a peer proves it mapped the right region)
 *  32    8  node id
 *  4096     first cell
 *
 * cell (64 bytes, one cache line)
 *   0    8  word: the value of an atomic; the lock word of a mutex
 *   8    8  the full version of a mutex's committed (or committing) value
 *  16    8  locator of a mutex's value slot A (values arena)
 *  24    8  locator of a mutex's value slot B
 *  32    4  kind: 0 free, KIND_ATOMIC, KIND_MUTEX
 *  36    4  unused
 *  40    8  object id the cell belongs to
 *  48   16  reserved
 * </pre>
 *
 * A cell locator is the cell's byte offset in the file. Every operation names the object it means
 * and the cell is checked to belong to it, so a stale or forged locator can never change another
 * object's cell.
 */
public final class SyncLayout {

  public static final long MAGIC = 0x314E59534D534450L; // "PDSMSYN1" little-endian
  public static final int LAYOUT_VERSION = 1;
  public static final int MAGIC_OFFSET = 0;
  public static final int VERSION_OFFSET = 8;
  public static final int COUNT_OFFSET = 12;
  public static final int TOKEN_OFFSET = 16;
  public static final int NODE_OFFSET = 32;
  public static final int FIRST_CELL_OFFSET = 4096;

  public static final int CELL_BYTES = 64;

  /** Field offsets within a cell, for the operations' {@code field} argument. */
  public static final int WORD = 0;

  public static final int FULL_VERSION = 8;
  public static final int LOCATOR_A = 16;
  public static final int LOCATOR_B = 24;
  public static final int KIND = 32;
  public static final int OBJECT = 40;

  public static final int KIND_FREE = 0;
  public static final int KIND_ATOMIC = 0x54415344; // "DSAT"
  public static final int KIND_MUTEX = 0x584d5344; // "DSMX"

  /**
   * The cell a replicated region keeps its backup in, for writers that write the backup themselves:
   * the region's first cell, taken before any other, of {@link #KIND_REPLICATION} and object {@link
   * #REPLICATION_OBJECT} (an id no object has). Its {@link #WORD} is the epoch of the backup's copy
   * (0: no backup), its {@link #FULL_VERSION} the backup's node id (the owner writes the id first);
   * {@link #REPLICATION_LAST} and {@link #REPLICATION_ACKED} say how far the stream to the backup
   * got in that epoch: the last record's number and the last acknowledged one's. A region without
   * it (no replication, or a promoted mirror) answers its loads with {@link
   * SyncStatus#NOT_THIS_OBJECT}.
   */
  public static final long REPLICATION_CELL = FIRST_CELL_OFFSET;

  public static final long REPLICATION_OBJECT = 0;

  public static final int KIND_REPLICATION = 0x50525344; // "DSRP"

  /** The replication cell's field of the last record's number in the stream to the backup. */
  public static final int REPLICATION_LAST = LOCATOR_A;

  /** The replication cell's field of the last record the backup acknowledged. */
  public static final int REPLICATION_ACKED = LOCATOR_B;

  /** The name of the cells file in an arena folder. */
  public static final String CELLS_FILE = "sync-cells";

  /** The prefix of the writable value segments in an arena folder. */
  public static final String VALUES_PREFIX = "val-";

  private SyncLayout() {}

  /** True if {@code field} is a word an operation may touch (not the kind or the object). */
  public static boolean isOperandField(int field) {
    return field == WORD || field == FULL_VERSION || field == LOCATOR_A || field == LOCATOR_B;
  }

  /** True if {@code cell} can name a cell of a file of {@code fileBytes}. */
  public static boolean holdsCell(long fileBytes, long cell) {
    return cell >= FIRST_CELL_OFFSET
        && (cell - FIRST_CELL_OFFSET) % CELL_BYTES == 0
        && cell + CELL_BYTES <= fileBytes;
  }

  /** The size of a cells file of {@code count} cells. */
  public static long fileBytes(int count) {
    return FIRST_CELL_OFFSET + (long) count * CELL_BYTES;
  }
}
