package dev.pekkodsm.coherence.replication;

import dev.pekkodsm.coherence.ObjectKind;
import java.util.Objects;

/**
 * One change a primary ships to its backup, in the order it made them. Slot records keep the
 * backup's mirror of the primary's arena byte-identical (same locators); object records keep the
 * catalog from which the backup rebuilds the primary's object table when it promotes.
 *
 * <p>Records arrive from the network: every field is checked where it is applied.
 */
public sealed interface ReplicaRecord {

  /** The slot at {@code locator} (of {@code capacity} bytes) now holds {@code frame}. */
  record SlotWritten(long locator, int capacity, byte[] frame) implements ReplicaRecord {
    public SlotWritten {
      Objects.requireNonNull(frame, "frame");
    }
  }

  /** The slot at {@code locator} was freed. */
  record SlotFreed(long locator) implements ReplicaRecord {}

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
}
