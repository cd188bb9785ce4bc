package dev.pekkodsm.memory.rdma;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.ibm.disni.verbs.IbvSendWR;
import com.ibm.disni.verbs.impl.NatIbvSendWR;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.junit.jupiter.api.Test;

/**
 * The bytes {@code ibv_post_send} reads for an atomic: DiSNI's own image of the work request
 * ({@code struct ibv_send_wr}, as its x86-64 layout places the fields), completed by {@link
 * AtomicOperands}. Built with DiSNI's classes, without its native library.
 */
class AtomicOperandsTest {

  static final int WR_ID = 0;
  static final int NUM_SGE = 24;
  static final int OPCODE = 28;
  static final int SEND_FLAGS = 32;
  static final int REMOTE_ADDR = 40;
  static final int COMPARE_ADD = 48;
  static final int SWAP = 56;
  static final int RKEY = 64;

  /** DiSNI's native image of {@code wr}, written at {@code at} of {@code image}. */
  static int image(ByteBuffer image, int at, IbvSendWR wr) {
    NatIbvSendWR nat =
        new NatIbvSendWR(null, new NatIbvSendWR.NatRdma(wr.getRdma(), null), wr, wr.getSg_list());
    image.position(at);
    nat.writeBack(image);
    return nat.getBufPosition();
  }

  static ByteBuffer stale(int bytes) {
    ByteBuffer image = ByteBuffer.allocateDirect(bytes).order(ByteOrder.nativeOrder());
    while (image.hasRemaining()) {
      image.put((byte) 0x5A); // a reused DiSNI buffer holds whatever was posted before
    }
    return image.clear();
  }

  @Test
  void shouldLayDiSnisWorkRequestsOutAsTheOperandsAreWrittenFor() {
    assertEquals(AtomicOperands.WR_BYTES, NatIbvSendWR.CSIZE);
    assertEquals(AtomicOperands.UNION_OFFSET, NatIbvSendWR.REMOTEADDR_OFFSET);
  }

  @Test
  void shouldWriteACompareAndSwapAsTheVerbsReadIt() {
    ByteBuffer image = stale(2 * AtomicOperands.WR_BYTES);
    long id = RdmaWire.workRequestId(RdmaWire.KIND_READ, 3);
    IbvSendWR wr =
        SyncWorkRequests.compareAndSwap(id, IbvSendWR.IBV_SEND_SIGNALED, 0x7000_0010L, 0x42);
    int at = image(image, AtomicOperands.WR_BYTES, wr);
    AtomicOperands.over(image, at).set(0, 0x7f20_0000_1008L, 0xBEEF, 0x0102_0304_0506_0708L, -2L);
    assertEquals(id, image.getLong(at + WR_ID));
    assertEquals(1, image.getInt(at + NUM_SGE));
    assertEquals(5, image.getInt(at + OPCODE), "IBV_WR_ATOMIC_CMP_AND_SWP");
    assertEquals(IbvSendWR.IBV_SEND_SIGNALED, image.getInt(at + SEND_FLAGS));
    assertEquals(0x7f20_0000_1008L, image.getLong(at + REMOTE_ADDR));
    assertEquals(0x0102_0304_0506_0708L, image.getLong(at + COMPARE_ADD));
    assertEquals(-2L, image.getLong(at + SWAP));
    assertEquals(0xBEEF, image.getInt(at + RKEY));
    assertEquals(0, image.getInt(at + RKEY + 4), "the union's padding");
    assertEquals(8, wr.getSg_list().getFirst().getLength(), "the 8-byte result");
    assertEquals(0x7000_0010L, wr.getSg_list().getFirst().getAddr());
    assertEquals(0x42, wr.getSg_list().getFirst().getLkey());
    assertEquals(0x5A, image.get(0), "the work request before is untouched");
  }

  @Test
  void shouldWriteAFetchAndAddWithTheDeltaAsItsOperand() {
    ByteBuffer image = stale(AtomicOperands.WR_BYTES);
    IbvSendWR wr = SyncWorkRequests.fetchAndAdd(9, 0, 0x7000_0010L, 1);
    int at = image(image, 0, wr);
    AtomicOperands.over(image, at).set(0, 0x7f20_0000_1000L, 7, -1L, 0);
    assertEquals(6, image.getInt(at + OPCODE), "IBV_WR_ATOMIC_FETCH_AND_ADD");
    assertEquals(0, image.getInt(at + SEND_FLAGS), "unsignaled when chained");
    assertEquals(-1L, image.getLong(at + COMPARE_ADD));
    assertEquals(0L, image.getLong(at + SWAP));
    assertEquals(7, image.getInt(at + RKEY));
  }

  @Test
  void shouldShowWhyDiSnisOwnKeySetterCannotBeUsedForAnAtomic() {
    ByteBuffer image = stale(AtomicOperands.WR_BYTES);
    IbvSendWR wr = SyncWorkRequests.compareAndSwap(1, 0, 0x7000_0010L, 1);
    wr.getRdma().setRkey(0xBEEF); // what SVCPostSend.RdmaMod.setRkey would write
    int at = image(image, 0, wr);
    assertEquals(0xBEEF, image.getInt(at + COMPARE_ADD), "DiSNI's rkey lands in compare_add");
    assertEquals(0x5A5A_5A5A, image.getInt(at + RKEY), "and the atomic's rkey stays stale");
  }

  @Test
  void shouldRefuseAMisalignedLocalResultAndAnImageTooSmall() {
    assertThrows(
        IllegalArgumentException.class, () -> SyncWorkRequests.compareAndSwap(1, 0, 0x7004L, 1));
    assertThrows(
        IllegalArgumentException.class,
        () -> AtomicOperands.over(ByteBuffer.allocateDirect(100), 40));
  }
}
