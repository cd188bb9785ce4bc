package dev.pekkodsm.memory.rdma;

import com.ibm.disni.RdmaPassiveEndpointGroup;
import dev.pekkodsm.memory.ActiveValue;
import dev.pekkodsm.memory.ArenaEndpoint;
import dev.pekkodsm.memory.OneSidedTransport;
import dev.pekkodsm.memory.PeerEndpoint;
import dev.pekkodsm.memory.PeerReader;
import dev.pekkodsm.memory.ReadBuffer;
import dev.pekkodsm.memory.ReadStatus;
import dev.pekkodsm.memory.TransportUnavailableException;
import dev.pekkodsm.serialization.internal.SnapshotCodec;
import java.io.IOException;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One-sided reads of a peer's arena over RDMA ({@code IBV_WR_RDMA_READ}, through DiSNI): the peer
 * runs an {@link RdmaArenaServer}, and a read costs its CPU nothing. See {@link RemoteSlotRead} for
 * how a slot is read and validated (the same checks as {@code shm} and {@code tcp}).
 *
 * <p>Each {@link #open} makes one RDMA connection to the peer (cache the reader per peer), with
 * {@link RdmaSettings#queueDepth()} registered read buffers; up to that many threads read through
 * it at once, the others wait for a buffer within their deadline. A read returns {@link
 * ReadStatus#TIMED_OUT} when its reads do not complete by the deadline, {@link
 * ReadStatus#OUT_OF_RANGE} for a locator outside the peer's arena (checked against the segment's
 * registered length before anything is read), and {@link ReadStatus#UNAVAILABLE} once the
 * connection is lost; a lost connection is not re-established: open a new reader.
 *
 * <p>The reader also operates on the peer's sync region with RDMA atomics, reads and writes ({@link
 * RemoteSync}) when the peer's listener offers it; when it does not, those operations fail with
 * {@link dev.pekkodsm.memory.SyncStatus#UNAVAILABLE}, and the caller goes to the peer's home
 * instead.
 *
 * <p>Usable only where {@link Rdma#isAvailable()}; otherwise {@link #open} throws with {@link
 * Rdma#unavailabilityCause()}, so that {@code auto} falls back to another transport. Thread-safe.
 */
public final class RdmaTransport implements OneSidedTransport {

  private final SnapshotCodec codec;
  private final int maxFrameBytes;
  private final RdmaSettings settings;
  private final AtomicLong connectionsOpened = new AtomicLong();
  private RdmaPassiveEndpointGroup<ReaderConnection> group; // guarded by this
  private boolean closed; // guarded by this

  /**
   * Creates the transport; nothing is allocated, and DiSNI is not touched, before the first {@link
   * #open}.
   *
   * @param codec checks frames
   * @param maxFrameBytes the largest frame this node accepts
   * @param settings connection timeouts, read buffers and queue depth
   */
  public RdmaTransport(SnapshotCodec codec, int maxFrameBytes, RdmaSettings settings) {
    this.codec = codec;
    this.maxFrameBytes = maxFrameBytes;
    this.settings = settings;
  }

  @Override
  public String name() {
    return "rdma";
  }

  /** Connections opened since start. */
  public long connectionsOpened() {
    return connectionsOpened.get();
  }

  /**
   * Connects to the peer's RDMA listener within {@link RdmaSettings#connectTimeout()} and fetches
   * the keys of its first segment, so that an unreachable listener or one serving another arena is
   * known at once.
   *
   * @throws TransportUnavailableException if RDMA is unavailable here (its cause is {@link
   *     Rdma#unavailabilityCause()}), if the peer publishes no RDMA endpoint, or if the connection
   *     fails, with the reason
   */
  @Override
  public PeerReader open(PeerEndpoint peer) throws TransportUnavailableException {
    Throwable unavailable = Rdma.unavailabilityCause();
    if (unavailable != null) {
      throw new TransportUnavailableException(
          "the rdma transport is unavailable: " + unavailable.getMessage(), unavailable);
    }
    if (!peer.hasRdma()) {
      throw new TransportUnavailableException(
          "node " + Long.toHexString(peer.node()) + " publishes no RDMA endpoint");
    }
    String where =
        peer.rdmaHost() + ":" + peer.rdmaPort() + " (node " + Long.toHexString(peer.node()) + ")";
    long deadlineNs = System.nanoTime() + settings.connectTimeout().toNanos();
    ReaderConnection connection = null;
    try {
      InetAddress host = InetAddress.getByName(peer.rdmaHost());
      if (!(host instanceof Inet4Address)) {
        throw new IOException("DiSNI connects to IPv4 addresses only, not " + host);
      }
      connection = group().createEndpoint();
      connection.configure(peer.arena());
      connection.establish(new InetSocketAddress(host, peer.rdmaPort()), deadlineNs);
      connectionsOpened.incrementAndGet();
      ReadStatus first = connection.fetchKey(0, deadlineNs);
      if (first != ReadStatus.OK) {
        String failure = connection.failure();
        throw new IOException(
            failure != null
                ? failure
                : "no keys for the arena's first segment (" + first + ") within connectTimeout");
      }
      return new Reader(
          connection,
          new RemoteSync(connection, peer.node(), codec, maxFrameBytes, settings.firstReadBytes()));
    } catch (IOException | RuntimeException e) {
      if (connection != null) {
        closeQuietly(connection);
      }
      throw new TransportUnavailableException(
          "cannot read " + where + " over RDMA: " + e.getMessage(), e);
    }
  }

  private synchronized RdmaPassiveEndpointGroup<ReaderConnection> group() throws IOException {
    if (closed) {
      throw new IOException("the rdma transport is closed");
    }
    if (group == null) {
      // Per connection: up to four work requests per buffer in flight (an exchange chained with
      // three reads), one control send, two receives.
      int workRequests = 4 * settings.queueDepth() + 4;
      RdmaPassiveEndpointGroup<ReaderConnection> g =
          new RdmaPassiveEndpointGroup<>(
              settings.eventPollMillis(), workRequests, 1, workRequests + 4);
      RdmaArenaServer.retryForever(g.getConnParam());
      g.init(
          (id, serverSide) ->
              new ReaderConnection(g, id, serverSide, settings, codec, maxFrameBytes));
      group = g;
    }
    return group;
  }

  /** Closes every reader this transport opened and DiSNI's connection-manager thread. */
  @Override
  public void close() {
    RdmaPassiveEndpointGroup<ReaderConnection> g;
    synchronized (this) {
      if (closed) {
        return;
      }
      closed = true;
      g = group;
      group = null;
    }
    if (g != null) {
      try {
        g.close();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      } catch (IOException | RuntimeException e) {
        // What DiSNI failed to release goes with the process.
      }
    }
  }

  private static void closeQuietly(ReaderConnection connection) {
    try {
      connection.close();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (IOException | RuntimeException e) {
      // Nothing more to do for a connection that failed.
    }
  }

  /** A peer's arena read, and its sync region operated on, through one connection. */
  private static final class Reader implements PeerReader {
    private final ReaderConnection connection;
    private final RemoteSync sync;

    Reader(ReaderConnection connection, RemoteSync sync) {
      this.connection = connection;
      this.sync = sync;
    }

    @Override
    public long load(long cell, long object, int field, long deadlineNs) {
      return sync.load(cell, object, field, deadlineNs);
    }

    @Override
    public long compareAndExchange(
        long cell, long object, int field, long expected, long update, long deadlineNs) {
      return sync.compareAndExchange(cell, object, field, expected, update, deadlineNs);
    }

    @Override
    public long getAndAdd(long cell, long object, int field, long delta, long deadlineNs) {
      return sync.getAndAdd(cell, object, field, delta, deadlineNs);
    }

    @Override
    public void writeValue(long locator, byte[] frame, int length, long deadlineNs) {
      sync.writeValue(locator, frame, length, deadlineNs);
    }

    @Override
    public ReadStatus readValue(
        long locator, long object, int color, ReadBuffer out, long deadlineNs) {
      return sync.readValue(locator, object, color, out, deadlineNs);
    }

    @Override
    public long peekValueColor(long locator, long object, long deadlineNs) {
      return sync.peekValueColor(locator, object, deadlineNs);
    }

    @Override
    public long writeThenExchange(
        long cell,
        long object,
        int slotField,
        byte[] frame,
        int length,
        long expected,
        long update,
        long deadlineNs) {
      return sync.writeThenExchange(
          cell, object, slotField, frame, length, expected, update, deadlineNs);
    }

    @Override
    public ActiveValue readActive(
        long cell, long object, int selectorBit, long knownColor, ReadBuffer out, long deadlineNs) {
      return sync.readActive(cell, object, selectorBit, knownColor, out, deadlineNs);
    }

    @Override
    public ActiveValue exchangeThenRead(
        long cell,
        long object,
        int selectorBit,
        long expected,
        long update,
        long knownColor,
        ReadBuffer out,
        long deadlineNs) {
      return sync.exchangeThenRead(
          cell, object, selectorBit, expected, update, knownColor, out, deadlineNs);
    }

    @Override
    public ArenaEndpoint endpoint() {
      return connection.peer();
    }

    @Override
    public String transport() {
      return "rdma";
    }

    @Override
    public ReadStatus read(long locator, long object, int color, ReadBuffer out, long deadlineNs) {
      return connection.read(locator, object, color, out, deadlineNs);
    }

    @Override
    public void close() {
      closeQuietly(connection);
    }
  }
}
