package dev.pekkodsm.serialization.internal;

import dev.pekkodsm.serialization.DecodeStatus;
import dev.pekkodsm.serialization.SnapshotFormatException;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.util.zip.CRC32C;

/**
 * The snapshot frame: a fixed header and a Kryo payload.
 *
 * <pre>
 *  offset  size  field
 *       0     4  magic   0x44534D31 ("DSM1")
 *       4     4  crc     CRC32C over bytes [8, 32 + length)
 *       8     8  node    home node of the object
 *      16     8  object  object id within that node
 *      24     4  color
 *      28     4  length  payload bytes
 *      32     n  payload (Kryo, class and object)
 * </pre>
 *
 * All fields are little-endian. Decoding checks, in order, that the header fits, the magic, that
 * the length is within the configured maximum and within the bytes available, the CRC, and that the
 * frame names the expected object and color; only then does Kryo see the payload. Thread-safe.
 */
public final class SnapshotCodec {

  public static final int MAGIC = 0x44534D31;

  /**
   * Accepts a frame of any color: for a slot the owner rewrites in place (a mutex's last unlocked
   * value, an atomic's value), where the color field carries the version instead.
   */
  public static final int ANY_COLOR = Integer.MIN_VALUE;

  public static final int HEADER_BYTES = 32;

  public static final int MAGIC_OFFSET = 0;
  static final int CRC_OFFSET = 4;
  public static final int NODE_OFFSET = 8;
  public static final int OBJECT_OFFSET = 16;
  public static final int COLOR_OFFSET = 24;
  public static final int LENGTH_OFFSET = 28;

  private static final VarHandle INT =
      MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.LITTLE_ENDIAN);
  private static final VarHandle LONG =
      MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);

  private final KryoPool pool;
  private final int maxPayloadBytes;

  public SnapshotCodec(KryoPool pool) {
    this.pool = pool;
    this.maxPayloadBytes = pool.settings().maxSnapshotBytes();
  }

  /** Receives an encoded frame. The array is pooled: copy what you need before returning. */
  @FunctionalInterface
  public interface FrameSink<R> {
    R accept(byte[] frame, int length);
  }

  /** The pool this codec encodes with. */
  public KryoPool pool() {
    return pool;
  }

  /**
   * Encodes {@code value} as the snapshot of {@code (node, object, color)} and passes the frame to
   * {@code sink}.
   *
   * @throws dev.pekkodsm.serialization.UnregisteredClassException if the value's graph holds an
   *     unregistered class
   * @throws IllegalArgumentException if the payload exceeds the maximum snapshot size
   */
  public <R> R encode(
      Object value, long node, long object, int color, Purpose purpose, FrameSink<R> sink) {
    KryoContext ctx = pool.acquire();
    try {
      byte[] frame = pool.write(ctx, value, purpose, HEADER_BYTES);
      int end = pool.position(ctx);
      int length = end - HEADER_BYTES;
      INT.set(frame, MAGIC_OFFSET, MAGIC);
      LONG.set(frame, NODE_OFFSET, node);
      LONG.set(frame, OBJECT_OFFSET, object);
      INT.set(frame, COLOR_OFFSET, color);
      INT.set(frame, LENGTH_OFFSET, length);
      INT.set(frame, CRC_OFFSET, crc(frame, 0, length));
      return sink.accept(frame, end);
    } finally {
      pool.release(ctx);
    }
  }

  /** Encodes to a new array of exactly the frame's size. */
  public byte[] encode(Object value, long node, long object, int color, Purpose purpose) {
    return encode(
        value,
        node,
        object,
        color,
        purpose,
        (frame, len) -> {
          byte[] copy = new byte[len];
          System.arraycopy(frame, 0, copy, 0, len);
          return copy;
        });
  }

  /**
   * Checks a frame at {@code buf[offset]} with {@code available} bytes readable from there, without
   * decoding it.
   */
  public DecodeStatus verify(
      byte[] buf, int offset, int available, long node, long object, int color) {
    if (available < HEADER_BYTES || offset < 0 || offset > buf.length - HEADER_BYTES) {
      return DecodeStatus.TRUNCATED;
    }
    if ((int) INT.get(buf, offset + MAGIC_OFFSET) != MAGIC) {
      return DecodeStatus.BAD_MAGIC;
    }
    int length = (int) INT.get(buf, offset + LENGTH_OFFSET);
    if (length < 0 || length > maxPayloadBytes) {
      return DecodeStatus.TOO_LARGE;
    }
    if (length > available - HEADER_BYTES || length > buf.length - offset - HEADER_BYTES) {
      return DecodeStatus.TRUNCATED;
    }
    if ((int) INT.get(buf, offset + CRC_OFFSET) != crc(buf, offset, length)) {
      return DecodeStatus.CRC_MISMATCH;
    }
    if ((long) LONG.get(buf, offset + NODE_OFFSET) != node
        || (long) LONG.get(buf, offset + OBJECT_OFFSET) != object
        || (color != ANY_COLOR && (int) INT.get(buf, offset + COLOR_OFFSET) != color)) {
      return DecodeStatus.WRONG_OBJECT;
    }
    return DecodeStatus.OK;
  }

  /**
   * Verifies and decodes a frame.
   *
   * @throws SnapshotFormatException naming the first check that failed
   */
  public Object decode(
      byte[] buf, int offset, int available, long node, long object, int color, Purpose purpose) {
    DecodeStatus status = verify(buf, offset, available, node, object, color);
    if (status != DecodeStatus.OK) {
      throw new SnapshotFormatException(status, describe(buf, offset, available, status));
    }
    return pool.fromBytes(buf, offset + HEADER_BYTES, payloadLength(buf, offset), purpose);
  }

  /** The color (or version) a (verified) header names. */
  public static int color(byte[] buf, int offset) {
    return (int) INT.get(buf, offset + COLOR_OFFSET);
  }

  /** The object a header names (check the frame before trusting it). */
  public static long object(byte[] buf, int offset) {
    return (long) LONG.get(buf, offset + OBJECT_OFFSET);
  }

  /** The payload length a (verified) header announces. */
  public static int payloadLength(byte[] buf, int offset) {
    return (int) INT.get(buf, offset + LENGTH_OFFSET);
  }

  private String describe(byte[] buf, int offset, int available, DecodeStatus status) {
    return switch (status) {
      case TRUNCATED -> available + " bytes available, header announces more";
      case TOO_LARGE ->
          "announced length " + payloadLength(buf, offset) + " exceeds maximum " + maxPayloadBytes;
      case WRONG_OBJECT ->
          "frame is of node "
              + Long.toHexString((long) LONG.get(buf, offset + 8))
              + " object "
              + Long.toHexString((long) LONG.get(buf, offset + 16))
              + " color "
              + (int) INT.get(buf, offset + 24);
      default -> "snapshot check failed";
    };
  }

  static int crc(byte[] frame, int offset, int payloadLength) {
    CRC32C crc = new CRC32C();
    crc.update(frame, offset + NODE_OFFSET, HEADER_BYTES - NODE_OFFSET + payloadLength);
    return (int) crc.getValue();
  }
}
