package dev.pekkodsm.internal;

import dev.pekkodsm.memory.HostIdentity;
import dev.pekkodsm.memory.PeerEndpoint;
import dev.pekkodsm.memory.ShmTransport;
import dev.pekkodsm.memory.SnapshotArena;
import dev.pekkodsm.memory.SyncRegion;
import dev.pekkodsm.memory.TcpReadServer;
import dev.pekkodsm.memory.TcpSettings;
import dev.pekkodsm.memory.TcpTransport;
import dev.pekkodsm.memory.rdma.Rdma;
import dev.pekkodsm.memory.rdma.RdmaArenaServer;
import dev.pekkodsm.memory.rdma.RdmaSettings;
import dev.pekkodsm.memory.rdma.RdmaTransport;
import dev.pekkodsm.metrics.ReadLatencies;
import dev.pekkodsm.serialization.internal.SnapshotCodec;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Locale;
import org.apache.pekko.actor.typed.ActorSystem;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Starts what lets peers read this node's arena (the tcp read server, the RDMA listener) as {@code
 * pekko.dsm.transport} asks, builds the endpoint published to peers, and the per-peer transport
 * selection for reading theirs. Closes them with the node.
 */
final class TransportBootstrap implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(TransportBootstrap.class);

  private final TcpReadServer tcpServer;
  private final TcpTransport tcp; // null if this node does not read over tcp
  private final TcpTransport messaging; // null if nothing is sent to peers' tcp servers
  private final RdmaArenaServer rdmaServer;
  private final PeerEndpoint endpoint;
  private final Transports transports;

  private TransportBootstrap(
      TcpReadServer tcpServer,
      RdmaArenaServer rdmaServer,
      PeerEndpoint endpoint,
      Transports transports,
      TcpTransport tcp,
      TcpTransport messaging) {
    this.tcpServer = tcpServer;
    this.messaging = messaging;
    this.rdmaServer = rdmaServer;
    this.endpoint = endpoint;
    this.transports = transports;
    this.tcp = tcp;
  }

  /** Requests this node sent to peers' tcp read servers so far. */
  long tcpRequestsSent() {
    return tcp == null ? 0 : tcp.requestsSent();
  }

  /**
   * Starts the servers this node's transport setting needs. On failure the arena is closed and the
   * cause names the keys to check.
   *
   * @throws IllegalStateException if {@code transport = rdma} and RDMA is unavailable here
   */
  static TransportBootstrap start(
      ActorSystem<?> system,
      DsmSettings settings,
      SnapshotArena arena,
      SyncRegion region,
      SnapshotCodec codec,
      ReadLatencies latencies) {
    if (settings.transport == DsmSettings.Transport.RDMA && !Rdma.isAvailable()) {
      region.close();
      arena.close();
      throw new IllegalStateException(
          "pekko.dsm.transport = rdma, but RDMA is unavailable on this node: "
              + Rdma.unavailabilityCause().getMessage(),
          Rdma.unavailabilityCause());
    }
    TcpReadServer tcpServer = startTcpServer(system, settings, arena, region);
    PeerEndpoint published =
        PeerEndpoint.shmOnly(arena.endpoint(), HostIdentity.of(settings.arena.directory()));
    if (tcpServer != null) {
      String host = settings.tcpPublicHost.isEmpty() ? artery(system) : settings.tcpPublicHost;
      published = published.withTcp(host, tcpServer.address().getPort());
    }
    RdmaArenaServer rdmaServer = startRdmaServer(system, settings, arena, region);
    if (rdmaServer != null) {
      published =
          published.withRdma(
              rdmaServer.address().getAddress().getHostAddress(), rdmaServer.address().getPort());
    }
    int maxFrame = settings.arena.maxFrameBytes();
    TcpTransport tcp = readsTcp(settings) ? new TcpTransport(codec, maxFrame, settings.tcp) : null;
    Transports transports =
        new Transports(
            settings.transport,
            published,
            new ShmTransport(codec, maxFrame),
            tcp,
            rdmaServer != null
                ? new RdmaTransport(codec, maxFrame, rdmaSettings(system, settings))
                : null,
            rdmaServer != null ? "" : rdmaUnavailable(settings),
            latencies);
    TcpTransport messaging =
        !replicatesOverTcp(settings)
            ? null
            : tcp != null ? tcp : new TcpTransport(codec, maxFrame, settings.tcp);
    return new TransportBootstrap(tcpServer, rdmaServer, published, transports, tcp, messaging);
  }

  private static boolean readsTcp(DsmSettings settings) {
    return settings.transport == DsmSettings.Transport.AUTO
        || settings.transport == DsmSettings.Transport.TCP;
  }

  /** With a backup over tcp, every node runs its tcp server, whatever reads go over. */
  private static boolean replicatesOverTcp(DsmSettings settings) {
    return settings.replicationFactor > 0 && settings.replicationOverTcp;
  }

  private static String rdmaUnavailable(DsmSettings settings) {
    if (settings.transport == DsmSettings.Transport.SHM
        || settings.transport == DsmSettings.Transport.TCP) {
      return "not used (pekko.dsm.transport = "
          + settings.transport.name().toLowerCase(Locale.ROOT)
          + ")";
    }
    return "unavailable: " + Rdma.unavailabilityCause().getMessage();
  }

  /** The host Artery is bound to: where peers reach this node. */
  private static String artery(ActorSystem<?> system) {
    return system.address().getHost().orElse("127.0.0.1");
  }

  private static RdmaSettings rdmaSettings(ActorSystem<?> system, DsmSettings settings) {
    String host = settings.rdmaBindHost.isEmpty() ? artery(system) : settings.rdmaBindHost;
    RdmaSettings d = RdmaSettings.defaults(host).withPort(settings.rdmaPort);
    return new RdmaSettings(
        d.bindHost(),
        d.port(),
        d.backlog(),
        d.maxConnections(),
        settings.rdmaConnectTimeout,
        d.requestTimeout(),
        d.queueDepth(),
        d.readBufferBytes(),
        d.firstReadBytes(),
        d.eventPollInterval());
  }

  /**
   * Starts the RDMA listener when RDMA may be used and is available; null otherwise. In {@code
   * auto}, a listener that cannot start is logged and the node goes on without RDMA.
   */
  private static RdmaArenaServer startRdmaServer(
      ActorSystem<?> system, DsmSettings settings, SnapshotArena arena, SyncRegion region) {
    boolean wanted =
        settings.transport == DsmSettings.Transport.AUTO
            || settings.transport == DsmSettings.Transport.RDMA;
    if (!wanted || !Rdma.isAvailable()) {
      return null;
    }
    try {
      // The sync region is offered to RDMA atomics only where they are atomic with the CPU's.
      SyncRegion offered = settings.rdmaCpuCoherentAtomics ? region : null;
      return RdmaArenaServer.start(arena, offered, rdmaSettings(system, settings));
    } catch (IOException | RuntimeException e) {
      if (settings.transport == DsmSettings.Transport.RDMA) {
        region.close();
        arena.close();
        throw new IllegalStateException(
            "cannot start the RDMA listener (pekko.dsm.rdma): " + e.getMessage(), e);
      }
      log.warn("RDMA is available but its listener did not start; going on without it", e);
      return null;
    }
  }

  /**
   * Starts the tcp read server when this node may be read over tcp or is backed up over tcp; null
   * otherwise.
   */
  private static TcpReadServer startTcpServer(
      ActorSystem<?> system, DsmSettings settings, SnapshotArena arena, SyncRegion region) {
    if (!readsTcp(settings) && !replicatesOverTcp(settings)) {
      return null;
    }
    TcpSettings tcp = settings.tcp;
    if (tcp.bindHost().isEmpty()) {
      tcp = tcp.withBindHost(artery(system));
    }
    try {
      return TcpReadServer.start(arena, region, tcp);
    } catch (IllegalArgumentException e) { // exposed without a secret: says what to set
      region.close();
      arena.close();
      if (!readsTcp(settings)) {
        throw new IllegalArgumentException(
            e.getMessage()
                + " (the tcp server runs for the replication stream, pekko.dsm.replication.channel"
                + " = tcp; channel = artery needs none)",
            e);
      }
      throw e;
    } catch (IOException e) {
      region.close();
      arena.close();
      throw new UncheckedIOException(
          "cannot start the tcp read server on "
              + tcp.bindHost()
              + ":"
              + tcp.port()
              + " (pekko.dsm.tcp.bind-host, pekko.dsm.tcp.port): "
              + e.getMessage(),
          e);
    }
  }

  /** What this node publishes so that peers can read its arena. */
  PeerEndpoint endpoint() {
    return endpoint;
  }

  /** The per-peer transport selection. */
  Transports transports() {
    return transports;
  }

  /**
   * What sends messages to peers' tcp servers (the replication stream), or null if this node sends
   * none.
   */
  TcpTransport messaging() {
    return messaging;
  }

  /** The tcp read server, or null if this node runs none. */
  TcpReadServer tcpServer() {
    return tcpServer;
  }

  @Override
  public void close() {
    transports.close();
    if (messaging != null && messaging != tcp) {
      messaging.close();
    }
    if (tcpServer != null) {
      tcpServer.close();
    }
    if (rdmaServer != null) {
      rdmaServer.close();
    }
  }
}
