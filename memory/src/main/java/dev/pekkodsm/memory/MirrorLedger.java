package dev.pekkodsm.memory;

import static dev.pekkodsm.memory.SlotLayout.CAPACITY_OFFSET;
import static dev.pekkodsm.memory.SlotLayout.FIRST_SLOT_OFFSET;
import static dev.pekkodsm.memory.SlotLayout.INT;
import static dev.pekkodsm.memory.SlotLayout.SLOT_ALIGNMENT;
import static dev.pekkodsm.memory.SlotLayout.SLOT_HEADER_BYTES;

import dev.pekkodsm.serialization.internal.SnapshotCodec;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * What a mirror arena knows of its primary's slots, learnt from the records it applied: every slot
 * a record has named (its capacity, fixed for the slot's life, and whether it is live now). It
 * checks each record before the arena touches a byte, since records arrive from the network, and it
 * is what {@link SnapshotArena#promote()} rebuilds the free lists and bump pointer from.
 *
 * <p>Not thread-safe: guarded by the arena's lock.
 */
final class MirrorLedger {

  private final ArenaSettings settings;
  private final int largestCapacity;
  // Per segment: slot offset to the slot's state. Sorted, so an overlap is two look-ups.
  private final Map<Integer, TreeMap<Long, Slot>> slots = new HashMap<>();
  private long liveSlots;
  private long liveBytes;

  MirrorLedger(ArenaSettings settings) {
    this.settings = settings;
    this.largestCapacity = SlotLayout.capacityFor(settings.maxFrameBytes());
  }

  /** A slot a record has named. */
  private static final class Slot {
    final int capacity;
    boolean live;

    Slot(int capacity) {
      this.capacity = capacity;
    }
  }

  /**
   * Checks a write record against the settings and every slot named before.
   *
   * @return true if the slot is live now (the record rewrites it), false if it is new or freed
   * @throws IllegalArgumentException naming the problem
   */
  boolean checkWrite(long locator, int capacity, byte[] frame, int length) {
    int segment = SlotLayout.segment(locator);
    long offset = SlotLayout.offset(locator);
    String slot = "slot " + Long.toHexString(locator) + " (segment " + segment + ", offset ";
    slot += offset + ")";
    if (segment >= settings.maxSegments()) {
      throw refused(slot, "names a segment beyond max-segments " + settings.maxSegments());
    }
    if (offset < FIRST_SLOT_OFFSET || offset % SLOT_ALIGNMENT != 0) {
      throw refused(slot, "is not a " + SLOT_ALIGNMENT + "-byte aligned slot offset");
    }
    if (capacity < SLOT_ALIGNMENT
        || capacity > largestCapacity
        || SlotLayout.capacityFor(capacity - SLOT_HEADER_BYTES) != capacity) {
      throw refused(
          slot, "has capacity " + capacity + ", which is no size class up to " + largestCapacity);
    }
    if (offset + capacity > settings.segmentBytes()) {
      throw refused(
          slot, "of " + capacity + " bytes ends past the segment's " + settings.segmentBytes());
    }
    if (frame == null || length < SnapshotCodec.HEADER_BYTES || length > frame.length) {
      throw refused(
          slot,
          "gets a frame of "
              + length
              + " bytes, not in ["
              + SnapshotCodec.HEADER_BYTES
              + ", "
              + (frame == null ? 0 : frame.length)
              + "]");
    }
    if (length > capacity - SLOT_HEADER_BYTES) {
      throw refused(slot, "of " + capacity + " bytes cannot hold a frame of " + length + " bytes");
    }
    TreeMap<Long, Slot> known = slots.get(segment);
    Slot same = known == null ? null : known.get(offset);
    if (same != null) {
      if (same.capacity != capacity) {
        throw refused(slot, "has capacity " + same.capacity + ", not " + capacity);
      }
      return same.live;
    }
    if (known != null) {
      Map.Entry<Long, Slot> before = known.lowerEntry(offset);
      if (before != null && before.getKey() + before.getValue().capacity > offset) {
        throw refused(slot, "overlaps the slot at offset " + before.getKey());
      }
      Map.Entry<Long, Slot> after = known.higherEntry(offset);
      if (after != null && offset + capacity > after.getKey()) {
        throw refused(slot, "overlaps the slot at offset " + after.getKey());
      }
    }
    return false;
  }

  /** Records that a checked write record made its slot live. */
  void wrote(long locator, int capacity) {
    Slot slot =
        slots
            .computeIfAbsent(SlotLayout.segment(locator), s -> new TreeMap<>())
            .computeIfAbsent(SlotLayout.offset(locator), o -> new Slot(capacity));
    if (!slot.live) {
      slot.live = true;
      liveSlots++;
      liveBytes += capacity;
    }
  }

  /**
   * Checks a free record.
   *
   * @return the slot's capacity if it is live, or 0 if it is freed already (a repeated record)
   * @throws IllegalArgumentException if no write record has named the slot
   */
  int checkFree(long locator) {
    TreeMap<Long, Slot> known = slots.get(SlotLayout.segment(locator));
    Slot slot = known == null ? null : known.get(SlotLayout.offset(locator));
    if (slot == null) {
      throw new IllegalArgumentException(
          "mirror record refused: slot "
              + Long.toHexString(locator)
              + " is freed but was never written");
    }
    return slot.live ? slot.capacity : 0;
  }

  /** Records that a checked free record freed its live slot. */
  void freed(long locator) {
    Slot slot = slots.get(SlotLayout.segment(locator)).get(SlotLayout.offset(locator));
    slot.live = false;
    liveSlots--;
    liveBytes -= slot.capacity;
  }

  /** Slots live now. */
  long liveSlots() {
    return liveSlots;
  }

  /** Bytes of capacity of the slots live now. */
  long liveBytes() {
    return liveBytes;
  }

  /**
   * The first offset past every slot named in {@code segment}: where the primary's bump pointer
   * was, as far as the records tell.
   */
  long highWater(int segment) {
    TreeMap<Long, Slot> known = slots.get(segment);
    if (known == null || known.isEmpty()) {
      return FIRST_SLOT_OFFSET;
    }
    Map.Entry<Long, Slot> last = known.lastEntry();
    return last.getKey() + last.getValue().capacity;
  }

  /** The freed slots by capacity, as locators: the free lists of a promoted arena. */
  Map<Integer, List<Long>> freedByCapacity() {
    Map<Integer, List<Long>> freed = new HashMap<>();
    for (Map.Entry<Integer, TreeMap<Long, Slot>> segment : slots.entrySet()) {
      for (Map.Entry<Long, Slot> entry : segment.getValue().entrySet()) {
        Slot slot = entry.getValue();
        if (!slot.live) {
          freed
              .computeIfAbsent(slot.capacity, c -> new ArrayList<>())
              .add(SlotLayout.locator(segment.getKey(), entry.getKey()));
        }
      }
    }
    return freed;
  }

  /** True if the slot at {@code locator} of {@code segment} holds this capacity and frame. */
  static boolean holds(ByteBuffer segment, long locator, int capacity, byte[] frame, int length) {
    int slot = (int) SlotLayout.offset(locator);
    return (int) INT.getVolatile(segment, slot + CAPACITY_OFFSET) == capacity
        && segment
                .slice(slot + SLOT_HEADER_BYTES, length)
                .mismatch(ByteBuffer.wrap(frame, 0, length))
            == -1;
  }

  private static IllegalArgumentException refused(String slot, String problem) {
    return new IllegalArgumentException("mirror record refused: " + slot + " " + problem);
  }
}
