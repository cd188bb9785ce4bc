package dev.pekkodsm.memory.rdma;

import static dev.pekkodsm.memory.rdma.WorkRequests.sendWr;
import static dev.pekkodsm.memory.rdma.WorkRequests.sge;
import static dev.pekkodsm.memory.rdma.WorkRequests.sgeList;

import com.ibm.disni.verbs.IbvRecvWR;
import com.ibm.disni.verbs.IbvSendWR;
import com.ibm.disni.verbs.SVCPostRecv;
import com.ibm.disni.verbs.SVCPostSend;
import dev.pekkodsm.memory.ArenaEndpoint;
import dev.pekkodsm.memory.ReadStatus;
import dev.pekkodsm.memory.SyncLayout;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * The control channel of a {@link ReaderConnection}: asks the peer's listener for the keys of a
 * segment (of its snapshot arena, or of its sync region's cells file or value slots) the first time
 * a reader meets it, over one send buffer and two receive buffers, with at most one request in
 * flight. Completions are delivered by the connection's poller.
 */
final class SegmentKeys {

  static final int CONTROL_RECVS = 2;

  private final ArenaEndpoint peer;
  private final RdmaSettings settings;
  private final CompletionSlot.Poller poller;
  private final AtomicReferenceArray<SegmentKey> keys;
  private final AtomicReferenceArray<SegmentKey> cells = new AtomicReferenceArray<>(1);
  private final AtomicReferenceArray<SegmentKey> values;
  private volatile String syncRefused;
  private final AtomicReference<KeyRequest> inFlight = new AtomicReference<>();
  private final AtomicLong requestIds = new AtomicLong();

  // Set by prepare(), while the connection is set up; published by the connection's establishment.
  private SVCPostSend controlSend;
  private ByteBuffer controlSendBuffer;
  private SVCPostRecv[] controlRecvs;
  private ByteBuffer[] controlRecvBuffers;

  SegmentKeys(ArenaEndpoint peer, RdmaSettings settings, CompletionSlot.Poller poller) {
    this.peer = peer;
    this.settings = settings;
    this.poller = poller;
    this.keys = new AtomicReferenceArray<>(peer.maxSegments());
    this.values = new AtomicReferenceArray<>(peer.maxSegments()); // a sibling of the arena
  }

  /** The bytes of local memory the control channel uses. */
  static int memoryBytes() {
    return (1 + CONTROL_RECVS) * RdmaWire.MESSAGE_BUFFER_BYTES;
  }

  /**
   * Prepares the control send and posts the receives into {@code memory} from {@code at} on,
   * registered at {@code base} with {@code lkey}; before the connection is established, so that a
   * reply always finds a receive.
   */
  void prepare(
      ByteBuffer memory,
      int at,
      long base,
      int lkey,
      WorkBuffer.Preparer sends,
      ReceivePreparer receives)
      throws IOException {
    controlSendBuffer = memory.slice(at, RdmaWire.MESSAGE_BUFFER_BYTES);
    controlSend =
        sends.prepare(
            List.of(
                sendWr(
                    RdmaWire.workRequestId(RdmaWire.KIND_SEND, 0),
                    IbvSendWR.IBV_WR_SEND,
                    IbvSendWR.IBV_SEND_SIGNALED,
                    sge(base + at, RdmaWire.REQUEST_BYTES, lkey))));
    controlRecvs = new SVCPostRecv[CONTROL_RECVS];
    controlRecvBuffers = new ByteBuffer[CONTROL_RECVS];
    for (int k = 0; k < CONTROL_RECVS; k++) {
      int recvAt = at + (1 + k) * RdmaWire.MESSAGE_BUFFER_BYTES;
      controlRecvBuffers[k] = memory.slice(recvAt, RdmaWire.MESSAGE_BUFFER_BYTES);
      IbvRecvWR recv = new IbvRecvWR();
      recv.setWr_id(RdmaWire.workRequestId(RdmaWire.KIND_RECV, k));
      recv.setSg_list(sgeList(sge(base + recvAt, RdmaWire.MESSAGE_BUFFER_BYTES, lkey)));
      controlRecvs[k] = receives.prepare(List.of(recv));
      controlRecvs[k].execute();
    }
  }

  /** How the connection prepares a receive as a reusable post-receive call. */
  @FunctionalInterface
  interface ReceivePreparer {
    SVCPostRecv prepare(List<IbvRecvWR> receives) throws IOException;
  }

  /** The keys of {@code segment} of the snapshot arena, or null if not known yet. */
  SegmentKey get(int segment) {
    return keys.get(segment);
  }

  /** The keys of {@code segment} of {@code region}, or null if not known yet. */
  SegmentKey get(int region, int segment) {
    AtomicReferenceArray<SegmentKey> table = table(region);
    return segment >= 0 && segment < table.length() ? table.get(segment) : null;
  }

  /** How many segments the peer's arena (and so its value slots) may have. */
  int maxSegments() {
    return keys.length();
  }

  /** How many segments {@code region} may have. */
  int maxSegments(int region) {
    return table(region).length();
  }

  /**
   * Why the peer's listener does not offer its sync region over RDMA, once it has said so; null
   * otherwise. Sync operations then go elsewhere (at the home), and reads go on.
   */
  String syncRefused() {
    return syncRefused;
  }

  private AtomicReferenceArray<SegmentKey> table(int region) {
    return switch (region) {
      case RdmaWire.REGION_CELLS -> cells;
      case RdmaWire.REGION_VALUES -> values;
      default -> keys;
    };
  }

  /**
   * Makes sure the keys of {@code segment} are known, asking the listener if they are not.
   *
   * @return {@link ReadStatus#OK} once they are; {@link ReadStatus#OUT_OF_RANGE} if the arena has
   *     no such segment; {@link ReadStatus#TIMED_OUT} or {@link ReadStatus#UNAVAILABLE} (see the
   *     connection's failure) otherwise
   */
  ReadStatus fetch(int segment, long deadlineNs) {
    return fetch(RdmaWire.REGION_ARENA, segment, deadlineNs);
  }

  /**
   * As {@link #fetch(int, long)}, for a segment of {@code region}. For the sync region's, {@link
   * ReadStatus#UNAVAILABLE} without a broken connection means the listener does not offer it
   * ({@link #syncRefused()}).
   */
  ReadStatus fetch(int region, int segment, long deadlineNs) {
    AtomicReferenceArray<SegmentKey> table = table(region);
    if (segment < 0 || segment >= table.length()) {
      return ReadStatus.OUT_OF_RANGE;
    }
    boolean sync = region != RdmaWire.REGION_ARENA;
    KeyRequest mine = null;
    for (int spins = 0; ; spins++) {
      if (table.get(segment) != null) {
        return ReadStatus.OK;
      }
      if (poller.failure() != null || (sync && syncRefused != null)) {
        return ReadStatus.UNAVAILABLE;
      }
      if (mine != null && mine.replied) {
        if (sync && mine.status != RdmaWire.KEY_OK && mine.status != RdmaWire.KEY_ABSENT) {
          syncRefused =
              mine.status == RdmaWire.KEY_NO_SYNC
                  ? "the peer does not offer its sync region over RDMA"
                  : "the peer's listener cannot describe its sync region (" + mine + ")";
          return ReadStatus.UNAVAILABLE;
        }
        switch (mine.status) {
          case RdmaWire.KEY_ABSENT:
            return ReadStatus.OUT_OF_RANGE;
          case RdmaWire.KEY_REFUSED:
            poller.markBroken(
                "the listener serves another arena (token or node differs): the peer has"
                    + " restarted or its address is stale");
            return ReadStatus.UNAVAILABLE;
          default:
            poller.markBroken("the listener could not describe segment " + segment + ": " + mine);
            return ReadStatus.UNAVAILABLE;
        }
      }
      KeyRequest current = inFlight.get();
      if (current == null) {
        KeyRequest request = new KeyRequest(region, segment, requestIds.incrementAndGet());
        if (inFlight.compareAndSet(null, request)) {
          if (!send(request)) {
            return ReadStatus.UNAVAILABLE;
          }
          current = request;
        } else {
          continue;
        }
      }
      if (current.region == region && current.segment == segment) {
        mine = current;
      }
      long now = System.nanoTime();
      if (now - current.sentNs > settings.requestTimeout().toNanos()) {
        poller.markBroken(
            "the listener did not answer a key request within requestTimeout="
                + settings.requestTimeout());
        return ReadStatus.UNAVAILABLE;
      }
      if (now - deadlineNs >= 0) {
        return ReadStatus.TIMED_OUT;
      }
      poller.progress(spins);
    }
  }

  private boolean send(KeyRequest request) {
    RdmaWire.writeRequest(
        controlSendBuffer,
        request.id,
        peer.tokenHi(),
        peer.tokenLo(),
        peer.node(),
        request.segment,
        request.region);
    try {
      controlSend.execute();
      return true;
    } catch (IOException | RuntimeException e) {
      poller.markBroken("cannot send a key request: " + e.getMessage());
      return false;
    }
  }

  /** The control send completed. Runs under the poll lock. */
  void sendCompleted() {
    KeyRequest request = inFlight.get();
    if (request != null) {
      request.sendCompleted = true;
      finish(request);
    }
  }

  /** A reply arrived in receive buffer {@code k}. Runs under the poll lock. */
  void replied(int k, int length) {
    if (k >= CONTROL_RECVS) {
      return;
    }
    RdmaWire.Reply reply = RdmaWire.readReply(controlRecvBuffers[k], length);
    try {
      controlRecvs[k].execute(); // the buffer's content is decoded: receive into it again
    } catch (IOException | RuntimeException e) {
      poller.markBroken("cannot post a receive: " + e.getMessage());
    }
    KeyRequest request = inFlight.get();
    if (reply == null) {
      poller.markBroken("the listener sent a malformed control message");
      return;
    }
    if (request == null || reply.requestId() != request.id) {
      return; // an answer nobody waits for any more
    }
    if (reply.status() == RdmaWire.KEY_OK) {
      boolean cellsFile = request.region == RdmaWire.REGION_CELLS;
      boolean plausible =
          cellsFile
              ? reply.length() >= SyncLayout.fileBytes(1)
              : reply.length() == peer.segmentBytes();
      if (reply.segment() != request.segment
          || reply.region() != request.region
          || !plausible
          || reply.address() == 0) {
        poller.markBroken(
            "the listener described segment "
                + reply.segment()
                + " of region "
                + reply.region()
                + " of "
                + reply.length()
                + " bytes, expected segment "
                + request.segment
                + " of region "
                + request.region
                + (cellsFile ? "" : " of " + peer.segmentBytes()));
      } else {
        table(request.region)
            .compareAndSet(
                request.segment,
                null,
                new SegmentKey(request.segment, reply.address(), reply.rkey(), reply.length()));
      }
    }
    request.status = reply.status();
    request.replied = true;
    finish(request);
  }

  /** Frees the control channel once the request's send has completed and its reply arrived. */
  private void finish(KeyRequest request) {
    if (request.replied && request.sendCompleted) {
      inFlight.compareAndSet(request, null);
    }
  }

  /** One outstanding request for a segment's keys; at most one is in flight per connection. */
  private static final class KeyRequest {
    final int region;
    final int segment;
    final long id;
    final long sentNs = System.nanoTime();
    volatile boolean sendCompleted;
    volatile boolean replied;
    volatile int status;

    KeyRequest(int region, int segment, long id) {
      this.region = region;
      this.segment = segment;
      this.id = id;
    }

    @Override
    public String toString() {
      return "request "
          + id
          + " for segment "
          + segment
          + " of region "
          + region
          + ", status "
          + status;
    }
  }
}
