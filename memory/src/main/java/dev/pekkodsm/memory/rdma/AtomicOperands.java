package dev.pekkodsm.memory.rdma;

import com.ibm.disni.util.MemBuf;
import com.ibm.disni.verbs.SVCPostSend;
import com.ibm.disni.verbs.impl.NatIbvSendWR;
import com.ibm.disni.verbs.impl.NatPostSendCall;
import java.io.IOException;
import java.lang.reflect.Field;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Writes the operands of RDMA atomics into the native work requests of a prepared DiSNI post-send
 * call.
 *
 * <p>DiSNI 2.1 lays a post-send call out as an array of {@code struct ibv_send_wr} (72 bytes each
 * on x86-64, the {@code wr} union at byte 40) in a native buffer that {@code ibv_post_send} is
 * handed as is, but it only ever writes the union's {@code rdma} member (remote address, rkey and a
 * reserved word): the {@code atomic} member's {@code compare_add} (union byte 8), {@code swap} (16)
 * and {@code rkey} (24) are never written, and DiSNI's {@code RdmaMod.setRkey} would land in the
 * low half of {@code compare_add}. So for an atomic work request this class writes the whole {@code
 * atomic} member itself, in the host's byte order as {@code libibverbs} expects, into that native
 * buffer (reached by reflection: it is private to DiSNI's call), and nothing else ever writes that
 * union again.
 *
 * <p>{@link #of} checks the layout it relies on and throws if this DiSNI differs, so a reader then
 * reports the sync region as unavailable instead of posting atomics with wrong operands. Owned by
 * the one thread that owns the work buffer it belongs to.
 */
final class AtomicOperands {

  /** {@code sizeof(struct ibv_send_wr)} as DiSNI 2.1 lays work requests out. */
  static final int WR_BYTES = 72;

  /** The offset of the {@code wr} union in a work request. */
  static final int UNION_OFFSET = 40;

  /** Offsets within the union's {@code atomic} member. */
  static final int REMOTE_ADDR = 0;

  static final int COMPARE_ADD = 8;
  static final int SWAP = 16;
  static final int RKEY = 24;

  private final ByteBuffer image;
  private final int[] unions;

  private AtomicOperands(ByteBuffer image, int[] unions) {
    this.image = image;
    this.unions = unions;
  }

  /**
   * The native image of a work-request chain, given where each request starts in it.
   *
   * @param image the native buffer {@code ibv_post_send} reads (any position; host byte order is
   *     applied)
   */
  static AtomicOperands over(ByteBuffer image, int... wrPositions) {
    int[] unions = new int[wrPositions.length];
    for (int i = 0; i < wrPositions.length; i++) {
      if (wrPositions[i] < 0 || wrPositions[i] + WR_BYTES > image.capacity()) {
        throw new IllegalArgumentException(
            "work request " + i + " at " + wrPositions[i] + " is outside the image");
      }
      unions[i] = wrPositions[i] + UNION_OFFSET;
    }
    return new AtomicOperands(image.duplicate().order(ByteOrder.nativeOrder()), unions);
  }

  /**
   * The native image of {@code call}'s {@code count} work requests.
   *
   * @throws IOException if {@code call} is not laid out as DiSNI 2.1 does it
   */
  static AtomicOperands of(SVCPostSend call, int count) throws IOException {
    if (NatIbvSendWR.CSIZE != WR_BYTES || NatIbvSendWR.REMOTEADDR_OFFSET != UNION_OFFSET) {
      throw new IOException(
          "DiSNI lays work requests out in "
              + NatIbvSendWR.CSIZE
              + " bytes with the union at "
              + NatIbvSendWR.REMOTEADDR_OFFSET
              + ", not as the DiSNI "
              + Rdma.DISNI_VERSION
              + " whose atomics this transport writes");
    }
    if (!(call instanceof NatPostSendCall)) {
      throw new IOException("not a DiSNI native post-send call: " + call.getClass().getName());
    }
    ByteBuffer image;
    try {
      Field cmd = NatPostSendCall.class.getDeclaredField("cmd");
      cmd.setAccessible(true);
      image = ((MemBuf) cmd.get(call)).getBuffer();
    } catch (ReflectiveOperationException | RuntimeException e) {
      throw new IOException("cannot reach the native work requests of a DiSNI call: " + e, e);
    }
    int[] positions = new int[count];
    for (int i = 0; i < count; i++) {
      positions[i] = ((NatIbvSendWR) call.getWrMod(i)).getBufPosition();
    }
    return over(image, positions);
  }

  /**
   * Sets the {@code atomic} member of work request {@code wr}: the 8-byte aligned remote word, its
   * memory region's key, and the compare (or add) and swap operands.
   */
  void set(int wr, long remoteAddress, int rkey, long compareAdd, long swap) {
    int at = unions[wr];
    image.putLong(at + REMOTE_ADDR, remoteAddress);
    image.putLong(at + COMPARE_ADD, compareAdd);
    image.putLong(at + SWAP, swap);
    image.putInt(at + RKEY, rkey);
    image.putInt(at + RKEY + 4, 0);
  }
}
