package dev.pekkodsm.memory;

import static dev.pekkodsm.memory.SlotLayout.INT;
import static dev.pekkodsm.memory.SlotLayout.LONG;

import java.nio.ByteBuffer;

/**
 * The atomic operations on the cells of a mapped cells file, shared by the region's owner, its
 * same-host peers and its tcp read server. Each checks that the cell belongs to the object named
 * before it touches the field.
 *
 * <p>The kind and object of a cell are written by its owner before the cell's locator is handed to
 * anyone, and cleared only once no handle to it is left, so reading them with plain loads before
 * the atomic operation cannot let an operation through to another object's cell while a handle to
 * the first is live. The operations themselves are volatile (x86 {@code LOCK}-prefixed, which is
 * atomic across processes sharing the mapping).
 */
public final class CellOps {

  private CellOps() {}

  /**
   * Checks that {@code cell} lies in the file and belongs to {@code object}, and that {@code field}
   * is an operand; returns the cell's offset as an int.
   *
   * @throws SyncFailedException if not
   */
  public static int check(ByteBuffer cells, long fileBytes, long cell, long object, int field) {
    if (!SyncLayout.holdsCell(fileBytes, cell) || !SyncLayout.isOperandField(field)) {
      throw new SyncFailedException(
          SyncStatus.OUT_OF_RANGE, "no cell at " + cell + " field " + field + " of the region");
    }
    int at = (int) cell;
    int kind = (int) INT.get(cells, at + SyncLayout.KIND);
    long owner = (long) LONG.get(cells, at + SyncLayout.OBJECT);
    if (kind == SyncLayout.KIND_FREE || owner != object) {
      throw new SyncFailedException(
          SyncStatus.NOT_THIS_OBJECT,
          "the cell at " + cell + " does not belong to object " + Long.toHexString(object));
    }
    return at;
  }

  public static long load(ByteBuffer cells, long fileBytes, long cell, long object, int field) {
    int at = check(cells, fileBytes, cell, object, field);
    return (long) LONG.getVolatile(cells, at + field);
  }

  public static long compareAndExchange(
      ByteBuffer cells,
      long fileBytes,
      long cell,
      long object,
      int field,
      long expected,
      long update) {
    int at = check(cells, fileBytes, cell, object, field);
    return (long) LONG.compareAndExchange(cells, at + field, expected, update);
  }

  public static long getAndAdd(
      ByteBuffer cells, long fileBytes, long cell, long object, int field, long delta) {
    int at = check(cells, fileBytes, cell, object, field);
    return (long) LONG.getAndAdd(cells, at + field, delta);
  }
}
