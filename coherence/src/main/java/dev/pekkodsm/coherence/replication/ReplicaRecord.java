package dev.pekkodsm.coherence.replication;

import dev.pekkodsm.coherence.ObjectKind;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * One change a primary ships to its backup, in the order it made them. Slot records keep the
 * backup's mirror of the primary's arena byte-identical (same locators); object records keep the
 * catalog from which the backup rebuilds the primary's object table when it promotes.
 *
 * <p>Records arrive from the network: every field is checked where it is applied.
 */
public sealed interface ReplicaRecord {

  /** About how many bytes the record takes in a message, to bound a batch. */
  default int wireBytes() {
    return 48;
  }

  /** {@link SlotWritten#space()} and {@link SlotFreed#space()}: a slot of the snapshot arena. */
  int ARENA = 0;

  /** {@link SlotWritten#space()} and {@link SlotFreed#space()}: a value slot of the sync region. */
  int VALUES = 1;

  /**
   * Bytes {@code [offset, offset + bytes.length)} of the {@code length}-byte frame the slot at
   * {@code locator} (of {@code capacity} bytes) of {@code space} ({@link #ARENA} or {@link
   * #VALUES}) now holds. A frame larger than a message travels as consecutive pieces of one
   * shipment; the last piece completes it.
   */
  record SlotWritten(int space, long locator, int capacity, int length, int offset, byte[] bytes)
      implements ReplicaRecord {

    /** A piece of a slot of the arena. */
    public SlotWritten(long locator, int capacity, int length, int offset, byte[] bytes) {
      this(ARENA, locator, capacity, length, offset, bytes);
    }

    public SlotWritten {
      checkSpace(space);
      Objects.requireNonNull(bytes, "bytes");
      if (offset < 0 || length < 0 || bytes.length > length - offset) {
        throw new IllegalArgumentException(
            "piece of "
                + bytes.length
                + " bytes at "
                + offset
                + " does not fit a frame of "
                + length);
      }
    }

    /** True if this piece ends the frame. */
    public boolean last() {
      return offset + bytes.length == length;
    }

    @Override
    public int wireBytes() {
      return 32 + bytes.length;
    }

    /**
     * The pieces of {@code frame[0, length)} for the arena, each at most {@code maxPiece} bytes.
     */
    public static List<ReplicaRecord> pieces(
        long locator, int capacity, byte[] frame, int length, int maxPiece) {
      return pieces(ARENA, locator, capacity, frame, length, maxPiece);
    }

    /** The pieces of {@code frame[0, length)}, each at most {@code maxPiece} bytes. */
    public static List<ReplicaRecord> pieces(
        int space, long locator, int capacity, byte[] frame, int length, int maxPiece) {
      List<ReplicaRecord> out = new ArrayList<>(1 + length / maxPiece);
      int offset = 0;
      do {
        int n = Math.min(maxPiece, length - offset);
        out.add(
            new SlotWritten(
                space,
                locator,
                capacity,
                length,
                offset,
                Arrays.copyOfRange(frame, offset, offset + n)));
        offset += n;
      } while (offset < length);
      return out;
    }
  }

  /**
   * The first record of every epoch: what the backup needs to lay out a mirror of the primary's
   * arena (the segment size decides what a locator means; the tokens are the arena's identity,
   * which readers check).
   */
  record Begin(long tokenHi, long tokenLo, int segmentBytes, int maxSegments, int syncCells)
      implements ReplicaRecord {
    public Begin {
      if (segmentBytes <= 0 || maxSegments <= 0) {
        throw new IllegalArgumentException(
            "segments of " + segmentBytes + " bytes, at most " + maxSegments + ", are impossible");
      }
      if (syncCells < 0) {
        throw new IllegalArgumentException("a sync region of " + syncCells + " cells");
      }
    }

    /** An arena without a sync region to mirror. */
    public Begin(long tokenHi, long tokenLo, int segmentBytes, int maxSegments) {
      this(tokenHi, tokenLo, segmentBytes, maxSegments, 0);
    }
  }

  /** The slot at {@code locator} of {@code space} was freed. */
  record SlotFreed(int space, long locator) implements ReplicaRecord {
    public SlotFreed {
      checkSpace(space);
    }

    /** A slot of the arena. */
    public SlotFreed(long locator) {
      this(ARENA, locator);
    }
  }

  private static void checkSpace(int space) {
    if (space != ARENA && space != VALUES) {
      throw new IllegalArgumentException("no slot space " + space);
    }
  }

  /** The sync region's cell at {@code cell} was allocated to {@code object} of {@code kind}. */
  record CellAllocated(long cell, int kind, long object) implements ReplicaRecord {}

  /** The sync region's cell at {@code cell} was freed. */
  record CellFreed(long cell) implements ReplicaRecord {}

  /**
   * Field {@code field} of the cell at {@code cell} now holds {@code value} (for a mutex's word,
   * its committed state only: the lock is not replicated).
   */
  record CellField(long cell, int field, long value) implements ReplicaRecord {}

  /**
   * The word of the cell at {@code cell} holds {@code value}, shipped again because the epoch moved
   * after the change was made (the new backup's copy may predate it): a backup that holds a newer
   * version of a mutex's word keeps it (a writer's own commit may have overtaken this record).
   */
  record CellWordAgain(long cell, long value) implements ReplicaRecord {}

  /**
   * Object {@code object} is homed on the primary as {@code kind} at {@code color}, its snapshot at
   * {@code locator} (0: none published), owned by a box on {@code holder} (a box's object) or by
   * shares (0). A later record for the same object replaces this one.
   */
  record Filed(long object, ObjectKind kind, int color, long locator, int frameBytes, long holder)
      implements ReplicaRecord {
    public Filed {
      Objects.requireNonNull(kind, "kind");
      if (object == 0) {
        throw new IllegalArgumentException("object id 0 is never allocated");
      }
      if (color < 0 || frameBytes < 0) {
        throw new IllegalArgumentException(
            "color " + color + " and frame size " + frameBytes + " must not be negative");
      }
    }
  }

  /** Object {@code object} left the primary (moved, dropped or lost); its id is never reused. */
  record Gone(long object) implements ReplicaRecord {}

  /**
   * The epoch's full copy, and the records the previous backup had not acknowledged, end here: from
   * now on every record of a mutex's word is a change made after the copy, or a repeat of one (so
   * an older one is not applied over a newer state), and the backup may take commits written to it
   * by the writers themselves.
   */
  record CopyDone() implements ReplicaRecord {}
}
