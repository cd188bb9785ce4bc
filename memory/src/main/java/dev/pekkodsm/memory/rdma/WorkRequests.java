package dev.pekkodsm.memory.rdma;

import com.ibm.disni.verbs.IbvSendWR;
import com.ibm.disni.verbs.IbvSge;
import com.ibm.disni.verbs.IbvWC;
import java.util.LinkedList;

/** Builders of DiSNI's work-request descriptions, before they are prepared as a post-send call. */
final class WorkRequests {

  private WorkRequests() {}

  static IbvSge sge(long address, int length, int lkey) {
    IbvSge sge = new IbvSge();
    sge.setAddr(address);
    sge.setLength(length);
    sge.setLkey(lkey);
    return sge;
  }

  static LinkedList<IbvSge> sgeList(IbvSge sge) {
    LinkedList<IbvSge> list = new LinkedList<>();
    list.add(sge);
    return list;
  }

  static IbvSendWR sendWr(long id, int opcode, int flags, IbvSge sge) {
    IbvSendWR wr = new IbvSendWR();
    wr.setWr_id(id);
    wr.setOpcode(opcode);
    wr.setSend_flags(flags);
    wr.setSg_list(sgeList(sge));
    return wr;
  }

  static int roundUp(int value, int step) {
    return (value + step - 1) / step * step;
  }

  /** The name of a work completion's status. */
  static String statusName(int status) {
    IbvWC.IbvWcStatus[] all = IbvWC.IbvWcStatus.values();
    return status >= 0 && status < all.length ? all[status].name() : "status " + status;
  }
}
