package dev.pekkodsm.memory.rdma;

import dev.pekkodsm.memory.ActiveValue;
import dev.pekkodsm.memory.ArenaEndpoint;
import dev.pekkodsm.memory.Frames;
import dev.pekkodsm.memory.PeerReader;
import dev.pekkodsm.memory.ReadBuffer;
import dev.pekkodsm.memory.ReadStatus;
import dev.pekkodsm.memory.SlotLayout;
import dev.pekkodsm.memory.SnapshotArena;
import dev.pekkodsm.memory.SyncFailedException;
import dev.pekkodsm.memory.SyncRegion;
import dev.pekkodsm.memory.SyncStatus;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Function;

/**
 * A stand-in for an RDMA NIC and the peer's registered memory, for running the rdma sync protocol
 * ({@link RemoteSync}) without hardware: each work request is performed on the real mapped files of
 * a {@link SyncRegion} (and its arena) as a NIC would perform it. Reads and writes copy bytes; the
 * atomics are performed in this host's byte order, as a NIC performs them on its host's memory,
 * with the CPU's atomic instructions (what {@code ATOMIC_GLOB} promises); a target that is not
 * 8-byte aligned, or a range outside the registered length, fails the work request as a NIC would.
 * Every work request is recorded, with the remote address the protocol computed, for tests of what
 * is posted.
 */
public final class NicStandIn implements RemoteSync.Port {

  static final long ARENA_BASE = 0x7f10_0000_0000L;
  static final long CELLS_BASE = 0x7f20_0000_0000L;
  static final long VALUES_BASE = 0x7f30_0000_0000L;
  static final int ARENA_RKEY = 0xA000;
  static final int CELLS_RKEY = 0xC000;
  static final int VALUES_RKEY = 0xD000;

  private static final VarHandle HOST_LONG =
      MethodHandles.byteBufferViewVarHandle(long[].class, ByteOrder.nativeOrder());

  /** One posted work request, as the NIC would receive it. */
  public record Op(
      String kind, int rkey, long remoteAddress, int bytes, long compareAdd, long swap) {}

  private final SnapshotArena arena;
  private final SyncRegion region;
  final List<Op> posted = new CopyOnWriteArrayList<>();
  volatile Function<Op, ReadStatus> answer = op -> ReadStatus.OK;
  volatile long cellsBase = CELLS_BASE;
  volatile String failure;
  final int dataBytes;

  NicStandIn(SnapshotArena arena, SyncRegion region, int dataBytes) {
    this.arena = arena;
    this.region = region;
    this.dataBytes = dataBytes;
  }

  /** A peer's reader of {@code arena}'s node whose sync operations go through the stand-in. */
  public static PeerReader peer(SnapshotArena arena, SyncRegion region) {
    NicStandIn nic = new NicStandIn(arena, region, 4096);
    return nic.reader(arena.endpoint());
  }

  RemoteSync sync(long node) {
    return new RemoteSync(this, node, Frames.CODEC, Frames.MAX_FRAME, 512);
  }

  @Override
  public SyncChannel acquire(long deadlineNs) {
    if (failure != null) {
      throw new SyncFailedException(SyncStatus.UNAVAILABLE, failure);
    }
    return new Channel();
  }

  @Override
  public void release(SyncChannel channel) {}

  @Override
  public SegmentKey key(int kind, int segment, long deadlineNs) {
    if (kind == RdmaWire.REGION_CELLS) {
      return new SegmentKey(0, cellsBase, CELLS_RKEY, region.cellsForRegistration().capacity());
    }
    ByteBuffer values = kind == RdmaWire.REGION_VALUES ? memory(VALUES_RKEY + segment) : null;
    if (values == null) {
      throw new SyncFailedException(SyncStatus.OUT_OF_RANGE, "no segment " + segment);
    }
    return new SegmentKey(
        segment, VALUES_BASE + ((long) segment << 32), VALUES_RKEY + segment, values.capacity());
  }

  SegmentKey arenaKey(int segment) {
    ByteBuffer s = arena.segment(segment);
    return s == null
        ? null
        : new SegmentKey(
            segment, ARENA_BASE + ((long) segment << 32), ARENA_RKEY + segment, s.capacity());
  }

  @Override
  public String failure() {
    return failure;
  }

  /** The registered memory an rkey names, as the peer's NIC resolves it. */
  private ByteBuffer memory(int rkey) {
    if (rkey == CELLS_RKEY) {
      return region.cellsForRegistration();
    }
    if (rkey >= VALUES_RKEY && rkey < VALUES_RKEY + 0x1000) {
      return region.valuesForRegistration(rkey - VALUES_RKEY);
    }
    if (rkey >= ARENA_RKEY && rkey < ARENA_RKEY + 0x1000) {
      return arena.segment(rkey - ARENA_RKEY);
    }
    return null;
  }

  /** One registered local buffer and the NIC working on it. */
  final class Channel implements SyncChannel {
    final ByteBuffer local =
        ByteBuffer.allocateDirect(RemoteSlotRead.DATA + dataBytes).order(ByteOrder.LITTLE_ENDIAN);

    @Override
    public ByteBuffer local() {
      return local;
    }

    @Override
    public int dataBytes() {
      return dataBytes;
    }

    private ReadStatus perform(Op op, SegmentKey key, long offset, Runnable work) {
      posted.add(op);
      ReadStatus status = answer.apply(op);
      if (status != ReadStatus.OK) {
        return status;
      }
      ByteBuffer remote = memory(key.rkey());
      int length = Math.max(op.bytes(), 8);
      if (remote == null || offset < 0 || offset + length > key.length()) {
        failure = "remote access error at 0x" + Long.toHexString(op.remoteAddress());
        return ReadStatus.UNAVAILABLE;
      }
      boolean atomic = op.kind().equals("CAS") || op.kind().equals("FAA");
      if (atomic && (op.remoteAddress() & 7) != 0) {
        failure = "invalid request: an atomic at 0x" + Long.toHexString(op.remoteAddress());
        return ReadStatus.UNAVAILABLE;
      }
      work.run();
      return ReadStatus.OK;
    }

    private void copyIn(SegmentKey key, long offset, int bytes, int at) {
      ByteBuffer remote = memory(key.rkey()).duplicate();
      remote.position((int) offset).limit((int) offset + bytes);
      ByteBuffer dst = local.duplicate();
      dst.position(at);
      dst.put(remote);
    }

    @Override
    public ReadStatus read(SegmentKey key, long offset, int bytes, long deadlineNs) {
      Op op = new Op("READ", key.rkey(), key.address() + offset, bytes, 0, 0);
      return perform(op, key, offset, () -> copyIn(key, offset, bytes, RemoteSlotRead.DATA));
    }

    @Override
    public ReadStatus write(SegmentKey key, long offset, int bytes, long deadlineNs) {
      Op op = new Op("WRITE", key.rkey(), key.address() + offset, bytes, 0, 0);
      return perform(
          op,
          key,
          offset,
          () -> {
            ByteBuffer src = local.duplicate();
            src.position(RemoteSlotRead.DATA).limit(RemoteSlotRead.DATA + bytes);
            ByteBuffer remote = memory(key.rkey()).duplicate();
            remote.position((int) offset);
            remote.put(src);
          });
    }

    @Override
    public ReadStatus compareAndSwap(
        SegmentKey key, long offset, long expected, long swap, long deadlineNs) {
      Op op = new Op("CAS", key.rkey(), key.address() + offset, 8, expected, swap);
      return perform(
          op,
          key,
          offset,
          () -> {
            long old =
                (long)
                    HOST_LONG.compareAndExchange(memory(key.rkey()), (int) offset, expected, swap);
            local.duplicate().order(ByteOrder.nativeOrder()).putLong(RemoteSlotRead.RESULT, old);
          });
    }

    @Override
    public ReadStatus fetchAndAdd(SegmentKey key, long offset, long delta, long deadlineNs) {
      Op op = new Op("FAA", key.rkey(), key.address() + offset, 8, delta, 0);
      return perform(
          op,
          key,
          offset,
          () -> {
            long old = (long) HOST_LONG.getAndAdd(memory(key.rkey()), (int) offset, delta);
            local.duplicate().order(ByteOrder.nativeOrder()).putLong(RemoteSlotRead.RESULT, old);
          });
    }

    @Override
    public ReadStatus readFirst(SegmentKey key, long slotOffset, int bodyBytes, long deadlineNs) {
      Op op = new Op("READ_FIRST", key.rkey(), key.address() + slotOffset, bodyBytes, 0, 0);
      return perform(
          op,
          key,
          slotOffset,
          () -> {
            copyIn(key, slotOffset, 8, RemoteSlotRead.SEQ_BEFORE);
            copyIn(key, slotOffset + RemoteSlotRead.BODY_OFFSET, bodyBytes, RemoteSlotRead.DATA);
            copyIn(key, slotOffset, 8, RemoteSlotRead.SEQ_AFTER);
          });
    }

    @Override
    public ReadStatus readMore(
        SegmentKey key,
        long offset,
        int bytes,
        boolean thenSequence,
        long slotOffset,
        long deadlineNs) {
      Op op = new Op("READ_MORE", key.rkey(), key.address() + offset, bytes, 0, 0);
      return perform(
          op,
          key,
          offset,
          () -> {
            copyIn(key, offset, bytes, RemoteSlotRead.DATA);
            if (thenSequence) {
              copyIn(key, slotOffset, 8, RemoteSlotRead.SEQ_AFTER);
            }
          });
    }

    @Override
    public ReadStatus compareAndSwapThenReadFirst(
        SegmentKey key,
        long offset,
        long expected,
        long swap,
        SegmentKey slots,
        long slotOffset,
        int bodyBytes,
        long deadlineNs) {
      ReadStatus status = compareAndSwap(key, offset, expected, swap, deadlineNs);
      return status != ReadStatus.OK ? status : readFirst(slots, slotOffset, bodyBytes, deadlineNs);
    }
  }

  /** A reader whose reads and sync operations all go through the stand-in. */
  PeerReader reader(ArenaEndpoint endpoint) {
    RemoteSync sync = sync(endpoint.node());
    return new PeerReader() {
      @Override
      public ArenaEndpoint endpoint() {
        return endpoint;
      }

      @Override
      public String transport() {
        return "rdma";
      }

      @Override
      public ReadStatus read(
          long locator, long object, int color, ReadBuffer out, long deadlineNs) {
        SegmentKey key = arenaKey(SlotLayout.segment(locator));
        if (key == null) {
          return ReadStatus.OUT_OF_RANGE;
        }
        return RemoteSlotRead.read(
            acquire(deadlineNs),
            key,
            SlotLayout.offset(locator),
            Frames.CODEC,
            endpoint.node(),
            object,
            color,
            Frames.MAX_FRAME,
            512,
            out,
            deadlineNs);
      }

      @Override
      public long load(long cell, long object, int field, long deadlineNs) {
        return sync.load(cell, object, field, deadlineNs);
      }

      @Override
      public long compareAndExchange(
          long cell, long object, int field, long expected, long update, long deadlineNs) {
        return sync.compareAndExchange(cell, object, field, expected, update, deadlineNs);
      }

      @Override
      public long getAndAdd(long cell, long object, int field, long delta, long deadlineNs) {
        return sync.getAndAdd(cell, object, field, delta, deadlineNs);
      }

      @Override
      public void writeValue(long locator, byte[] frame, int length, long deadlineNs) {
        sync.writeValue(locator, frame, length, deadlineNs);
      }

      @Override
      public ReadStatus readValue(
          long locator, long object, int color, ReadBuffer out, long deadlineNs) {
        return sync.readValue(locator, object, color, out, deadlineNs);
      }

      @Override
      public long peekValueColor(long locator, long object, long deadlineNs) {
        return sync.peekValueColor(locator, object, deadlineNs);
      }

      @Override
      public ActiveValue readActive(
          long cell,
          long object,
          int selectorBit,
          long knownColor,
          ReadBuffer out,
          long deadlineNs) {
        return sync.readActive(cell, object, selectorBit, knownColor, out, deadlineNs);
      }

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
        return sync.writeThenExchange(
            cell, object, slotField, frame, length, expected, update, deadlineNs);
      }

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
        return sync.exchangeThenRead(
            cell, object, selectorBit, expected, update, knownColor, out, deadlineNs);
      }

      @Override
      public void close() {}
    };
  }
}
