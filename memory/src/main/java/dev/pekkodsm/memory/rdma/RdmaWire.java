package dev.pekkodsm.memory.rdma;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * The two-sided control messages of the rdma transport, little-endian, each in one SEND. The data
 * path itself is one-sided (RDMA reads, and on the sync region atomics and writes); these messages
 * only hand a reader the keys of a segment.
 *
 * <pre>
 * reader -> listener (request, 48 bytes)
 *   magic u32 "PDRQ" | version u16 | opcode u16 | request id u64
 *   arena token hi u64 | lo u64 | node u64 | segment u32 | region u32
 *     opcode 1 (SEGMENT_KEY): a segment of the snapshot arena; region is 0
 *     opcode 2 (SYNC_KEY): region 1, the sync region's cells file (segment 0), or region 2, a
 *     segment of its writable value slots
 * listener -> reader (reply, 40 bytes)
 *   magic u32 "PDRP" | status u32 | request id u64
 *   address u64 | rkey u32 | length u32 | segment u32 | region u32
 * </pre>
 *
 * A listener that predates the sync region answers opcode 2 with {@link #KEY_BAD_REQUEST}, which a
 * reader takes as "no sync region over RDMA", not as a broken connection.
 *
 * <p>A reader asks for a segment's keys when it first meets a locator of that segment, so segments
 * the owner adds after the reader connected are found the same way as the first one. The listener
 * answers only a reader that names the arena's random token and node (which it learnt from the
 * cluster), and registers a segment with the NIC the first time it is asked for it.
 */
final class RdmaWire {

  static final int REQUEST_MAGIC = 0x51524450; // "PDRQ" little-endian
  static final int REPLY_MAGIC = 0x50524450; // "PDRP" little-endian
  static final int VERSION = 1;
  static final int OP_SEGMENT_KEY = 1;
  static final int OP_SYNC_KEY = 2;

  /** Regions a key may be asked for. */
  static final int REGION_ARENA = 0;

  static final int REGION_CELLS = 1;
  static final int REGION_VALUES = 2;
  static final int REQUEST_BYTES = 48;
  static final int REPLY_BYTES = 40;

  /** The registered size of one control message buffer. */
  static final int MESSAGE_BUFFER_BYTES = 64;

  /** Reply status: the keys follow. */
  static final int KEY_OK = 0;

  /** Reply status: the arena has no such segment (yet). */
  static final int KEY_ABSENT = 1;

  /** Reply status: the request named another arena's token or node. */
  static final int KEY_REFUSED = 2;

  /** Reply status: the request was malformed or of another protocol version. */
  static final int KEY_BAD_REQUEST = 3;

  /** Reply status: the listener could not register the segment with the NIC. */
  static final int KEY_FAILED = 4;

  /**
   * Reply status: the listener does not offer its sync region over RDMA (not given one, or a host
   * whose byte order is not the region's little-endian one, see {@code RemoteSync}).
   */
  static final int KEY_NO_SYNC = 5;

  /** Work request ids: the kind in the top byte, an index in the low bits. */
  static final int KIND_SHIFT = 56;

  static final long KIND_READ = 1;
  static final long KIND_SEND = 2;
  static final long KIND_RECV = 3;

  private RdmaWire() {}

  static long workRequestId(long kind, int index) {
    return (kind << KIND_SHIFT) | index;
  }

  static int kindOf(long workRequestId) {
    return (int) (workRequestId >>> KIND_SHIFT);
  }

  static int indexOf(long workRequestId) {
    return (int) (workRequestId & 0xFFFF_FFFFL);
  }

  /** A decoded request. */
  record Request(long requestId, long tokenHi, long tokenLo, long node, int segment, int region) {}

  /** A decoded reply. */
  record Reply(
      long requestId, int status, long address, int rkey, int length, int segment, int region) {}

  static void writeRequest(
      ByteBuffer buffer, long requestId, long tokenHi, long tokenLo, long node, int segment) {
    writeRequest(buffer, requestId, tokenHi, tokenLo, node, segment, REGION_ARENA);
  }

  static void writeRequest(
      ByteBuffer buffer,
      long requestId,
      long tokenHi,
      long tokenLo,
      long node,
      int segment,
      int region) {
    ByteBuffer b = buffer.duplicate().order(ByteOrder.LITTLE_ENDIAN);
    b.putInt(0, REQUEST_MAGIC);
    b.putShort(4, (short) VERSION);
    b.putShort(6, (short) (region == REGION_ARENA ? OP_SEGMENT_KEY : OP_SYNC_KEY));
    b.putLong(8, requestId);
    b.putLong(16, tokenHi);
    b.putLong(24, tokenLo);
    b.putLong(32, node);
    b.putInt(40, segment);
    b.putInt(44, region);
  }

  /** The request in {@code buffer}, or null if {@code length} bytes do not hold one of ours. */
  static Request readRequest(ByteBuffer buffer, int length) {
    ByteBuffer b = buffer.duplicate().order(ByteOrder.LITTLE_ENDIAN);
    if (length < REQUEST_BYTES
        || b.capacity() < REQUEST_BYTES
        || b.getInt(0) != REQUEST_MAGIC
        || b.getShort(4) != VERSION) {
      return null;
    }
    int opcode = b.getShort(6);
    int region = b.getInt(44);
    if (opcode == OP_SEGMENT_KEY) {
      region = REGION_ARENA;
    } else if (opcode != OP_SYNC_KEY || (region != REGION_CELLS && region != REGION_VALUES)) {
      return null;
    }
    return new Request(
        b.getLong(8), b.getLong(16), b.getLong(24), b.getLong(32), b.getInt(40), region);
  }

  static void writeReply(
      ByteBuffer buffer,
      long requestId,
      int status,
      long address,
      int rkey,
      int length,
      int segment) {
    writeReply(buffer, requestId, status, address, rkey, length, segment, REGION_ARENA);
  }

  static void writeReply(
      ByteBuffer buffer,
      long requestId,
      int status,
      long address,
      int rkey,
      int length,
      int segment,
      int region) {
    ByteBuffer b = buffer.duplicate().order(ByteOrder.LITTLE_ENDIAN);
    b.putInt(0, REPLY_MAGIC);
    b.putInt(4, status);
    b.putLong(8, requestId);
    b.putLong(16, address);
    b.putInt(24, rkey);
    b.putInt(28, length);
    b.putInt(32, segment);
    b.putInt(36, region);
  }

  /** The reply in {@code buffer}, or null if {@code length} bytes do not hold one of ours. */
  static Reply readReply(ByteBuffer buffer, int length) {
    ByteBuffer b = buffer.duplicate().order(ByteOrder.LITTLE_ENDIAN);
    if (length < REPLY_BYTES || b.capacity() < REPLY_BYTES || b.getInt(0) != REPLY_MAGIC) {
      return null;
    }
    return new Reply(
        b.getLong(8),
        b.getInt(4),
        b.getLong(16),
        b.getInt(24),
        b.getInt(28),
        b.getInt(32),
        b.getInt(36));
  }
}
