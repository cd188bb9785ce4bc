package dev.pekkodsm.memory;

import static dev.pekkodsm.memory.SlotLayout.CAPACITY_OFFSET;
import static dev.pekkodsm.memory.SlotLayout.FIRST_SLOT_OFFSET;
import static dev.pekkodsm.memory.SlotLayout.INT;
import static dev.pekkodsm.memory.SlotLayout.LONG;
import static dev.pekkodsm.memory.SlotLayout.SEQUENCE_OFFSET;
import static dev.pekkodsm.memory.SlotLayout.SLOT_HEADER_BYTES;

import dev.pekkodsm.serialization.internal.SnapshotCodec;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.SecureRandom;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A node's off-heap, file-backed store of published snapshots.
 *
 * <p>The arena is a folder of fixed-size segment files, mapped read-write by the owner and
 * read-only by same-host peers. Slots come in size classes (see {@link
 * SlotLayout#capacityFor(int)}); a freed slot goes back to its class's free list and is reused by
 * the next frame of that class. Each slot is published under a seqlock, so a reader never mistakes
 * a half-written frame for a snapshot.
 *
 * <p>A <em>mirror</em> ({@link #mirror}) is a byte-identical copy of another node's arena kept by
 * its backup: it carries that node's id and token, so a reader cannot tell it from the original,
 * and it changes only by the records of what the primary wrote ({@link #applyWrite}, {@link
 * #applyFree}) until {@link #promote()} makes it an ordinary arena that allocates as the primary
 * would have.
 *
 * <p>Thread-safe. Allocation is serialized by a lock; writing a slot's bytes is done outside it by
 * the thread that holds the slot, which is the single writer of that slot until it frees it.
 * Records are applied under the lock, one at a time.
 */
public final class SnapshotArena implements AutoCloseable {

  private static final String SEGMENT_PREFIX = "seg-";

  private final ArenaSettings settings;
  private final long node;
  private final Path folder;
  private final long tokenHi;
  private final long tokenLo;
  private final SnapshotCodec codec;
  private final String prefix; // of segment file names
  private final boolean ownsFolder;
  private final MappedByteBuffer[] segments;

  // Guarded by this.
  private int segmentCount;
  private long bump;
  private final Map<Integer, LongStack> freeByCapacity = new HashMap<>();
  private long liveSlots;
  private long liveBytes;
  private boolean closed;
  private MirrorLedger ledger; // non-null while this is an unpromoted mirror

  private SnapshotArena(
      ArenaSettings settings,
      long node,
      Path folder,
      SnapshotCodec codec,
      String prefix,
      long tokenHi,
      long tokenLo,
      boolean ownsFolder,
      MirrorLedger ledger) {
    this.settings = settings;
    this.node = node;
    this.folder = folder;
    this.codec = codec;
    this.prefix = prefix;
    this.tokenHi = tokenHi;
    this.tokenLo = tokenLo;
    this.ownsFolder = ownsFolder;
    this.ledger = ledger;
    this.segments = new MappedByteBuffer[settings.maxSegments()];
  }

  /**
   * Creates the arena folder {@code <directory>/pekko-dsm-<node>-<random>} with its first segment.
   * Deletes folders of dead processes first if {@link ArenaSettings#cleanStale()}.
   *
   * @param codec checks frames read back from this arena
   * @throws UncheckedIOException if the folder or the first segment cannot be created
   */
  public static SnapshotArena create(ArenaSettings settings, long node, SnapshotCodec codec) {
    Path folder = ArenaFolders.create(settings, Long.toHexString(node) + "-");
    SecureRandom random = new SecureRandom();
    return start(settings, node, folder, codec, random.nextLong(), random.nextLong(), null);
  }

  /**
   * Creates a mirror of node {@code node}'s arena, in a folder {@code
   * <directory>/pekko-dsm-<node>-mirror-<random>} owned by this process (so stale-folder cleanup
   * judges it as any arena), whose segments carry {@code node} and its token: to a reader it is
   * that node's arena. It holds its first segment; later ones are created as records name them.
   * Deletes folders of dead processes first if {@link ArenaSettings#cleanStale()}.
   *
   * @param settings must be the primary's (segment size, maximum segments and frame size)
   * @throws UncheckedIOException if the folder or the first segment cannot be created
   */
  public static SnapshotArena mirror(
      ArenaSettings settings, long node, long tokenHi, long tokenLo, SnapshotCodec codec) {
    Path folder = ArenaFolders.create(settings, Long.toHexString(node) + "-mirror-");
    return start(settings, node, folder, codec, tokenHi, tokenLo, new MirrorLedger(settings));
  }

  private static SnapshotArena start(
      ArenaSettings settings,
      long node,
      Path folder,
      SnapshotCodec codec,
      long tokenHi,
      long tokenLo,
      MirrorLedger ledger) {
    SnapshotArena arena =
        new SnapshotArena(
            settings, node, folder, codec, SEGMENT_PREFIX, tokenHi, tokenLo, true, ledger);
    synchronized (arena) {
      arena.addSegment();
    }
    return arena;
  }

  /**
   * A second arena in this arena's folder, with this arena's token, whose segment files are named
   * {@code prefix}NNNNN: the writable value slots of the sync region. Its files go with the folder;
   * closing it only stops it. The sibling of an unpromoted mirror is a mirror, promoted on its own.
   */
  SnapshotArena sibling(String prefix) {
    MirrorLedger siblingLedger;
    synchronized (this) {
      siblingLedger = ledger == null ? null : new MirrorLedger(settings);
    }
    SnapshotArena sibling =
        new SnapshotArena(
            settings, node, folder, codec, prefix, tokenHi, tokenLo, false, siblingLedger);
    synchronized (sibling) {
      sibling.addSegment();
    }
    return sibling;
  }

  /** The arena token's high half, which every segment of this folder carries. */
  long tokenHi() {
    return tokenHi;
  }

  /** The arena token's low half. */
  long tokenLo() {
    return tokenLo;
  }

  /** What a peer needs to map this arena. */
  public ArenaEndpoint endpoint() {
    return new ArenaEndpoint(
        node, folder.toString(), tokenHi, tokenLo, settings.segmentBytes(), settings.maxSegments());
  }

  /** The arena folder. */
  public Path folder() {
    return folder;
  }

  /** The path of segment {@code index} inside an arena folder. */
  public static Path segmentPath(Path folder, int index) {
    return segmentPath(folder, SEGMENT_PREFIX, index);
  }

  /** The path of segment {@code index} of the arena whose files start with {@code prefix}. */
  public static Path segmentPath(Path folder, String prefix, int index) {
    return folder.resolve(String.format("%s%05d", prefix, index));
  }

  /**
   * Copies a frame into a free slot and publishes it.
   *
   * @return the slot's locator
   * @throws ArenaFullException if no slot of the needed class is free and no segment may be added
   * @throws IllegalArgumentException if the frame is larger than {@link
   *     ArenaSettings#maxFrameBytes()}
   */
  public long publish(byte[] frame, int length) {
    if (length < SnapshotCodec.HEADER_BYTES || length > settings.maxFrameBytes()) {
      throw new IllegalArgumentException(
          "frame of "
              + length
              + " bytes is outside ["
              + SnapshotCodec.HEADER_BYTES
              + ", "
              + settings.maxFrameBytes()
              + "]");
    }
    int capacity = SlotLayout.capacityFor(length);
    long locator = allocate(capacity);
    write(locator, capacity, frame, length);
    return locator;
  }

  /**
   * Publishes a frame into a slot that can later take frames of up to {@code frameCapacity} bytes
   * (rewritten in place, by {@link SlotWrites}).
   *
   * @return the slot's locator
   */
  public long reserve(byte[] frame, int length, int frameCapacity) {
    int largest = Math.max(length, frameCapacity);
    if (length < SnapshotCodec.HEADER_BYTES || largest > settings.maxFrameBytes()) {
      throw new IllegalArgumentException(
          "frame of "
              + length
              + " bytes, capacity "
              + frameCapacity
              + ", is outside ["
              + SnapshotCodec.HEADER_BYTES
              + ", "
              + settings.maxFrameBytes()
              + "]");
    }
    int capacity = SlotLayout.capacityFor(largest);
    long locator = allocate(capacity);
    write(locator, capacity, frame, length);
    return locator;
  }

  /** The largest frame the slot at {@code locator} holds. */
  public int frameCapacityOf(long locator) {
    MappedByteBuffer segment = segmentOf(locator);
    int slot = (int) SlotLayout.offset(locator);
    return (int) INT.get(segment, slot + CAPACITY_OFFSET) - SLOT_HEADER_BYTES;
  }

  /**
   * Rewrites a published slot in place, if the new frame fits its capacity. Readers holding the
   * locator see either the old or the new frame, never a mix.
   *
   * @return true if rewritten; false if the frame needs a larger slot (publish it instead)
   */
  public boolean rewrite(long locator, byte[] frame, int length) {
    requireOwned("rewrite");
    MappedByteBuffer segment = segmentOf(locator);
    int slot = (int) SlotLayout.offset(locator);
    int capacity = (int) INT.get(segment, slot + CAPACITY_OFFSET);
    if (SlotLayout.capacityFor(length) > capacity) {
      return false;
    }
    write(locator, capacity, frame, length);
    return true;
  }

  private void write(long locator, int capacity, byte[] frame, int length) {
    MappedByteBuffer segment = segmentOf(locator);
    int slot = (int) SlotLayout.offset(locator);
    long sequence = (long) LONG.get(segment, slot + SEQUENCE_OFFSET);
    LONG.setOpaque(segment, slot + SEQUENCE_OFFSET, sequence + 1);
    VarHandle.storeStoreFence(); // the odd sequence is visible before any byte of the new frame
    INT.set(segment, slot + CAPACITY_OFFSET, capacity);
    segment.put(slot + SLOT_HEADER_BYTES, frame, 0, length);
    LONG.setRelease(segment, slot + SEQUENCE_OFFSET, sequence + 2); // frame bytes before even
  }

  /**
   * Unpublishes a slot and returns it to its free list. A reader holding the locator will see
   * {@link ReadStatus#FREED}, or {@link ReadStatus#STALE} once the slot is reused.
   */
  public void free(long locator) {
    requireOwned("free");
    MappedByteBuffer segment = segmentOf(locator);
    int slot = (int) SlotLayout.offset(locator);
    clear(segment, slot);
    int capacity = (int) INT.get(segment, slot + CAPACITY_OFFSET);
    synchronized (this) {
      freeByCapacity.computeIfAbsent(capacity, c -> new LongStack()).push(locator);
      liveSlots--;
      liveBytes -= capacity;
    }
  }

  private static void clear(MappedByteBuffer segment, int slot) {
    long sequence = (long) LONG.get(segment, slot + SEQUENCE_OFFSET);
    LONG.setOpaque(segment, slot + SEQUENCE_OFFSET, sequence + 1);
    VarHandle.storeStoreFence(); // odd before the magic is cleared
    INT.set(segment, slot + SLOT_HEADER_BYTES, 0);
    LONG.setRelease(segment, slot + SEQUENCE_OFFSET, sequence + 2);
  }

  /**
   * On a mirror: makes the slot at {@code locator}, of {@code capacity} bytes header included, hold
   * {@code frame[0, length)} as the primary's publish, reserve or rewrite did (under the slot's
   * seqlock, so readers of the mirror see the old frame or the new one). A record repeating what
   * the slot holds changes nothing; one re-delivered after later changes to its slot (a one-sided
   * write of a value slot) would write its frame again, so the stream must not do that. Creates the
   * segments up to the locator's.
   *
   * @throws IllegalArgumentException naming the problem if the record cannot be the primary's (a
   *     segment past max-segments, an offset that is no slot's, a capacity that is no size class or
   *     differs from an earlier record's for the slot, a slot overlapping another, a frame that
   *     does not fit); nothing is changed
   * @throws IllegalStateException if this is not an unpromoted mirror
   */
  public void applyWrite(long locator, int capacity, byte[] frame, int length) {
    synchronized (this) {
      MirrorLedger mirror = requireMirror("applyWrite");
      int index = SlotLayout.segment(locator);
      if (mirror.checkWrite(locator, capacity, frame, length)
          && MirrorLedger.holds(segments[index], locator, capacity, frame, length)) {
        return;
      }
      while (segmentCount <= index) {
        addSegment();
      }
      write(locator, capacity, frame, length);
      mirror.wrote(locator, capacity);
    }
  }

  /**
   * On a mirror: unpublishes the slot at {@code locator} as the primary's {@link #free} did. A
   * repeated record changes nothing.
   *
   * @throws IllegalArgumentException if no record has written the slot; nothing is changed
   * @throws IllegalStateException if this is not an unpromoted mirror
   */
  public void applyFree(long locator) {
    synchronized (this) {
      MirrorLedger mirror = requireMirror("applyFree");
      if (mirror.checkFree(locator) == 0) {
        return;
      }
      clear(segmentOf(locator), (int) SlotLayout.offset(locator));
      mirror.freed(locator);
    }
  }

  /**
   * Makes a mirror an ordinary arena of its node, which publishes, reserves, rewrites and frees
   * from now on: the freed slots form the free lists and the bump pointer starts past the last slot
   * of the last segment, so no new slot overlaps one the records named. Records are refused from
   * now on.
   *
   * @throws IllegalStateException if this is not an unpromoted mirror
   */
  public synchronized void promote() {
    MirrorLedger mirror = requireMirror("promote");
    for (Map.Entry<Integer, List<Long>> freed : mirror.freedByCapacity().entrySet()) {
      LongStack free = freeByCapacity.computeIfAbsent(freed.getKey(), c -> new LongStack());
      freed.getValue().forEach(free::push);
    }
    bump = mirror.highWater(segmentCount - 1);
    liveSlots = mirror.liveSlots();
    liveBytes = mirror.liveBytes();
    ledger = null;
  }

  /** True while this is a mirror that has not been promoted. */
  public synchronized boolean isMirror() {
    return ledger != null;
  }

  private MirrorLedger requireMirror(String operation) {
    if (closed) {
      throw new IllegalStateException(operation + ": the arena " + folder + " is closed");
    }
    if (ledger == null) {
      throw new IllegalStateException(
          operation
              + ": the arena "
              + folder
              + " of node "
              + Long.toHexString(node)
              + " is not a mirror (or was promoted); it changes by its own writes only");
    }
    return ledger;
  }

  private synchronized void requireOwned(String operation) {
    if (ledger != null) {
      throw new IllegalStateException(
          operation
              + ": the arena "
              + folder
              + " mirrors node "
              + Long.toHexString(node)
              + " and changes by its records only; promote() it first");
    }
  }

  /**
   * Reads a slot of this arena with the same checks a peer applies. Used by the owner's read server
   * and by tests.
   */
  public ReadStatus read(long locator, long object, int color, ReadBuffer out) {
    int index = SlotLayout.segment(locator);
    MappedByteBuffer segment;
    synchronized (this) {
      if (index >= segmentCount) {
        return ReadStatus.OUT_OF_RANGE;
      }
      segment = segments[index];
    }
    return SlotReads.read(
        segment,
        settings.segmentBytes(),
        SlotLayout.offset(locator),
        codec,
        node,
        object,
        color,
        settings.maxFrameBytes(),
        out,
        System.nanoTime() + 20_000_000L);
  }

  /** {@link PeerReader#peekColor} of this arena's own slot: its color, or {@code -1}. */
  public long peekColor(long locator, long object) {
    int index = SlotLayout.segment(locator);
    MappedByteBuffer segment;
    synchronized (this) {
      if (index >= segmentCount) {
        return -1;
      }
      segment = segments[index];
    }
    return SlotReads.peekColor(
        segment,
        settings.segmentBytes(),
        SlotLayout.offset(locator),
        node,
        object,
        System.nanoTime() + 20_000_000L);
  }

  /**
   * A read-only view of segment {@code index} (little-endian, the whole segment), or null if the
   * arena has no such segment or is closed. For servers that read this arena for remote peers;
   * readers must go through {@link SlotReads}.
   */
  public ByteBuffer segment(int index) {
    MappedByteBuffer segment;
    synchronized (this) {
      if (index < 0 || index >= segmentCount || closed) {
        return null;
      }
      segment = segments[index];
    }
    return segment.asReadOnlyBuffer().order(ByteOrder.LITTLE_ENDIAN);
  }

  /**
   * The writable mapping of segment {@code index} (little-endian, the whole segment), or null if
   * the arena has no such segment or is closed: for one-sided writes into a sibling's value slots,
   * which go through {@link SlotWrites}.
   */
  ByteBuffer writableSegment(int index) {
    synchronized (this) {
      if (index < 0 || index >= segmentCount || closed) {
        return null;
      }
      return segments[index].duplicate().order(ByteOrder.LITTLE_ENDIAN);
    }
  }

  /** The codec that checks this arena's frames. */
  SnapshotCodec codec() {
    return codec;
  }

  /** The settings this arena was created with. */
  public ArenaSettings settings() {
    return settings;
  }

  /** Slots currently published. */
  public synchronized long liveSlots() {
    return ledger != null ? ledger.liveSlots() : liveSlots;
  }

  /** Bytes of slot capacity currently published. */
  public synchronized long liveBytes() {
    return ledger != null ? ledger.liveBytes() : liveBytes;
  }

  /** Segments mapped so far. */
  public synchronized int segmentCount() {
    return segmentCount;
  }

  private synchronized long allocate(int capacity) {
    if (closed) {
      throw new IllegalStateException("the arena of node " + Long.toHexString(node) + " is closed");
    }
    requireOwned("publish/reserve");
    LongStack free = freeByCapacity.get(capacity);
    long locator;
    if (free != null && !free.isEmpty()) {
      locator = free.pop();
    } else {
      if (bump + capacity > settings.segmentBytes()) {
        if (segmentCount == settings.maxSegments()) {
          throw new ArenaFullException(
              "the snapshot arena of node "
                  + Long.toHexString(node)
                  + " is full: "
                  + segmentCount
                  + " segments of "
                  + settings.segmentBytes()
                  + " bytes hold "
                  + liveSlots
                  + " snapshots ("
                  + liveBytes
                  + " bytes); no free slot of "
                  + capacity
                  + " bytes. Raise pekko.dsm.arena.max-segments or segment-size");
        }
        addSegment();
      }
      locator = SlotLayout.locator(segmentCount - 1, bump);
      bump += capacity;
    }
    liveSlots++;
    liveBytes += capacity;
    return locator;
  }

  private void addSegment() {
    int index = segmentCount;
    Path path = segmentPath(folder, prefix, index);
    try (FileChannel channel =
        FileChannel.open(
            path,
            StandardOpenOption.CREATE_NEW,
            StandardOpenOption.READ,
            StandardOpenOption.WRITE)) {
      MappedByteBuffer segment =
          channel.map(FileChannel.MapMode.READ_WRITE, 0, settings.segmentBytes());
      segment.order(ByteOrder.LITTLE_ENDIAN);
      LONG.set(segment, SlotLayout.SEGMENT_MAGIC_OFFSET, SlotLayout.SEGMENT_MAGIC);
      INT.set(segment, SlotLayout.SEGMENT_VERSION_OFFSET, SlotLayout.LAYOUT_VERSION);
      INT.set(segment, SlotLayout.SEGMENT_INDEX_OFFSET, index);
      LONG.set(segment, SlotLayout.SEGMENT_BYTES_OFFSET, (long) settings.segmentBytes());
      LONG.set(segment, SlotLayout.SEGMENT_TOKEN_OFFSET, tokenHi);
      LONG.set(segment, SlotLayout.SEGMENT_TOKEN_OFFSET + 8, tokenLo);
      LONG.set(segment, SlotLayout.SEGMENT_NODE_OFFSET, node);
      segments[index] = segment;
      segmentCount = index + 1;
      bump = FIRST_SLOT_OFFSET;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create arena segment " + path, e);
    }
  }

  private MappedByteBuffer segmentOf(long locator) {
    int index = SlotLayout.segment(locator);
    synchronized (this) {
      if (index >= segmentCount) {
        throw new IllegalArgumentException(
            "locator "
                + Long.toHexString(locator)
                + " names segment "
                + index
                + " of "
                + segmentCount);
      }
      return segments[index];
    }
  }

  /**
   * Deletes the arena's files. Peers that still map them keep a valid (now unlinked) mapping until
   * they drop it. Idempotent.
   */
  @Override
  public void close() {
    synchronized (this) {
      if (closed) {
        return;
      }
      closed = true;
    }
    if (ownsFolder) {
      ArenaFolders.delete(folder);
    }
  }

  /** A minimal stack of longs for free lists. Not thread-safe. */
  private static final class LongStack {
    private long[] items = new long[16];
    private int size;

    void push(long value) {
      if (size == items.length) {
        items = java.util.Arrays.copyOf(items, size * 2);
      }
      items[size++] = value;
    }

    long pop() {
      return items[--size];
    }

    boolean isEmpty() {
      return size == 0;
    }
  }
}
