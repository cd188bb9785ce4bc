package dev.pekkodsm.memory.rdma;

import com.ibm.disni.RdmaEndpoint;
import com.ibm.disni.RdmaEndpointGroup;
import com.ibm.disni.verbs.IbvCQ;
import com.ibm.disni.verbs.IbvCompChannel;
import com.ibm.disni.verbs.IbvMr;
import com.ibm.disni.verbs.IbvWC;
import com.ibm.disni.verbs.RdmaCmEvent;
import com.ibm.disni.verbs.RdmaCmId;
import com.ibm.disni.verbs.SVCPollCq;
import com.ibm.disni.verbs.StatefulVerbCall;
import dev.pekkodsm.memory.ArenaEndpoint;
import dev.pekkodsm.memory.ReadBuffer;
import dev.pekkodsm.memory.ReadStatus;
import dev.pekkodsm.memory.SlotLayout;
import dev.pekkodsm.memory.SyncFailedException;
import dev.pekkodsm.memory.SyncStatus;
import dev.pekkodsm.serialization.internal.SnapshotCodec;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;

/**
 * One reader's RDMA connection to a peer's {@link RdmaArenaServer}: a reliable-connected queue pair
 * with its own completion queue, polled by the reading threads themselves (no completion thread).
 *
 * <p>Local memory is one direct buffer registered for local write only (the peer gets no access to
 * it): {@code queueDepth} work buffers ({@link WorkBuffer}, whose wait for completions is {@link
 * CompletionSlot}) and the control channel's buffers ({@link SegmentKeys}). A thread takes a free
 * work buffer, posts its work requests, and waits for their completion; whichever waiting thread
 * gets the poll lock polls the completion queue for everyone (completions are routed by work
 * request id). The reads of {@link #read} and the sync operations of {@link RemoteSync} (for which
 * this connection is the {@link RemoteSync.Port}) share the work buffers.
 *
 * <p>Thread-safe. The connection is closed once: {@link #close()} marks it closed, waits for the
 * threads inside it to leave (they notice within one poll), and only then destroys the queue pair,
 * the completion queue and the memory registration, so that no thread ever calls DiSNI on a
 * destroyed resource.
 */
final class ReaderConnection extends RdmaEndpoint
    implements CompletionSlot.Poller, RemoteSync.Port {

  private static final int SPINS_BEFORE_YIELD = 256;
  private static final int POLL_BATCH = 16;

  private final RdmaSettings settings;
  private final SnapshotCodec codec;
  private final int maxFrameBytes;
  private final CompletableFuture<Void> established = new CompletableFuture<>();
  private final AtomicInteger users = new AtomicInteger();
  private final AtomicBoolean closing = new AtomicBoolean();
  private final ReentrantLock pollLock = new ReentrantLock();
  private volatile boolean closed;
  private volatile String failure;
  private volatile String atomicsUnavailable;

  // Set by configure() before connecting.
  private ArenaEndpoint peer;
  private SegmentKeys keys;

  // Set by init(), which DiSNI calls while connecting; published to readers by the connection's
  // establishment (they only use them after open() returned).
  private ByteBuffer memory;
  private IbvMr mr;
  private WorkBuffer[] slots;
  private ArrayBlockingQueue<WorkBuffer> free;
  private IbvWC[] completions;
  private SVCPollCq pollCall;
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
    this.keys = new SegmentKeys(arena, settings, this);
  }

  /** The peer's arena. */
  ArenaEndpoint peer() {
    return peer;
  }

  /** Why the connection is unusable, or null if it is usable. */
  @Override
  public String failure() {
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
    int slotBytes =
        WorkRequests.roundUp(RemoteSlotRead.SLOT_OVERHEAD_BYTES + settings.readBufferBytes(), 64);
    int controlAt = depth * slotBytes;
    int size = controlAt + SegmentKeys.memoryBytes();
    memory = ByteBuffer.allocateDirect(size).order(ByteOrder.LITTLE_ENDIAN);
    // Local write only: the NIC writes read data and received messages here; the peer gets no
    // access to this memory.
    mr = getPd().regMr(memory, IbvMr.IBV_ACCESS_LOCAL_WRITE).execute().free().getMr();
    long base = mr.getAddr();
    int lkey = mr.getLkey();

    slots = new WorkBuffer[depth];
    free = new ArrayBlockingQueue<>(depth);
    for (int i = 0; i < depth; i++) {
      slots[i] =
          new WorkBuffer(
              i, memory.slice(i * slotBytes, slotBytes), base + (long) i * slotBytes, this);
      slots[i].prepare(lkey, chain -> track(postSend(chain)));
      free.add(slots[i]);
    }
    try {
      for (WorkBuffer slot : slots) {
        slot.prepareAtomics(lkey, chain -> track(postSend(chain)));
      }
    } catch (IOException | RuntimeException e) {
      // Reads work without them; the sync operations go to the peer's home instead.
      atomicsUnavailable = "cannot prepare RDMA atomics: " + e.getMessage();
    }

    completions = new IbvWC[POLL_BATCH];
    for (int i = 0; i < completions.length; i++) {
      completions[i] = new IbvWC();
    }
    pollCall = track(getCqProvider().getCQ().poll(completions, completions.length));
    keys.prepare(
        memory,
        controlAt,
        base,
        lkey,
        chain -> track(postSend(chain)),
        receives -> track(postRecv(receives)));
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
      if (segment >= keys.maxSegments()) {
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
      WorkBuffer slot = take(deadlineNs);
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

  /** Makes sure the keys of {@code segment} are known (see {@link SegmentKeys#fetch}). */
  ReadStatus fetchKey(int segment, long deadlineNs) {
    return fetchKey(RdmaWire.REGION_ARENA, segment, deadlineNs);
  }

  private ReadStatus fetchKey(int region, int segment, long deadlineNs) {
    if (!enter()) {
      return ReadStatus.UNAVAILABLE;
    }
    try {
      return keys.fetch(region, segment, deadlineNs);
    } finally {
      exit();
    }
  }

  @Override
  public SegmentKey key(int region, int segment, long deadlineNs) {
    SegmentKey key = keys.get(region, segment);
    if (key != null) {
      return key;
    }
    ReadStatus status = fetchKey(region, segment, deadlineNs);
    return switch (status) {
      case OK -> keys.get(region, segment);
      case OUT_OF_RANGE ->
          throw new SyncFailedException(
              SyncStatus.OUT_OF_RANGE, "the peer's sync region has no segment " + segment);
      case TIMED_OUT ->
          throw new SyncFailedException(
              SyncStatus.TIMED_OUT, "the peer's listener did not describe its sync region in time");
      default -> {
        String refused = keys.syncRefused();
        String why = refused != null ? refused : failure();
        throw new SyncFailedException(
            SyncStatus.UNAVAILABLE, why != null ? why : "the sync region is unavailable");
      }
    };
  }

  @Override
  public SyncChannel acquire(long deadlineNs) {
    if (!enter()) {
      throw new SyncFailedException(SyncStatus.UNAVAILABLE, "the reader was closed");
    }
    String refused = atomicsUnavailable;
    WorkBuffer slot = refused == null ? take(deadlineNs) : null;
    if (slot == null) {
      exit();
      String lost = failure();
      if (refused != null || lost != null) {
        throw new SyncFailedException(SyncStatus.UNAVAILABLE, refused != null ? refused : lost);
      }
      throw new SyncFailedException(
          SyncStatus.TIMED_OUT, "no work buffer of the RDMA connection was free in time");
    }
    return slot;
  }

  @Override
  public void release(SyncChannel channel) {
    try {
      ((WorkBuffer) channel).release();
    } finally {
      exit();
    }
  }

  private WorkBuffer take(long deadlineNs) {
    for (int spins = 0; ; spins++) {
      WorkBuffer slot = free.poll();
      if (slot != null) {
        slot.acquired();
        return slot;
      }
      if (failure() != null || System.nanoTime() - deadlineNs >= 0) {
        return null;
      }
      progress(spins);
    }
  }

  /** A buffer is free again. */
  void recycle(WorkBuffer slot) {
    free.offer(slot);
  }

  /** Polls the completion queue if no other thread does, then backs off a little. */
  @Override
  public void progress(int spins) {
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
      markBroken("an RDMA work request failed: " + WorkRequests.statusName(wc.getStatus()));
    }
    int index = RdmaWire.indexOf(id);
    switch (RdmaWire.kindOf(id)) {
      case (int) RdmaWire.KIND_READ -> {
        if (index < slots.length) {
          slots[index].completed(ok);
        }
      }
      case (int) RdmaWire.KIND_SEND -> keys.sendCompleted();
      case (int) RdmaWire.KIND_RECV -> {
        if (ok) {
          keys.replied(index, wc.getByte_len());
        }
      }
      default -> markBroken("a completion with an unknown work request id " + id);
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

  @Override
  public void markBroken(String reason) {
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
}
