package dev.pekkodsm.memory.rdma;

import static dev.pekkodsm.memory.SlotLayout.CAPACITY_OFFSET;
import static dev.pekkodsm.memory.SlotLayout.FIRST_SLOT_OFFSET;
import static dev.pekkodsm.memory.SlotLayout.SEQUENCE_OFFSET;
import static dev.pekkodsm.memory.SlotLayout.SLOT_ALIGNMENT;
import static dev.pekkodsm.memory.SlotLayout.SLOT_HEADER_BYTES;

import dev.pekkodsm.memory.ActiveValue;
import dev.pekkodsm.memory.ReadBuffer;
import dev.pekkodsm.memory.ReadStatus;
import dev.pekkodsm.memory.SlotLayout;
import dev.pekkodsm.memory.SyncAccess;
import dev.pekkodsm.memory.SyncFailedException;
import dev.pekkodsm.memory.SyncLayout;
import dev.pekkodsm.memory.SyncStatus;
import dev.pekkodsm.serialization.internal.SnapshotCodec;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.concurrent.locks.LockSupport;

/**
 * The one-sided operations on a peer's sync region over RDMA work requests ({@link SyncChannel}),
 * with the meaning the owner's own {@code CellOps} and {@code SlotWrites} give them, on the same
 * bytes, so that the owner, its same-host peers, its tcp peers and its rdma peers can operate on
 * one cell together.
 *
 * <p><b>Byte order and alignment.</b> The region is little-endian ({@link SlotLayout#LONG}): the
 * owner and shm peers change its words with little-endian {@code VarHandle}s. An RDMA atomic
 * operates on the responder's memory in the responder's byte order, and the listener registers the
 * region for atomics only on a little-endian host (see {@code RdmaArenaServer}), so an atomic and a
 * {@code VarHandle} agree on every word. Operands are given, and results arrive, in this host's
 * order ({@code libibverbs} converts them for the wire); words fetched by an RDMA READ are the
 * region's raw little-endian bytes. Every cell field is an 8-byte word at an 8-byte offset of a
 * 64-byte cell, cells start at byte 4096 of a page-aligned mapping, and a value slot's sequence
 * word is at the start of its 64-byte aligned slot: every atomic's target is 8-byte aligned, which
 * the verbs require. A target that is not (a key whose address is not 8-byte aligned) is refused
 * before anything is posted.
 *
 * <p><b>Owner checks.</b> Every operation first reads the cell (one RDMA READ of its 64 bytes, a
 * single cache line, which also yields all its words) and checks that it belongs to the object
 * named, as {@code CellOps} does with plain loads before its atomic instruction: a NIC cannot make
 * an atomic conditional on another word, and the owner never clears a cell a live handle may name.
 * So an exchange or an add is two round trips: the read, then the atomic.
 *
 * <p><b>Value slots.</b> A write takes the slot's seqlock with a compare-and-swap of its sequence
 * word from even to odd (the reads of the slot's frame header that decide whether it holds this
 * object's value are chained after it, fenced), writes the frame with RDMA WRITEs, waits for them
 * to complete, and only then releases the slot with a compare-and-swap to the next even value, so a
 * reader never sees the new sequence before the new bytes. Reads are {@link RemoteSlotRead}.
 *
 * <p>Every wait has the operation's deadline. A completion that does not arrive in time is {@link
 * SyncStatus#TIMED_OUT}; a failed completion or a lost connection is {@link SyncStatus#UNAVAILABLE}
 * (for an exchange or an add: it may or may not have happened), as over tcp. Thread-safe: each
 * operation works in a work buffer of its own.
 */
final class RemoteSync implements SyncAccess {

  /** What the operations need of a connection. */
  interface Port {
    /**
     * A work buffer owned by the caller until {@link #release}.
     *
     * @throws SyncFailedException {@link SyncStatus#TIMED_OUT} if none is free by the deadline,
     *     {@link SyncStatus#UNAVAILABLE} if the connection is lost
     */
    SyncChannel acquire(long deadlineNs);

    void release(SyncChannel channel);

    /**
     * The keys of segment {@code segment} of {@code region} ({@link RdmaWire#REGION_CELLS} or
     * {@link RdmaWire#REGION_VALUES}), asked for if not known yet.
     *
     * @throws SyncFailedException {@link SyncStatus#OUT_OF_RANGE} if the region has no such
     *     segment, {@link SyncStatus#UNAVAILABLE} if the peer offers no sync region over RDMA
     */
    SegmentKey key(int region, int segment, long deadlineNs);

    /** Why the connection is unusable, or null. */
    String failure();
  }

  private static final int SPIN_ATTEMPTS = 128;
  private static final long RETRY_BUDGET_NS = 20_000_000L;

  /** What a value write reads of a slot: its header and the header of the frame it holds. */
  static final int SLOT_PROBE_BYTES = SLOT_HEADER_BYTES + SnapshotCodec.HEADER_BYTES;

  private final Port port;
  private final long node;
  private final SnapshotCodec codec;
  private final int maxFrameBytes;
  private final int firstReadBytes;

  RemoteSync(Port port, long node, SnapshotCodec codec, int maxFrameBytes, int firstReadBytes) {
    this.port = port;
    this.node = node;
    this.codec = codec;
    this.maxFrameBytes = maxFrameBytes;
    this.firstReadBytes = firstReadBytes;
  }

  @Override
  public long load(long cell, long object, int field, long deadlineNs) {
    SegmentKey cells = cells(cell, field, deadlineNs);
    SyncChannel channel = port.acquire(deadlineNs);
    try {
      readCell(channel, cells, cell, object, deadlineNs);
      return data(channel).getLong(RemoteSlotRead.DATA + field);
    } finally {
      port.release(channel);
    }
  }

  @Override
  public long compareAndExchange(
      long cell, long object, int field, long expected, long update, long deadlineNs) {
    SegmentKey cells = cells(cell, field, deadlineNs);
    long target = aligned(cells, cell + field);
    SyncChannel channel = port.acquire(deadlineNs);
    try {
      readCell(channel, cells, cell, object, deadlineNs);
      return exchange(channel, cells, target, expected, update, deadlineNs);
    } finally {
      port.release(channel);
    }
  }

  @Override
  public long getAndAdd(long cell, long object, int field, long delta, long deadlineNs) {
    SegmentKey cells = cells(cell, field, deadlineNs);
    long target = aligned(cells, cell + field);
    SyncChannel channel = port.acquire(deadlineNs);
    try {
      readCell(channel, cells, cell, object, deadlineNs);
      check(channel.fetchAndAdd(cells, target, delta, deadlineNs), "an RDMA fetch-and-add");
      return result(channel);
    } finally {
      port.release(channel);
    }
  }

  @Override
  public void writeValue(long locator, byte[] frame, int length, long deadlineNs) {
    SegmentKey slots = slotSegment(locator, deadlineNs);
    SyncChannel channel = port.acquire(deadlineNs);
    try {
      write(channel, slots, SlotLayout.offset(locator), frame, length, deadlineNs);
    } finally {
      port.release(channel);
    }
  }

  @Override
  public ReadStatus readValue(
      long locator, long object, int color, ReadBuffer out, long deadlineNs) {
    SegmentKey slots;
    try {
      slots = slotSegment(locator, deadlineNs);
    } catch (SyncFailedException e) {
      return readStatus(e.status());
    }
    SyncChannel channel;
    try {
      channel = port.acquire(deadlineNs);
    } catch (SyncFailedException e) {
      return readStatus(e.status());
    }
    try {
      return RemoteSlotRead.read(
          channel,
          slots,
          SlotLayout.offset(locator),
          codec,
          node,
          object,
          color,
          maxFrameBytes,
          firstReadBytes,
          out,
          deadlineNs);
    } finally {
      port.release(channel);
    }
  }

  @Override
  public long peekValueColor(long locator, long object, long deadlineNs) {
    try {
      SegmentKey slots = slotSegment(locator, deadlineNs);
      long offset = SlotLayout.offset(locator);
      if (!RemoteSlotRead.inRange(offset, slots.length())) {
        return -1;
      }
      SyncChannel channel = port.acquire(deadlineNs);
      try {
        int body = RemoteSlotRead.FRAME_IN_BODY + SnapshotCodec.HEADER_BYTES;
        if (channel.readFirst(slots, offset, body, deadlineNs) != ReadStatus.OK) {
          return -1;
        }
        return stableColor(channel.local(), object);
      } finally {
        port.release(channel);
      }
    } catch (SyncFailedException e) {
      return -1;
    }
  }

  /**
   * One read of the cell (its word and both locators at once), then the slot the word selects: two
   * or three round trips where the stepwise form takes four.
   */
  @Override
  public ActiveValue readActive(
      long cell, long object, int selectorBit, long knownColor, ReadBuffer out, long deadlineNs) {
    if (selectorBit < 0 || selectorBit > 63) {
      throw new SyncFailedException(SyncStatus.OUT_OF_RANGE, "bit " + selectorBit + " is no bit");
    }
    SegmentKey cells = cells(cell, SyncLayout.WORD, deadlineNs);
    long word;
    long slot;
    SyncChannel channel = port.acquire(deadlineNs);
    try {
      readCell(channel, cells, cell, object, deadlineNs);
      ByteBuffer data = data(channel);
      word = data.getLong(RemoteSlotRead.DATA + SyncLayout.WORD);
      slot = data.getLong(RemoteSlotRead.DATA + locatorField(word, selectorBit));
    } finally {
      port.release(channel);
    }
    return valueOf(word, slot, object, knownColor, out, deadlineNs);
  }

  /**
   * The cell read (its owner checked, the guessed slot's locator found), then in one post the
   * exchange and the fenced reads of that slot's header and first bytes; a frame too large for
   * them, or of a version the reader does not know, is read afterwards.
   */
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
    if (selectorBit < 0 || selectorBit > 63) {
      throw new SyncFailedException(SyncStatus.OUT_OF_RANGE, "bit " + selectorBit + " is no bit");
    }
    SegmentKey cells = cells(cell, SyncLayout.WORD, deadlineNs);
    long target = aligned(cells, cell + SyncLayout.WORD);
    SyncChannel channel = port.acquire(deadlineNs);
    long witness;
    long slot;
    try {
      readCell(channel, cells, cell, object, deadlineNs);
      slot = data(channel).getLong(RemoteSlotRead.DATA + locatorField(expected, selectorBit));
      SegmentKey slots = valueSegmentOrNull(slot, deadlineNs);
      long offset = SlotLayout.offset(slot);
      if (slots == null || !RemoteSlotRead.inRange(offset, slots.length())) {
        return exchangeAlone(channel, cells, target, expected, update, deadlineNs);
      }
      int body = RemoteSlotRead.bodyBytes(offset, slots.length(), firstBody(channel));
      check(
          channel.compareAndSwapThenReadFirst(
              cells, target, expected, update, slots, offset, body, deadlineNs),
          "an RDMA compare-and-swap");
      witness = result(channel);
      if (witness != expected) {
        return new ActiveValue(witness, -1, false, ReadStatus.STALE);
      }
      long color = stableColor(channel.local(), object);
      if (color >= 0 && color == knownColor) {
        return new ActiveValue(witness, color, true, ReadStatus.OK);
      }
    } finally {
      port.release(channel);
    }
    // The exchange happened: from here every failure is a status, so the caller knows it.
    ReadStatus status = readValue(slot, object, SnapshotCodec.ANY_COLOR, out, deadlineNs);
    long copied = status == ReadStatus.OK ? SnapshotCodec.color(out.bytes(), 0) & 0xFFFF_FFFFL : -1;
    return new ActiveValue(witness, copied, false, status);
  }

  /**
   * The cell read once (its owner checked, the slot's locator and the word found), the frame
   * written under the slot's seqlock, then the word exchanged.
   */
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
    if (slotField != SyncLayout.LOCATOR_A && slotField != SyncLayout.LOCATOR_B) {
      throw new SyncFailedException(SyncStatus.OUT_OF_RANGE, "field " + slotField + " is no slot");
    }
    SegmentKey cells = cells(cell, SyncLayout.WORD, deadlineNs);
    long target = aligned(cells, cell + SyncLayout.WORD);
    SyncChannel channel = port.acquire(deadlineNs);
    try {
      readCell(channel, cells, cell, object, deadlineNs);
      ByteBuffer data = data(channel);
      long word = data.getLong(RemoteSlotRead.DATA + SyncLayout.WORD);
      long slot = data.getLong(RemoteSlotRead.DATA + slotField);
      // A writer whose lock was taken back (the word moved on) writes nothing, as stepwise.
      if (word != expected) {
        return word;
      }
      SegmentKey slots = slotSegment(slot, deadlineNs);
      write(channel, slots, SlotLayout.offset(slot), frame, length, deadlineNs);
      return exchange(channel, cells, target, expected, update, deadlineNs);
    } finally {
      port.release(channel);
    }
  }

  // ---- the steps

  /** The keys of the cells file, once {@code cell} and {@code field} are known to name a word. */
  private SegmentKey cells(long cell, int field, long deadlineNs) {
    SegmentKey cells = port.key(RdmaWire.REGION_CELLS, 0, deadlineNs);
    if (!SyncLayout.holdsCell(cells.length(), cell) || !SyncLayout.isOperandField(field)) {
      throw new SyncFailedException(
          SyncStatus.OUT_OF_RANGE, "no cell at " + cell + " field " + field + " of the region");
    }
    return cells;
  }

  /** Reads the whole cell into DATA and checks that it belongs to {@code object}. */
  private void readCell(
      SyncChannel channel, SegmentKey cells, long cell, long object, long deadlineNs) {
    check(channel.read(cells, cell, SyncLayout.CELL_BYTES, deadlineNs), "an RDMA read of a cell");
    ByteBuffer data = data(channel);
    int kind = data.getInt(RemoteSlotRead.DATA + SyncLayout.KIND);
    long owner = data.getLong(RemoteSlotRead.DATA + SyncLayout.OBJECT);
    if (kind == SyncLayout.KIND_FREE || owner != object) {
      throw new SyncFailedException(
          SyncStatus.NOT_THIS_OBJECT,
          "the cell at " + cell + " does not belong to object " + Long.toHexString(object));
    }
  }

  private long exchange(
      SyncChannel channel,
      SegmentKey cells,
      long offset,
      long expected,
      long update,
      long deadlineNs) {
    check(
        channel.compareAndSwap(cells, offset, expected, update, deadlineNs),
        "an RDMA compare-and-swap");
    return result(channel);
  }

  private ActiveValue exchangeAlone(
      SyncChannel channel,
      SegmentKey cells,
      long target,
      long expected,
      long update,
      long deadlineNs) {
    long witness = exchange(channel, cells, target, expected, update, deadlineNs);
    if (witness != expected) {
      return new ActiveValue(witness, -1, false, ReadStatus.STALE);
    }
    return new ActiveValue(witness, -1, false, ReadStatus.OUT_OF_RANGE);
  }

  /**
   * The seqlock write of {@code SlotWrites}, step by step: probe, take, check the owner, write,
   * release.
   */
  private void write(
      SyncChannel channel,
      SegmentKey slots,
      long offset,
      byte[] frame,
      int length,
      long deadlineNs) {
    if (offset < FIRST_SLOT_OFFSET
        || offset % SLOT_ALIGNMENT != 0
        || offset + SLOT_PROBE_BYTES > slots.length()) {
      throw new SyncFailedException(SyncStatus.OUT_OF_RANGE, "no slot at offset " + offset);
    }
    long sequenceAt = aligned(slots, offset + SEQUENCE_OFFSET);
    check(channel.read(slots, offset, SLOT_PROBE_BYTES, deadlineNs), "an RDMA read of a slot");
    ByteBuffer data = data(channel);
    int capacity = data.getInt(RemoteSlotRead.DATA + CAPACITY_OFFSET);
    if (capacity < SLOT_ALIGNMENT
        || offset + capacity > slots.length()
        || length + SLOT_HEADER_BYTES > capacity) {
      throw new SyncFailedException(
          SyncStatus.TOO_LARGE,
          "a frame of " + length + " bytes does not fit the slot's " + capacity + " bytes");
    }
    long sequence = take(channel, slots, offset, sequenceAt, data, deadlineNs);
    if (!sameOwner(channel.local(), frame, length)) {
      release(channel, slots, sequenceAt, sequence + 1, sequence, deadlineNs); // untouched
      throw new SyncFailedException(
          SyncStatus.NOT_THIS_OBJECT, "the slot at " + offset + " holds another object's value");
    }
    // A write that fails from here leaves the slot held (odd): the channel cannot be used again,
    // and a late write must not land under an even sequence. See the README's limits.
    ByteBuffer local = channel.local();
    for (int written = 0; written < length; ) {
      int bytes = Math.min(length - written, channel.dataBytes());
      local.put(RemoteSlotRead.DATA, frame, written, bytes);
      long at = offset + SLOT_HEADER_BYTES + written;
      check(channel.write(slots, at, bytes, deadlineNs), "an RDMA write of a value");
      written += bytes;
    }
    // Every write has completed: the frame is in place before the sequence turns even.
    release(channel, slots, sequenceAt, sequence + 1, sequence + 2, deadlineNs);
  }

  /**
   * Moves the slot's sequence from even to odd, the frame header read (fenced) right after each
   * attempt; returns the even value it held. {@code data} holds a probe of the slot.
   */
  private long take(
      SyncChannel channel,
      SegmentKey slots,
      long offset,
      long sequenceAt,
      ByteBuffer data,
      long deadlineNs) {
    long giveUpNs = 0;
    long sequence = data.getLong(RemoteSlotRead.DATA + SEQUENCE_OFFSET);
    int body = RemoteSlotRead.FRAME_IN_BODY + SnapshotCodec.HEADER_BYTES;
    for (int attempt = 0; ; attempt++) {
      if ((sequence & 1) == 0) {
        check(
            channel.compareAndSwapThenReadFirst(
                slots, sequenceAt, sequence, sequence + 1, slots, offset, body, deadlineNs),
            "an RDMA compare-and-swap");
        long witness = result(channel);
        if (witness == sequence) {
          return sequence;
        }
        sequence = witness;
      } else {
        check(channel.read(slots, offset, 8, deadlineNs), "an RDMA read of a slot");
        sequence = data.getLong(RemoteSlotRead.DATA + SEQUENCE_OFFSET);
      }
      if (attempt >= SPIN_ATTEMPTS) {
        long now = System.nanoTime();
        if (giveUpNs == 0) {
          giveUpNs = deadlineNs - now < RETRY_BUDGET_NS ? deadlineNs : now + RETRY_BUDGET_NS;
        }
        if (now - giveUpNs >= 0) {
          throw new SyncFailedException(
              SyncStatus.CONTENDED, "another writer held the value slot at " + offset);
        }
        LockSupport.parkNanos(1_000);
      } else {
        Thread.onSpinWait();
      }
    }
  }

  private void release(
      SyncChannel channel,
      SegmentKey slots,
      long sequenceAt,
      long held,
      long next,
      long deadlineNs) {
    check(
        channel.compareAndSwap(slots, sequenceAt, held, next, deadlineNs),
        "an RDMA compare-and-swap");
    long witness = result(channel);
    if (witness != held) {
      throw new SyncFailedException(
          SyncStatus.CONTENDED,
          "the value slot's sequence moved from " + held + " to " + witness + " while held");
    }
  }

  /**
   * Whether the frame header read while the slot is held (at {@code DATA + FRAME_IN_BODY}, after
   * {@link SyncChannel#compareAndSwapThenReadFirst}) names the node and object {@code frame} names.
   */
  static boolean sameOwner(ByteBuffer local, byte[] frame, int length) {
    ByteBuffer held = local.duplicate().order(ByteOrder.LITTLE_ENDIAN);
    ByteBuffer fresh = ByteBuffer.wrap(frame).order(ByteOrder.LITTLE_ENDIAN);
    int at = RemoteSlotRead.DATA + RemoteSlotRead.FRAME_IN_BODY;
    return length >= SnapshotCodec.HEADER_BYTES
        && held.getInt(at + SnapshotCodec.MAGIC_OFFSET) == SnapshotCodec.MAGIC
        && held.getLong(at + SnapshotCodec.NODE_OFFSET) == fresh.getLong(SnapshotCodec.NODE_OFFSET)
        && held.getLong(at + SnapshotCodec.OBJECT_OFFSET)
            == fresh.getLong(SnapshotCodec.OBJECT_OFFSET);
  }

  /**
   * The color of the frame the last {@code readFirst} copied, if it was a stable copy of a frame of
   * this node and {@code object}; -1 otherwise.
   */
  private long stableColor(ByteBuffer local, long object) {
    ByteBuffer b = local.duplicate().order(ByteOrder.LITTLE_ENDIAN);
    long before = b.getLong(RemoteSlotRead.SEQ_BEFORE);
    if ((before & 1) != 0 || before != b.getLong(RemoteSlotRead.SEQ_AFTER)) {
      return -1;
    }
    int at = RemoteSlotRead.DATA + RemoteSlotRead.FRAME_IN_BODY;
    if (b.getInt(at + SnapshotCodec.MAGIC_OFFSET) != SnapshotCodec.MAGIC
        || b.getLong(at + SnapshotCodec.NODE_OFFSET) != node
        || b.getLong(at + SnapshotCodec.OBJECT_OFFSET) != object) {
      return -1;
    }
    return b.getInt(at + SnapshotCodec.COLOR_OFFSET) & 0xFFFF_FFFFL;
  }

  private ActiveValue valueOf(
      long word, long slot, long object, long knownColor, ReadBuffer out, long deadlineNs) {
    if (knownColor != Long.MIN_VALUE) {
      long color = peekValueColor(slot, object, deadlineNs);
      if (color >= 0 && color == knownColor) {
        return new ActiveValue(word, color, true, ReadStatus.OK);
      }
    }
    ReadStatus status = readValue(slot, object, SnapshotCodec.ANY_COLOR, out, deadlineNs);
    long copied = status == ReadStatus.OK ? SnapshotCodec.color(out.bytes(), 0) & 0xFFFF_FFFFL : -1;
    return new ActiveValue(word, copied, false, status);
  }

  private SegmentKey slotSegment(long locator, long deadlineNs) {
    return port.key(RdmaWire.REGION_VALUES, SlotLayout.segment(locator), deadlineNs);
  }

  private SegmentKey valueSegmentOrNull(long locator, long deadlineNs) {
    try {
      return slotSegment(locator, deadlineNs);
    } catch (SyncFailedException e) {
      if (e.status() == SyncStatus.OUT_OF_RANGE) {
        return null;
      }
      throw e;
    }
  }

  private int firstBody(SyncChannel channel) {
    return Math.min(firstReadBytes, channel.dataBytes());
  }

  private static int locatorField(long word, int selectorBit) {
    return ((word >>> selectorBit) & 1) == 0 ? SyncLayout.LOCATOR_A : SyncLayout.LOCATOR_B;
  }

  /**
   * {@code offset} if the word there is 8-byte aligned in the peer's memory, as an RDMA atomic
   * requires.
   *
   * @throws SyncFailedException {@link SyncStatus#OUT_OF_RANGE} otherwise, before anything is
   *     posted
   */
  static long aligned(SegmentKey key, long offset) {
    long address = key.address() + offset;
    if ((address & (SyncWorkRequests.ATOMIC_BYTES - 1)) != 0) {
      throw new SyncFailedException(
          SyncStatus.OUT_OF_RANGE,
          "an RDMA atomic needs an 8-byte aligned word, and the word at offset "
              + offset
              + " of segment "
              + key.segment()
              + " is at address 0x"
              + Long.toHexString(address));
    }
    return offset;
  }

  private static ByteBuffer data(SyncChannel channel) {
    return channel.local().duplicate().order(ByteOrder.LITTLE_ENDIAN); // the region's bytes
  }

  /** The word an atomic returned, in this host's order (see the class comment). */
  private static long result(SyncChannel channel) {
    return channel
        .local()
        .duplicate()
        .order(ByteOrder.nativeOrder())
        .getLong(RemoteSlotRead.RESULT);
  }

  private void check(ReadStatus status, String what) {
    switch (status) {
      case OK -> {}
      case TIMED_OUT ->
          throw new SyncFailedException(
              SyncStatus.TIMED_OUT, what + " did not complete before the deadline");
      case OUT_OF_RANGE ->
          throw new SyncFailedException(SyncStatus.OUT_OF_RANGE, what + " was out of range");
      default -> {
        String failure = port.failure();
        throw new SyncFailedException(
            SyncStatus.UNAVAILABLE,
            what
                + " failed"
                + (failure != null ? ": " + failure : "")
                + "; an exchange or an add may or may not have happened");
      }
    }
  }

  private static ReadStatus readStatus(SyncStatus status) {
    return switch (status) {
      case OUT_OF_RANGE -> ReadStatus.OUT_OF_RANGE;
      case NOT_THIS_OBJECT -> ReadStatus.FREED;
      case CONTENDED -> ReadStatus.CONTENDED;
      case TIMED_OUT -> ReadStatus.TIMED_OUT;
      case TOO_LARGE -> ReadStatus.CORRUPT;
      case UNAVAILABLE -> ReadStatus.UNAVAILABLE;
    };
  }
}
