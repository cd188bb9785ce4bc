package dev.pekkodsm.memory.rdma;

import com.ibm.disni.RdmaEndpoint;
import com.ibm.disni.RdmaEndpointGroup;
import com.ibm.disni.verbs.IbvCQ;
import com.ibm.disni.verbs.IbvCompChannel;
import com.ibm.disni.verbs.IbvMr;
import com.ibm.disni.verbs.IbvRecvWR;
import com.ibm.disni.verbs.IbvSendWR;
import com.ibm.disni.verbs.IbvSge;
import com.ibm.disni.verbs.IbvWC;
import com.ibm.disni.verbs.RdmaCmEvent;
import com.ibm.disni.verbs.RdmaCmId;
import com.ibm.disni.verbs.SVCPollCq;
import com.ibm.disni.verbs.SVCPostRecv;
import com.ibm.disni.verbs.SVCPostSend;
import com.ibm.disni.verbs.StatefulVerbCall;
import dev.pekkodsm.memory.ArenaEndpoint;
import dev.pekkodsm.memory.ReadBuffer;
import dev.pekkodsm.memory.ReadStatus;
import dev.pekkodsm.memory.SlotLayout;
import dev.pekkodsm.serialization.internal.SnapshotCodec;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.LinkedList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;

/**
 * One reader's RDMA connection to a peer's {@link RdmaArenaServer}: a reliable-connected queue pair
 * with its own completion queue, polled by the reading threads themselves (no completion thread).
 *
 * <p>Local memory is one direct buffer registered for local write only (the peer gets no access to
 * it): {@code queueDepth} read buffers, one control send buffer and two control receive buffers. A
 * reading thread takes a free read buffer, posts its RDMA reads, and waits for their completion;
 * whichever waiting thread gets the poll lock polls the completion queue for everyone (completions
 * are routed by work request id). A read that passes its deadline abandons its buffer, which goes
 * back to the pool only once its reads have completed, so the NIC never writes into a buffer
 * another read owns.
 *
 * <p>Thread-safe. The connection is closed once: {@link #close()} marks it closed, waits for the
 * threads inside it to leave (they notice within one poll), and only then destroys the queue pair,
 * the completion queue and the memory registration, so that no thread ever calls DiSNI on a
 * destroyed resource.
 */
final class ReaderConnection extends RdmaEndpoint {

  // Read buffer states. Owned: IDLE, POSTED, DONE, FAILED, ABANDONED, LANDED.
  private static final int FREE = 0;
  private static final int IDLE = 1;
  private static final int POSTED = 2;
  private static final int DONE = 3;
  private static final int FAILED = 4;
  private static final int ABANDONED = 5; // owner stopped waiting, reads outstanding
  private static final int LANDED = 6; // abandoned, reads completed, owner not yet released
  private static final int ORPHANED = 7; // owner released, reads outstanding

  private static final int CONTROL_RECVS = 2;
  private static final int SPINS_BEFORE_YIELD = 256;
  private static final int POLL_BATCH = 16;

  private final RdmaSettings settings;
  private final SnapshotCodec codec;
  private final int maxFrameBytes;
  private final CompletableFuture<Void> established = new CompletableFuture<>();
  private final AtomicInteger users = new AtomicInteger();
  private final AtomicBoolean closing = new AtomicBoolean();
  private final ReentrantLock pollLock = new ReentrantLock();
  private final AtomicReference<KeyRequest> inFlight = new AtomicReference<>();
  private final AtomicLong requestIds = new AtomicLong();
  private volatile boolean closed;
  private volatile String failure;

  // Set by configure() before connecting.
  private ArenaEndpoint peer;
  private AtomicReferenceArray<SegmentKey> keys;

  // Set by init(), which DiSNI calls while connecting; published to readers by the connection's
  // establishment (they only use them after open() returned).
  private ByteBuffer memory;
  private IbvMr mr;
  private Slot[] slots;
  private ArrayBlockingQueue<Slot> free;
  private IbvWC[] completions;
  private SVCPollCq pollCall;
  private SVCPostSend controlSend;
  private ByteBuffer controlSendBuffer;
  private SVCPostRecv[] controlRecvs;
  private ByteBuffer[] controlRecvBuffers;
  private final List<StatefulVerbCall<?>> calls = new ArrayList<>();

  ReaderConnection(
      RdmaEndpointGroup<ReaderConnection> group,
      RdmaCmId id,
      boolean serverSide,
      RdmaSettings settings,
      SnapshotCodec codec,
      int maxFrameBytes)
      throws IOException {
    super(group, id, serverSide);
    this.settings = settings;
    this.codec = codec;
    this.maxFrameBytes = maxFrameBytes;
  }

  /** Names the arena this connection reads. Called once, before {@link #establish}. */
  void configure(ArenaEndpoint arena) {
    this.peer = arena;
    this.keys = new AtomicReferenceArray<>(arena.maxSegments());
  }

  /** The peer's arena. */
  ArenaEndpoint peer() {
    return peer;
  }

  /** Why the connection is unusable, or null if it is usable. */
  String failure() {
    return closed ? "the reader was closed" : failure;
  }

  /**
   * Connects, giving up at {@code deadlineNs}. DiSNI's {@code connect} waits without a timeout for
   * connection-manager events and ignores the failure events, so it runs on a helper thread that is
   * interrupted when the deadline passes or a failure event arrives.
   *
   * @throws IOException if the peer cannot be reached in time, with the reason
   */
  void establish(InetSocketAddress address, long deadlineNs) throws IOException {
    long remainingNs = deadlineNs - System.nanoTime();
    int timeoutMs = (int) Math.max(1, Math.min(Integer.MAX_VALUE, remainingNs / 1_000_000L));
    Thread connector =
        new Thread(
            () -> {
              try {
                connect(address, timeoutMs);
                established.complete(null);
              } catch (Throwable t) { // InterruptedException when abandoned; DiSNI throws Exception
                established.completeExceptionally(t);
              }
            },
            "pekko-dsm-rdma-connect-" + address);
    connector.setDaemon(true);
    connector.start();
    try {
      established.get(Math.max(0, remainingNs), TimeUnit.NANOSECONDS);
    } catch (TimeoutException e) {
      connector.interrupt();
      throw new IOException(
          "no RDMA connection to "
              + address
              + " within connectTimeout="
              + settings.connectTimeout()
              + " (is a listener running there, and is the address on an RDMA interface?)");
    } catch (ExecutionException e) {
      connector.interrupt();
      Throwable cause = e.getCause();
      throw new IOException(
          "cannot connect to " + address + ": " + cause.getMessage(),
          cause instanceof IOException ? cause : e);
    } catch (InterruptedException e) {
      connector.interrupt();
      Thread.currentThread().interrupt();
      throw new IOException("interrupted while connecting to " + address, e);
    }
  }

  /** Sets up local memory, the read buffers and their work requests, and the control receives. */
  @Override
  protected synchronized void init() throws IOException {
    super.init();
    int depth = settings.queueDepth();
    int slotBytes = roundUp(RemoteSlotRead.SLOT_OVERHEAD_BYTES + settings.readBufferBytes(), 64);
    int controlAt = depth * slotBytes;
    int size = controlAt + (1 + CONTROL_RECVS) * RdmaWire.MESSAGE_BUFFER_BYTES;
    memory = ByteBuffer.allocateDirect(size).order(ByteOrder.LITTLE_ENDIAN);
    // Local write only: the NIC writes read data and received messages here; the peer gets no
    // access to this memory.
    mr = getPd().regMr(memory, IbvMr.IBV_ACCESS_LOCAL_WRITE).execute().free().getMr();
    long base = mr.getAddr();
    int lkey = mr.getLkey();

    slots = new Slot[depth];
    free = new ArrayBlockingQueue<>(depth);
    for (int i = 0; i < depth; i++) {
      slots[i] = new Slot(i, memory.slice(i * slotBytes, slotBytes), base + (long) i * slotBytes);
      slots[i].prepare(lkey);
      free.add(slots[i]);
    }

    completions = new IbvWC[POLL_BATCH];
    for (int i = 0; i < completions.length; i++) {
      completions[i] = new IbvWC();
    }
    pollCall = track(getCqProvider().getCQ().poll(completions, completions.length));

    controlSendBuffer = memory.slice(controlAt, RdmaWire.MESSAGE_BUFFER_BYTES);
    controlSend =
        track(
            postSend(
                List.of(
                    sendWr(
                        RdmaWire.workRequestId(RdmaWire.KIND_SEND, 0),
                        IbvSendWR.IBV_WR_SEND,
                        IbvSendWR.IBV_SEND_SIGNALED,
                        sge(base + controlAt, RdmaWire.REQUEST_BYTES, lkey)))));
    controlRecvs = new SVCPostRecv[CONTROL_RECVS];
    controlRecvBuffers = new ByteBuffer[CONTROL_RECVS];
    for (int k = 0; k < CONTROL_RECVS; k++) {
      int at = controlAt + (1 + k) * RdmaWire.MESSAGE_BUFFER_BYTES;
      controlRecvBuffers[k] = memory.slice(at, RdmaWire.MESSAGE_BUFFER_BYTES);
      IbvRecvWR recv = new IbvRecvWR();
      recv.setWr_id(RdmaWire.workRequestId(RdmaWire.KIND_RECV, k));
      recv.setSg_list(sgeList(sge(base + at, RdmaWire.MESSAGE_BUFFER_BYTES, lkey)));
      controlRecvs[k] = track(postRecv(List.of(recv)));
      // Posted before the connection is established, so a reply always finds a receive.
      controlRecvs[k].execute();
    }
  }

  /** Notices failures and the peer going away, which DiSNI's own handler ignores. */
  @Override
  public synchronized void dispatchCmEvent(RdmaCmEvent event) throws IOException {
    super.dispatchCmEvent(event);
    int type = event.getEvent();
    RdmaCmEvent.EventType[] types = RdmaCmEvent.EventType.values();
    String name = type >= 0 && type < types.length ? types[type].name() : "event " + type;
    if (type == RdmaCmEvent.EventType.RDMA_CM_EVENT_DISCONNECTED.ordinal()) {
      markBroken("the peer disconnected (" + name + ")");
    } else if (type == RdmaCmEvent.EventType.RDMA_CM_EVENT_ADDR_ERROR.ordinal()
        || type == RdmaCmEvent.EventType.RDMA_CM_EVENT_ROUTE_ERROR.ordinal()
        || type == RdmaCmEvent.EventType.RDMA_CM_EVENT_CONNECT_ERROR.ordinal()
        || type == RdmaCmEvent.EventType.RDMA_CM_EVENT_UNREACHABLE.ordinal()
        || type == RdmaCmEvent.EventType.RDMA_CM_EVENT_REJECTED.ordinal()
        || type == RdmaCmEvent.EventType.RDMA_CM_EVENT_DEVICE_REMOVAL.ordinal()) {
      established.completeExceptionally(new IOException(name));
      markBroken(name);
    }
  }

  /**
   * Reads the slot at {@code locator}. The hot path: no allocation unless a segment's keys must be
   * fetched, no exception for an expected outcome.
   */
  ReadStatus read(long locator, long object, int color, ReadBuffer out, long deadlineNs) {
    if (!enter()) {
      return ReadStatus.UNAVAILABLE;
    }
    try {
      if (failure != null) {
        return ReadStatus.UNAVAILABLE;
      }
      int segment = SlotLayout.segment(locator);
      if (segment >= keys.length()) {
        return ReadStatus.OUT_OF_RANGE;
      }
      SegmentKey key = keys.get(segment);
      if (key == null) {
        ReadStatus status = fetchKey(segment, deadlineNs);
        if (status != ReadStatus.OK) {
          return status;
        }
        key = keys.get(segment);
      }
      long offset = SlotLayout.offset(locator);
      if (!RemoteSlotRead.inRange(offset, key.length())) {
        return ReadStatus.OUT_OF_RANGE;
      }
      Slot slot = acquire(deadlineNs);
      if (slot == null) {
        return failure() != null ? ReadStatus.UNAVAILABLE : ReadStatus.TIMED_OUT;
      }
      try {
        return RemoteSlotRead.read(
            slot,
            key,
            offset,
            codec,
            peer.node(),
            object,
            color,
            maxFrameBytes,
            settings.firstReadBytes(),
            out,
            deadlineNs);
      } finally {
        slot.release();
      }
    } finally {
      exit();
    }
  }

  /**
   * Makes sure the keys of {@code segment} are known, asking the listener if they are not.
   *
   * @return {@link ReadStatus#OK} once they are; {@link ReadStatus#OUT_OF_RANGE} if the arena has
   *     no such segment; {@link ReadStatus#TIMED_OUT} or {@link ReadStatus#UNAVAILABLE} (see {@link
   *     #failure()}) otherwise
   */
  ReadStatus fetchKey(int segment, long deadlineNs) {
    if (!enter()) {
      return ReadStatus.UNAVAILABLE;
    }
    try {
      KeyRequest mine = null;
      for (int spins = 0; ; spins++) {
        if (keys.get(segment) != null) {
          return ReadStatus.OK;
        }
        if (failure != null) {
          return ReadStatus.UNAVAILABLE;
        }
        if (mine != null && mine.replied) {
          switch (mine.status) {
            case RdmaWire.KEY_ABSENT:
              return ReadStatus.OUT_OF_RANGE;
            case RdmaWire.KEY_REFUSED:
              markBroken(
                  "the listener serves another arena (token or node differs): the peer has"
                      + " restarted or its address is stale");
              return ReadStatus.UNAVAILABLE;
            default:
              markBroken("the listener could not describe segment " + segment + ": " + mine);
              return ReadStatus.UNAVAILABLE;
          }
        }
        KeyRequest current = inFlight.get();
        if (current == null) {
          KeyRequest request = new KeyRequest(segment, requestIds.incrementAndGet());
          if (inFlight.compareAndSet(null, request)) {
            if (!send(request)) {
              return ReadStatus.UNAVAILABLE;
            }
            current = request;
          } else {
            continue;
          }
        }
        if (current.segment == segment) {
          mine = current;
        }
        long now = System.nanoTime();
        if (now - current.sentNs > settings.requestTimeout().toNanos()) {
          markBroken(
              "the listener did not answer a key request within requestTimeout="
                  + settings.requestTimeout());
          return ReadStatus.UNAVAILABLE;
        }
        if (now - deadlineNs >= 0) {
          return ReadStatus.TIMED_OUT;
        }
        progress(spins);
      }
    } finally {
      exit();
    }
  }

  private boolean send(KeyRequest request) {
    RdmaWire.writeRequest(
        controlSendBuffer,
        request.id,
        peer.tokenHi(),
        peer.tokenLo(),
        peer.node(),
        request.segment);
    try {
      controlSend.execute();
      return true;
    } catch (IOException | RuntimeException e) {
      markBroken("cannot send a key request: " + e.getMessage());
      return false;
    }
  }

  private Slot acquire(long deadlineNs) {
    for (int spins = 0; ; spins++) {
      Slot slot = free.poll();
      if (slot != null) {
        slot.state.set(IDLE);
        return slot;
      }
      if (failure() != null || System.nanoTime() - deadlineNs >= 0) {
        return null;
      }
      progress(spins);
    }
  }

  /** Polls the completion queue if no other thread does, then backs off a little. */
  private void progress(int spins) {
    poll();
    if (spins < SPINS_BEFORE_YIELD) {
      Thread.onSpinWait();
    } else {
      Thread.yield();
    }
  }

  private void poll() {
    if (!pollLock.tryLock()) {
      return;
    }
    try {
      if (closed) {
        return;
      }
      int polled = pollCall.execute().getPolls();
      for (int i = 0; i < polled; i++) {
        dispatch(completions[i]);
      }
    } catch (IOException | RuntimeException e) {
      markBroken("polling the completion queue failed: " + e.getMessage());
    } finally {
      pollLock.unlock();
    }
  }

  /** Routes one completion by its work request id. Runs under the poll lock. */
  private void dispatch(IbvWC wc) {
    long id = wc.getWr_id();
    boolean ok = wc.getStatus() == IbvWC.IbvWcStatus.IBV_WC_SUCCESS.ordinal();
    if (!ok) {
      // Only wr_id and status are valid in a failed completion; the queue pair is now in error.
      markBroken("an RDMA work request failed: " + statusName(wc.getStatus()));
    }
    int index = RdmaWire.indexOf(id);
    switch (RdmaWire.kindOf(id)) {
      case (int) RdmaWire.KIND_READ -> {
        if (index < slots.length) {
          slots[index].completed(ok);
        }
      }
      case (int) RdmaWire.KIND_SEND -> {
        KeyRequest request = inFlight.get();
        if (request != null) {
          request.sendCompleted = true;
          finish(request);
        }
      }
      case (int) RdmaWire.KIND_RECV -> {
        if (ok && index < CONTROL_RECVS) {
          onReply(index, wc.getByte_len());
        }
      }
      default -> markBroken("a completion with an unknown work request id " + id);
    }
  }

  private void onReply(int k, int length) {
    RdmaWire.Reply reply = RdmaWire.readReply(controlRecvBuffers[k], length);
    try {
      controlRecvs[k].execute(); // the buffer's content is decoded: receive into it again
    } catch (IOException | RuntimeException e) {
      markBroken("cannot post a receive: " + e.getMessage());
    }
    KeyRequest request = inFlight.get();
    if (reply == null) {
      markBroken("the listener sent a malformed control message");
      return;
    }
    if (request == null || reply.requestId() != request.id) {
      return; // an answer nobody waits for any more
    }
    if (reply.status() == RdmaWire.KEY_OK) {
      if (reply.segment() != request.segment
          || reply.length() != peer.segmentBytes()
          || reply.address() == 0) {
        markBroken(
            "the listener described segment "
                + reply.segment()
                + " of "
                + reply.length()
                + " bytes, expected segment "
                + request.segment
                + " of "
                + peer.segmentBytes());
      } else {
        keys.compareAndSet(
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

  private boolean enter() {
    users.incrementAndGet();
    if (closed) {
      users.decrementAndGet();
      return false;
    }
    return true;
  }

  private void exit() {
    users.decrementAndGet();
  }

  void markBroken(String reason) {
    if (failure == null) {
      failure = reason;
    }
  }

  /**
   * Closes the connection and frees its resources; idempotent. Waits for the threads reading
   * through it to leave first.
   */
  @Override
  public void close() throws IOException, InterruptedException {
    if (!closing.compareAndSet(false, true)) {
      return;
    }
    closed = true;
    long giveUpNs = System.nanoTime() + settings.requestTimeout().toNanos() + 1_000_000_000L;
    while (users.get() > 0 && System.nanoTime() - giveUpNs < 0) {
      LockSupport.parkNanos(100_000);
    }
    try {
      super.close();
    } finally {
      releaseResources();
    }
  }

  /** Destroys the completion queue, then deregisters memory; after the queue pair is gone. */
  private void releaseResources() {
    if (users.get() > 0) {
      return; // a reader is stuck inside DiSNI: leak rather than free what it may still use
    }
    if (getCqProvider() != null) {
      IbvCQ cq = getCqProvider().getCQ();
      IbvCompChannel channel = cq.getChannel();
      try {
        cq.destroyCQ(); // before its completion channel, which cannot go while a CQ uses it
        channel.destroyCompChannel();
      } catch (IOException | RuntimeException e) {
        markBroken("cannot destroy the completion queue: " + e.getMessage());
      }
    }
    for (StatefulVerbCall<?> call : calls) {
      call.free();
    }
    calls.clear();
    if (mr != null) {
      try {
        mr.deregMr().execute().free();
      } catch (IOException | RuntimeException e) {
        markBroken("cannot deregister the read buffers: " + e.getMessage());
      }
      mr = null;
    }
  }

  private <T extends StatefulVerbCall<?>> T track(T call) {
    calls.add(call);
    return call;
  }

  private static IbvSge sge(long address, int length, int lkey) {
    IbvSge sge = new IbvSge();
    sge.setAddr(address);
    sge.setLength(length);
    sge.setLkey(lkey);
    return sge;
  }

  private static LinkedList<IbvSge> sgeList(IbvSge sge) {
    LinkedList<IbvSge> list = new LinkedList<>();
    list.add(sge);
    return list;
  }

  private static IbvSendWR sendWr(long id, int opcode, int flags, IbvSge sge) {
    IbvSendWR wr = new IbvSendWR();
    wr.setWr_id(id);
    wr.setOpcode(opcode);
    wr.setSend_flags(flags);
    wr.setSg_list(sgeList(sge));
    return wr;
  }

  private static int roundUp(int value, int step) {
    return (value + step - 1) / step * step;
  }

  private static String statusName(int status) {
    IbvWC.IbvWcStatus[] all = IbvWC.IbvWcStatus.values();
    return status >= 0 && status < all.length ? all[status].name() : "status " + status;
  }

  /** One outstanding request for a segment's keys; at most one is in flight per connection. */
  private static final class KeyRequest {
    final int segment;
    final long id;
    final long sentNs = System.nanoTime();
    volatile boolean sendCompleted;
    volatile boolean replied;
    volatile int status;

    KeyRequest(int segment, long id) {
      this.segment = segment;
      this.id = id;
    }

    @Override
    public String toString() {
      return "request " + id + " for segment " + segment + ", status " + status;
    }
  }

  /**
   * One read buffer and the three prepared work-request chains that fill it. Owned by one reading
   * thread between {@link #acquire} and {@link #release}; its state is shared with the poller.
   */
  private final class Slot implements ReadChannel {
    final int index;
    final ByteBuffer local;
    final long address;
    final AtomicInteger state = new AtomicInteger(FREE);
    private SVCPostSend first;
    private SVCPostSend chunk;
    private SVCPostSend tail;

    Slot(int index, ByteBuffer local, long address) {
      this.index = index;
      this.local = local.order(ByteOrder.LITTLE_ENDIAN);
      this.address = address;
    }

    /**
     * Builds the chains once; a read only rewrites remote addresses, keys and lengths in them. All
     * work requests of a chain carry this slot's id; only the last is signaled (a failed one
     * completes anyway, and the queue pair then fails the rest).
     */
    void prepare(int lkey) throws IOException {
      long id = RdmaWire.workRequestId(RdmaWire.KIND_READ, index);
      int read = IbvSendWR.IBV_WR_RDMA_READ;
      int fence = IbvSendWR.IBV_SEND_FENCE;
      int signaled = IbvSendWR.IBV_SEND_SIGNALED;
      long data = address + RemoteSlotRead.DATA;
      long before = address + RemoteSlotRead.SEQ_BEFORE;
      long after = address + RemoteSlotRead.SEQ_AFTER;
      int dataBytes = dataBytes();
      first =
          track(
              postSend(
                  List.of(
                      sendWr(id, read, 0, sge(before, 8, lkey)),
                      sendWr(id, read, fence, sge(data, dataBytes, lkey)),
                      sendWr(id, read, fence | signaled, sge(after, 8, lkey)))));
      chunk = track(postSend(List.of(sendWr(id, read, signaled, sge(data, dataBytes, lkey)))));
      tail =
          track(
              postSend(
                  List.of(
                      sendWr(id, read, 0, sge(data, dataBytes, lkey)),
                      sendWr(id, read, fence | signaled, sge(after, 8, lkey)))));
    }

    @Override
    public ByteBuffer local() {
      return local;
    }

    @Override
    public int dataBytes() {
      return local.capacity() - RemoteSlotRead.DATA;
    }

    @Override
    public ReadStatus readFirst(SegmentKey key, long slotOffset, int bodyBytes, long deadlineNs) {
      long remote = key.address() + slotOffset;
      try {
        target(first, 0, remote, key.rkey());
        target(first, 1, remote + RemoteSlotRead.BODY_OFFSET, key.rkey());
        first.getWrMod(1).getSgeMod(0).setLength(bodyBytes);
        target(first, 2, remote, key.rkey());
      } catch (IOException e) {
        markBroken("cannot prepare an RDMA read: " + e.getMessage());
        return ReadStatus.UNAVAILABLE;
      }
      return post(first, deadlineNs);
    }

    @Override
    public ReadStatus readMore(
        SegmentKey key,
        long offset,
        int bytes,
        boolean thenSequence,
        long slotOffset,
        long deadlineNs) {
      SVCPostSend call = thenSequence ? tail : chunk;
      try {
        target(call, 0, key.address() + offset, key.rkey());
        call.getWrMod(0).getSgeMod(0).setLength(bytes);
        if (thenSequence) {
          target(call, 1, key.address() + slotOffset, key.rkey());
        }
      } catch (IOException e) {
        markBroken("cannot prepare an RDMA read: " + e.getMessage());
        return ReadStatus.UNAVAILABLE;
      }
      return post(call, deadlineNs);
    }

    private void target(SVCPostSend call, int wr, long remoteAddress, int rkey) throws IOException {
      SVCPostSend.RdmaMod rdma = call.getWrMod(wr).getRdmaMod();
      rdma.setRemote_addr(remoteAddress);
      rdma.setRkey(rkey);
    }

    private ReadStatus post(SVCPostSend call, long deadlineNs) {
      if (failure() != null) {
        return ReadStatus.UNAVAILABLE;
      }
      state.set(POSTED);
      try {
        call.execute();
      } catch (IOException | RuntimeException e) {
        state.set(IDLE); // nothing was posted
        markBroken("cannot post an RDMA read: " + e.getMessage());
        return ReadStatus.UNAVAILABLE;
      }
      return await(deadlineNs);
    }

    private ReadStatus await(long deadlineNs) {
      for (int spins = 0; ; spins++) {
        int s = state.get();
        if (s == DONE) {
          state.set(IDLE);
          return ReadStatus.OK;
        }
        if (s == FAILED) {
          state.set(IDLE);
          return ReadStatus.UNAVAILABLE;
        }
        boolean lost = failure() != null;
        if (lost || System.nanoTime() - deadlineNs >= 0) {
          if (state.compareAndSet(POSTED, ABANDONED)) {
            return lost ? ReadStatus.UNAVAILABLE : ReadStatus.TIMED_OUT;
          }
          continue; // completed meanwhile
        }
        progress(spins);
      }
    }

    /** The poller's side: this slot's signaled read completed (or any of its reads failed). */
    void completed(boolean ok) {
      while (true) {
        int s = state.get();
        if (s == POSTED) {
          if (state.compareAndSet(POSTED, ok ? DONE : FAILED)) {
            return;
          }
        } else if (s == ABANDONED) {
          if (state.compareAndSet(ABANDONED, LANDED)) {
            return;
          }
        } else if (s == ORPHANED) {
          if (state.compareAndSet(ORPHANED, FREE)) {
            free.offer(this);
            return;
          }
        } else {
          return; // a further completion of a chain that already failed
        }
      }
    }

    /** The owner's side: back to the pool now, or once its abandoned reads have completed. */
    void release() {
      while (true) {
        int s = state.get();
        if (s == IDLE || s == LANDED) {
          if (state.compareAndSet(s, FREE)) {
            free.offer(this);
            return;
          }
        } else if (s == ABANDONED) {
          if (state.compareAndSet(ABANDONED, ORPHANED)) {
            return;
          }
        } else {
          throw new IllegalStateException("read buffer " + index + " released in state " + s);
        }
      }
    }
  }
}
