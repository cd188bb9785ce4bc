package dev.pekkodsm.memory.rdma;

import com.ibm.disni.RdmaActiveEndpoint;
import com.ibm.disni.RdmaActiveEndpointGroup;
import com.ibm.disni.verbs.IbvMr;
import com.ibm.disni.verbs.IbvRecvWR;
import com.ibm.disni.verbs.IbvSendWR;
import com.ibm.disni.verbs.IbvSge;
import com.ibm.disni.verbs.IbvWC;
import com.ibm.disni.verbs.RdmaCmEvent;
import com.ibm.disni.verbs.RdmaCmId;
import com.ibm.disni.verbs.SVCPostRecv;
import com.ibm.disni.verbs.SVCPostSend;
import com.ibm.disni.verbs.StatefulVerbCall;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.LinkedList;
import java.util.List;

/**
 * The listener's side of one reader connection. It only answers key requests: the reader's data
 * reads are one-sided and never reach this code.
 *
 * <p>Each of its two receive buffers has its own reply buffer; a receive is posted again only when
 * the reply sent from its buffer has completed, so a reply buffer is never overwritten while the
 * NIC sends it. Completions arrive on DiSNI's completion thread ({@link #dispatchCqEvent}), under a
 * lock that {@link #close()} also takes, so no work request is posted to a destroyed queue pair.
 */
final class ServerConnection extends RdmaActiveEndpoint {

  private static final int SLOTS = 2;

  private final RdmaArenaServer server;
  private final Object io = new Object();
  private boolean closing; // guarded by io
  private final List<StatefulVerbCall<?>> calls = new ArrayList<>();
  private IbvMr mr;
  private ByteBuffer[] requests;
  private ByteBuffer[] replies;
  private SVCPostRecv[] receives;
  private SVCPostSend[] sends;

  ServerConnection(
      RdmaActiveEndpointGroup<ServerConnection> group,
      RdmaCmId id,
      boolean serverSide,
      RdmaArenaServer server)
      throws IOException {
    super(group, id, serverSide);
    this.server = server;
  }

  /** Registers the control buffers (local write only) and posts the receives, before accepting. */
  @Override
  protected synchronized void init() throws IOException {
    super.init();
    int bytes = RdmaWire.MESSAGE_BUFFER_BYTES;
    ByteBuffer memory = ByteBuffer.allocateDirect(2 * SLOTS * bytes).order(ByteOrder.LITTLE_ENDIAN);
    mr = getPd().regMr(memory, IbvMr.IBV_ACCESS_LOCAL_WRITE).execute().free().getMr();
    requests = new ByteBuffer[SLOTS];
    replies = new ByteBuffer[SLOTS];
    receives = new SVCPostRecv[SLOTS];
    sends = new SVCPostSend[SLOTS];
    for (int k = 0; k < SLOTS; k++) {
      int requestAt = k * bytes;
      int replyAt = (SLOTS + k) * bytes;
      requests[k] = memory.slice(requestAt, bytes);
      replies[k] = memory.slice(replyAt, bytes);

      IbvRecvWR recv = new IbvRecvWR();
      recv.setWr_id(RdmaWire.workRequestId(RdmaWire.KIND_RECV, k));
      recv.setSg_list(sgeList(mr.getAddr() + requestAt, bytes, mr.getLkey()));
      receives[k] = track(postRecv(List.of(recv)));

      IbvSendWR send = new IbvSendWR();
      send.setWr_id(RdmaWire.workRequestId(RdmaWire.KIND_SEND, k));
      send.setOpcode(IbvSendWR.IBV_WR_SEND);
      send.setSend_flags(IbvSendWR.IBV_SEND_SIGNALED);
      send.setSg_list(sgeList(mr.getAddr() + replyAt, RdmaWire.REPLY_BYTES, mr.getLkey()));
      sends[k] = track(postSend(List.of(send)));

      receives[k].execute();
    }
  }

  /**
   * Answers a request, or re-arms a receive once the reply from its buffer went out. Runs on
   * DiSNI's completion thread; never throws (DiSNI would print the stack trace and carry on).
   */
  @Override
  public void dispatchCqEvent(IbvWC wc) {
    synchronized (io) {
      if (closing) {
        return;
      }
      if (wc.getStatus() != IbvWC.IbvWcStatus.IBV_WC_SUCCESS.ordinal()) {
        // DiSNI does not fill qp_num for a failed completion, so it may not even be ours; the
        // connection's end arrives as a DISCONNECTED event.
        return;
      }
      long id = wc.getWr_id();
      int k = RdmaWire.indexOf(id);
      if (k >= SLOTS) {
        return;
      }
      try {
        int kind = RdmaWire.kindOf(id);
        if (kind == RdmaWire.KIND_RECV) {
          server.answer(RdmaWire.readRequest(requests[k], wc.getByte_len()), replies[k]);
          sends[k].execute();
        } else if (kind == RdmaWire.KIND_SEND) {
          receives[k].execute();
        }
      } catch (IOException | RuntimeException e) {
        server.connectionLost(this);
      }
    }
  }

  @Override
  public synchronized void dispatchCmEvent(RdmaCmEvent event) throws IOException {
    super.dispatchCmEvent(event);
    if (event.getEvent() == RdmaCmEvent.EventType.RDMA_CM_EVENT_DISCONNECTED.ordinal()) {
      server.connectionLost(this);
    }
  }

  /** Disconnects, destroys the queue pair, then deregisters the control buffers. Idempotent. */
  @Override
  public void close() throws IOException, InterruptedException {
    synchronized (io) {
      if (closing) {
        return;
      }
      closing = true;
    }
    try {
      super.close();
    } finally {
      for (StatefulVerbCall<?> call : calls) {
        call.free();
      }
      calls.clear();
      if (mr != null) {
        mr.deregMr().execute().free();
        mr = null;
      }
    }
  }

  private <T extends StatefulVerbCall<?>> T track(T call) {
    calls.add(call);
    return call;
  }

  private static LinkedList<IbvSge> sgeList(long address, int length, int lkey) {
    IbvSge sge = new IbvSge();
    sge.setAddr(address);
    sge.setLength(length);
    sge.setLkey(lkey);
    LinkedList<IbvSge> list = new LinkedList<>();
    list.add(sge);
    return list;
  }
}
