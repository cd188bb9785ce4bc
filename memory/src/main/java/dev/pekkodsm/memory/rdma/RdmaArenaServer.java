package dev.pekkodsm.memory.rdma;

import com.ibm.disni.RdmaActiveEndpointGroup;
import com.ibm.disni.RdmaServerEndpoint;
import com.ibm.disni.verbs.IbvMr;
import com.ibm.disni.verbs.IbvPd;
import com.ibm.disni.verbs.RdmaConnParam;
import dev.pekkodsm.memory.ArenaEndpoint;
import dev.pekkodsm.memory.SnapshotArena;
import dev.pekkodsm.memory.SyncRegion;
import java.io.IOException;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Makes a node's arena readable by peers over RDMA: the arena's segments are registered with the
 * NIC for remote read only (never remote write, and no local write is needed since the NIC only
 * reads them), and an RDMA connection-manager listener accepts reader connections and tells each
 * reader the address, remote key and length of any segment it asks for (see {@code RdmaWire}).
 * Segments that exist at start are registered at once; segments the arena adds later are registered
 * the first time a reader asks for them. After that the node's CPU takes no part in reads: they are
 * one-sided.
 *
 * <p>Given the node's {@link SyncRegion}, it also registers the region's cells file and its value
 * slots for remote read, write and atomics (and local write, which the verbs require with them),
 * and describes them the same way, so that peers lock, count and commit with RDMA atomics and
 * writes (see {@code RemoteSync}). It does so only on a little-endian host: the region's words are
 * little-endian, and an RDMA atomic works in the responder's byte order. The NIC's atomics must be
 * atomic with the CPU's ({@code atomic_cap} {@code ATOMIC_GLOB}), since this node and its same-host
 * peers change the same words with CPU instructions; DiSNI cannot query that, so it is the
 * operator's to check (see the README).
 *
 * <p>Readers must name the arena's random token and node id, which peers learn from the cluster,
 * before they are given a key. That keeps out readers of another arena, not attackers: anyone who
 * can reach the listener on the RDMA fabric and knows the token can read every published snapshot.
 * Run it on a trusted fabric.
 *
 * <p>Threads: DiSNI's connection-manager thread (daemon), its completion thread (not a daemon: call
 * {@link #close()}), and this server's acceptor and closer threads (daemons). Thread-safe.
 */
public final class RdmaArenaServer implements AutoCloseable {

  private final SnapshotArena arena;
  private final SyncRegion region; // null: no sync region over RDMA
  private final ArenaEndpoint endpoint;
  private final RdmaSettings settings;
  private final RdmaActiveEndpointGroup<ServerConnection> group;
  private final RdmaServerEndpoint<ServerConnection> listener;
  private volatile InetSocketAddress address;
  private final Registration[] registrations; // guarded by this
  private final Registration[] valueRegistrations; // guarded by this
  private Registration cellsRegistration; // guarded by this
  private final Set<ServerConnection> connections = new HashSet<>(); // guarded by this
  private final ExecutorService closer;
  private final Thread acceptor;
  private final AtomicLong accepted = new AtomicLong();
  private final AtomicLong refused = new AtomicLong();
  private final AtomicLong keysServed = new AtomicLong();
  private boolean closed; // guarded by this

  private record Registration(ByteBuffer segment, IbvMr mr) {}

  private RdmaArenaServer(
      SnapshotArena arena,
      SyncRegion region,
      RdmaSettings settings,
      RdmaActiveEndpointGroup<ServerConnection> group,
      RdmaServerEndpoint<ServerConnection> listener) {
    this.arena = arena;
    this.region = offersSync(region) ? region : null;
    this.endpoint = arena.endpoint();
    this.settings = settings;
    this.group = group;
    this.listener = listener;
    this.registrations = new Registration[endpoint.maxSegments()];
    this.valueRegistrations = new Registration[endpoint.maxSegments()];
    this.closer =
        Executors.newSingleThreadExecutor(
            r -> {
              Thread t = new Thread(r, "pekko-dsm-rdma-closer");
              t.setDaemon(true);
              return t;
            });
    this.acceptor = new Thread(this::acceptLoop, "pekko-dsm-rdma-acceptor");
    this.acceptor.setDaemon(true);
  }

  /**
   * Registers {@code arena}'s segments and starts listening on {@link RdmaSettings#bindHost()} and
   * {@link RdmaSettings#port()}.
   *
   * @throws IOException if RDMA is unavailable (with {@link Rdma#unavailabilityCause()} as the
   *     cause), if the bind host is not a specific IPv4 address of an RDMA interface, or if DiSNI
   *     fails to listen or to register the arena
   */
  public static RdmaArenaServer start(SnapshotArena arena, RdmaSettings settings)
      throws IOException {
    return start(arena, null, settings);
  }

  /**
   * As {@link #start(SnapshotArena, RdmaSettings)}, and offers {@code region} (the node's sync
   * region, or null for none) to peers' one-sided atomics and writes. Its cells file is registered
   * at once.
   *
   * @throws IOException as {@link #start(SnapshotArena, RdmaSettings)}, or if the region cannot be
   *     registered
   */
  public static RdmaArenaServer start(SnapshotArena arena, SyncRegion region, RdmaSettings settings)
      throws IOException {
    Throwable unavailable = Rdma.unavailabilityCause();
    if (unavailable != null) {
      throw new IOException(
          "cannot start the RDMA listener: " + unavailable.getMessage(), unavailable);
    }
    InetAddress host = InetAddress.getByName(settings.bindHost());
    if (!(host instanceof Inet4Address) || host.isAnyLocalAddress()) {
      throw new IOException(
          "bindHost="
              + settings.bindHost()
              + " must be the IPv4 address of an RDMA interface: DiSNI binds IPv4 only and finds"
              + " the device from the address, so a wildcard cannot be used");
    }
    int maxWorkRequests = 8; // two receives and two replies per connection, with slack
    int cqEntries = 4 * settings.maxConnections() + 16;
    RdmaActiveEndpointGroup<ServerConnection> group = null;
    RdmaArenaServer server = null;
    try {
      group =
          new RdmaActiveEndpointGroup<>(
              settings.eventPollMillis(), false, maxWorkRequests, 1, cqEntries);
      retryForever(group.getConnParam());
      server = new RdmaArenaServer(arena, region, settings, group, group.createServerEndpoint());
      RdmaArenaServer s = server;
      RdmaActiveEndpointGroup<ServerConnection> g = group;
      group.init((id, serverSide) -> new ServerConnection(g, id, serverSide, s));
      server.listener.bind(new InetSocketAddress(host, settings.port()), settings.backlog());
      SocketAddress bound = server.listener.getSrcAddr();
      server.address =
          bound instanceof InetSocketAddress a && a.getPort() != 0
              ? a
              : new InetSocketAddress(host, settings.port());
      synchronized (server) {
        for (int i = 0; i < arena.segmentCount(); i++) {
          server.register(i);
        }
        try {
          server.registerSync(RdmaWire.REGION_CELLS, 0);
        } catch (IOException e) {
          throw new IOException(
              "cannot register the sync region for remote writes and atomics (does the NIC"
                  + " allow IBV_ACCESS_REMOTE_ATOMIC?): "
                  + e.getMessage(),
              e);
        }
      }
      server.acceptor.start();
      return server;
    } catch (Exception e) {
      if (server != null) {
        server.close();
      } else if (group != null) {
        try {
          group.close();
        } catch (Exception suppressed) {
          e.addSuppressed(suppressed);
        }
      }
      throw e instanceof IOException io
          ? io
          : new IOException(
              "cannot listen for RDMA readers on "
                  + settings.bindHost()
                  + ":"
                  + settings.port()
                  + ": "
                  + e,
              e);
    }
  }

  /**
   * DiSNI connects with no transport retries and no receiver-not-ready retries, so one lost packet,
   * or a message that arrives before its receive is re-posted, would break the connection. 7 is the
   * verbs maximum (and, for RNR, "retry forever").
   */
  static void retryForever(RdmaConnParam connParam) throws IOException {
    connParam.setRetry_count((byte) 7);
    connParam.setRnr_retry_count((byte) 7);
  }

  /**
   * Whether the region's words can be offered to RDMA atomics here: they are little-endian, and an
   * atomic works in this host's order.
   */
  static boolean offersSync(SyncRegion region) {
    return region != null && ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN;
  }

  /** True if peers are offered the sync region. */
  public boolean offersSync() {
    return region != null;
  }

  /** The address readers connect to: {@link RdmaSettings#bindHost()} and the bound port. */
  public InetSocketAddress address() {
    return address;
  }

  /** Reader connections currently served. */
  public synchronized int connections() {
    return connections.size();
  }

  /** Reader connections accepted since start. */
  public long acceptedConnections() {
    return accepted.get();
  }

  /**
   * Reader connections closed on arrival because {@link RdmaSettings#maxConnections()} were open.
   */
  public long refusedConnections() {
    return refused.get();
  }

  /** Segment keys handed to readers since start. */
  public long keysServed() {
    return keysServed.get();
  }

  /**
   * Answers a key request into {@code reply}. Called on DiSNI's completion thread; registers the
   * segment if this is the first request for it.
   */
  void answer(RdmaWire.Request request, ByteBuffer reply) {
    if (request == null) {
      RdmaWire.writeReply(reply, 0, RdmaWire.KEY_BAD_REQUEST, 0, 0, 0, -1);
      return;
    }
    if (request.tokenHi() != endpoint.tokenHi()
        || request.tokenLo() != endpoint.tokenLo()
        || request.node() != endpoint.node()) {
      RdmaWire.writeReply(reply, request.requestId(), RdmaWire.KEY_REFUSED, 0, 0, 0, -1);
      return;
    }
    int segment = request.segment();
    int kind = request.region();
    Registration registration;
    int status;
    synchronized (this) {
      if (kind != RdmaWire.REGION_ARENA && region == null) {
        registration = null;
        status = RdmaWire.KEY_NO_SYNC;
      } else if (closed || segment < 0 || segment >= registrations.length) {
        registration = null;
        status = RdmaWire.KEY_ABSENT;
      } else {
        try {
          registration =
              kind == RdmaWire.REGION_ARENA ? register(segment) : registerSync(kind, segment);
          status = registration == null ? RdmaWire.KEY_ABSENT : RdmaWire.KEY_OK;
        } catch (IOException | RuntimeException e) {
          registration = null;
          status = RdmaWire.KEY_FAILED;
        }
      }
    }
    if (registration == null) {
      RdmaWire.writeReply(reply, request.requestId(), status, 0, 0, 0, segment, kind);
      return;
    }
    keysServed.incrementAndGet();
    IbvMr mr = registration.mr();
    RdmaWire.writeReply(
        reply,
        request.requestId(),
        RdmaWire.KEY_OK,
        mr.getAddr(),
        mr.getRkey(),
        mr.getLength(),
        segment,
        kind);
  }

  /**
   * The registration of the cells file ({@code kind} {@link RdmaWire#REGION_CELLS}, segment 0) or
   * of value segment {@code index} ({@link RdmaWire#REGION_VALUES}), registering it now if needed;
   * null if there is no such segment or no region.
   */
  private Registration registerSync(int kind, int index) throws IOException {
    assert Thread.holdsLock(this);
    if (region == null) {
      return null;
    }
    if (kind == RdmaWire.REGION_CELLS) {
      if (index != 0) {
        return null;
      }
      if (cellsRegistration == null) {
        cellsRegistration = registerWritable(region.cellsForRegistration());
      }
      return cellsRegistration;
    }
    if (valueRegistrations[index] == null) {
      ByteBuffer segment = region.valuesForRegistration(index);
      if (segment == null) {
        return null;
      }
      valueRegistrations[index] = registerWritable(segment);
    }
    return valueRegistrations[index];
  }

  /**
   * Registers a mapping of the sync region for peers' reads, writes and atomics. The queue pairs
   * allow them too: {@code libdisni} connects with the device's {@code max_qp_rd_atom} as responder
   * resources, with which the connection manager grants remote read and atomic access.
   */
  private Registration registerWritable(ByteBuffer mapping) throws IOException {
    int access =
        IbvMr.IBV_ACCESS_LOCAL_WRITE // required by the verbs with remote write and atomics
            | IbvMr.IBV_ACCESS_REMOTE_READ
            | IbvMr.IBV_ACCESS_REMOTE_WRITE
            | IbvMr.IBV_ACCESS_REMOTE_ATOMIC;
    IbvMr mr = listener.getPd().regMr(mapping, access).execute().free().getMr();
    return new Registration(mapping, mr);
  }

  /**
   * The registration of segment {@code index}, registering it now if needed; null if the arena has
   * no such segment. The registration keeps the segment's buffer reachable, so the mapping it pins
   * is never unmapped while the NIC may read it.
   */
  private Registration register(int index) throws IOException {
    assert Thread.holdsLock(this);
    Registration registration = registrations[index];
    if (registration != null) {
      return registration;
    }
    ByteBuffer segment = arena.segment(index);
    if (segment == null) {
      return null;
    }
    IbvPd pd = listener.getPd();
    IbvMr mr = pd.regMr(segment, IbvMr.IBV_ACCESS_REMOTE_READ).execute().free().getMr();
    registration = new Registration(segment, mr);
    registrations[index] = registration;
    return registration;
  }

  private void acceptLoop() {
    while (true) {
      synchronized (this) {
        if (closed) {
          return;
        }
      }
      ServerConnection connection;
      try {
        connection = listener.accept();
      } catch (IOException e) {
        // Interrupted by close(), or a reader gave up during its handshake.
        if (Thread.currentThread().isInterrupted()) {
          return;
        }
        continue;
      }
      if (connection == null) {
        continue;
      }
      boolean keep;
      synchronized (this) {
        keep = !closed && connections.size() < settings.maxConnections();
        if (keep) {
          connections.add(connection);
        }
      }
      if (keep) {
        accepted.incrementAndGet();
      } else {
        refused.incrementAndGet();
        closeLater(connection);
      }
    }
  }

  /** A connection ended or failed: close it off DiSNI's threads, which it would otherwise block. */
  void connectionLost(ServerConnection connection) {
    synchronized (this) {
      if (!connections.remove(connection)) {
        return;
      }
    }
    closeLater(connection);
  }

  private void closeLater(ServerConnection connection) {
    try {
      closer.execute(() -> closeQuietly(connection));
    } catch (RuntimeException rejected) { // the server is closing and will close it
    }
  }

  private static void closeQuietly(ServerConnection connection) {
    try {
      connection.close();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (Exception e) {
      // Nothing more to do for a connection that is going away.
    }
  }

  /**
   * Stops accepting, closes every reader connection, then deregisters the arena's segments. Readers
   * see their connection end and report {@link dev.pekkodsm.memory.ReadStatus#UNAVAILABLE}. Does
   * not close the arena. Idempotent.
   */
  @Override
  public void close() {
    List<ServerConnection> open;
    synchronized (this) {
      if (closed) {
        return;
      }
      closed = true;
      open = new ArrayList<>(connections);
      connections.clear();
    }
    acceptor.interrupt();
    for (ServerConnection connection : open) {
      closeQuietly(connection);
    }
    closer.shutdown();
    try {
      closer.awaitTermination(10, TimeUnit.SECONDS);
      group.close(); // the listener, connections still handshaking, DiSNI's threads
      acceptor.join(TimeUnit.SECONDS.toMillis(10));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (IOException | RuntimeException e) {
      // Closing anyway: what DiSNI failed to release goes with the process.
    }
    synchronized (this) {
      deregister(registrations);
      deregister(valueRegistrations);
      deregister(new Registration[] {cellsRegistration});
      cellsRegistration = null;
    }
  }

  private static void deregister(Registration[] all) {
    for (int i = 0; i < all.length; i++) {
      if (all[i] != null) {
        try {
          all[i].mr().deregMr().execute().free();
        } catch (IOException | RuntimeException e) {
          // Deregistered by the kernel when the process exits.
        }
        all[i] = null;
      }
    }
  }
}
