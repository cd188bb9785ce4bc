package dev.pekkodsm.memory.rdma;

import static dev.pekkodsm.memory.rdma.SyncSteps.aligned;
import static dev.pekkodsm.memory.rdma.SyncSteps.check;
import static dev.pekkodsm.memory.rdma.SyncSteps.data;
import static dev.pekkodsm.memory.rdma.SyncSteps.readStatus;
import static dev.pekkodsm.memory.rdma.SyncSteps.result;

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
 * <p><b>Value slots.</b> Writes are {@link RemoteSlotWrite}, reads {@link RemoteSlotRead}.
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
      check(channel.fetchAndAdd(cells, target, delta, deadlineNs), "an RDMA fetch-and-add", port);
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
      RemoteSlotWrite.write(
          channel, slots, SlotLayout.offset(locator), frame, length, port, deadlineNs);
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
   * exchange and the fenced reads of that slot's sequence, header and first bytes: a lock taken
   * with its value in two round trips. Only a frame larger than that first read, or one a writer
   * was in, is read on afterwards.
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
    try {
      readCell(channel, cells, cell, object, deadlineNs);
      long slot = data(channel).getLong(RemoteSlotRead.DATA + locatorField(expected, selectorBit));
      SegmentKey slots = valueSegmentOrNull(slot, deadlineNs);
      long offset = SlotLayout.offset(slot);
      if (slots == null || !RemoteSlotRead.inRange(offset, slots.length())) {
        return exchangeAlone(channel, cells, target, expected, update, deadlineNs);
      }
      int body = RemoteSlotRead.bodyBytes(offset, slots.length(), firstBody(channel));
      check(
          channel.compareAndSwapThenReadFirst(
              cells, target, expected, update, slots, offset, body, deadlineNs),
          "an RDMA compare-and-swap",
          port);
      long witness = result(channel);
      if (witness != expected) {
        return new ActiveValue(witness, -1, false, ReadStatus.STALE);
      }
      long color = stableColor(channel.local(), object);
      if (color >= 0 && color == knownColor) {
        return new ActiveValue(witness, color, true, ReadStatus.OK);
      }
      // The exchange happened: from here every failure is a status, so the caller knows it. The
      // slot's first read is in the buffer already; a torn one or a longer frame is read on.
      ReadStatus status =
          RemoteSlotRead.read(
              new FirstReadDone(channel),
              slots,
              offset,
              codec,
              node,
              object,
              SnapshotCodec.ANY_COLOR,
              maxFrameBytes,
              firstReadBytes,
              out,
              deadlineNs);
      long copied =
          status == ReadStatus.OK ? SnapshotCodec.color(out.bytes(), 0) & 0xFFFF_FFFFL : -1;
      return new ActiveValue(witness, copied, false, status);
    } finally {
      port.release(channel);
    }
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
      RemoteSlotWrite.write(
          channel, slots, SlotLayout.offset(slot), frame, length, port, deadlineNs);
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
    check(
        channel.read(cells, cell, SyncLayout.CELL_BYTES, deadlineNs),
        "an RDMA read of a cell",
        port);
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
        "an RDMA compare-and-swap",
        port);
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
}
