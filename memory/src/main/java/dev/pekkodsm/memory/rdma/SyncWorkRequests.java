package dev.pekkodsm.memory.rdma;

import static dev.pekkodsm.memory.rdma.WorkRequests.sge;
import static dev.pekkodsm.memory.rdma.WorkRequests.sgeList;

import com.ibm.disni.verbs.IbvSendWR;

/**
 * The work requests of the RDMA atomics: an 8-byte local buffer receives the remote word as it was
 * before the operation. Their remote word and operands are written per operation by {@link
 * AtomicOperands}; the values set here on DiSNI's {@code atomic} description are not carried by
 * DiSNI into the native request and are zero.
 */
final class SyncWorkRequests {

  /** The size of the word an RDMA atomic operates on, and of its local result. */
  static final int ATOMIC_BYTES = 8;

  private SyncWorkRequests() {}

  static IbvSendWR compareAndSwap(long id, int flags, long resultAddress, int lkey) {
    return atomic(id, IbvSendWR.IBV_WR_ATOMIC_CMP_AND_SWP, flags, resultAddress, lkey);
  }

  static IbvSendWR fetchAndAdd(long id, int flags, long resultAddress, int lkey) {
    return atomic(id, IbvSendWR.IBV_WR_ATOMIC_FETCH_AND_ADD, flags, resultAddress, lkey);
  }

  private static IbvSendWR atomic(long id, int opcode, int flags, long resultAddress, int lkey) {
    if (resultAddress % ATOMIC_BYTES != 0) {
      throw new IllegalArgumentException(
          "an atomic's local result must be 8-byte aligned, not at " + resultAddress);
    }
    IbvSendWR wr = new IbvSendWR();
    wr.setWr_id(id);
    wr.setOpcode(opcode);
    wr.setSend_flags(flags);
    wr.setSg_list(sgeList(sge(resultAddress, ATOMIC_BYTES, lkey)));
    return wr;
  }
}
