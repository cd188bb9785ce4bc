package dev.pekkodsm.internal;

import dev.pekkodsm.coherence.NodeId;
import dev.pekkodsm.memory.OneSidedTransport;
import dev.pekkodsm.memory.PeerEndpoint;
import dev.pekkodsm.memory.PeerReader;
import dev.pekkodsm.memory.TransportUnavailableException;
import dev.pekkodsm.metrics.ReadLatencies;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Picks the transport for each peer, per {@code pekko.dsm.transport}: in {@code auto}, rdma when
 * both nodes have it, shm when the peer shares this node's {@code HostIdentity}, tcp otherwise,
 * falling through to the next when one cannot open. The choice is logged once per peer and kept for
 * the counters.
 *
 * <p>Thread-safe.
 */
final class Transports implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(Transports.class);

  private final DsmSettings.Transport mode;
  private final PeerEndpoint self;
  private final OneSidedTransport shm;
  private final OneSidedTransport tcp;
  private final OneSidedTransport rdma;
  private final String rdmaUnavailable;
  private final ReadLatencies latencies;
  private final Map<NodeId, String> chosen = new ConcurrentHashMap<>();

  /**
   * @param tcp null if this node does not read over tcp
   * @param rdma null if RDMA is unavailable here, with {@code rdmaUnavailable} saying why
   * @param latencies times the reads of every reader opened
   */
  Transports(
      DsmSettings.Transport mode,
      PeerEndpoint self,
      OneSidedTransport shm,
      OneSidedTransport tcp,
      OneSidedTransport rdma,
      String rdmaUnavailable,
      ReadLatencies latencies) {
    this.mode = mode;
    this.self = self;
    this.shm = shm;
    this.tcp = tcp;
    this.rdma = rdma;
    this.rdmaUnavailable = rdmaUnavailable;
    this.latencies = latencies;
  }

  /** The transports to try for {@code peer}, best first, each with why it applies. */
  private List<OneSidedTransport> candidates(PeerEndpoint peer, List<String> skipped) {
    List<OneSidedTransport> order = new ArrayList<>(3);
    boolean sameHost = self.hostId().equals(peer.hostId());
    switch (mode) {
      case SHM -> order.add(shm);
      case TCP -> addIf(order, tcp, "tcp", skipped, "this node runs no tcp client");
      case RDMA -> addIf(order, rdma, "rdma", skipped, rdmaUnavailable);
      case AUTO -> {
        if (rdma != null && peer.hasRdma()) {
          order.add(rdma);
        } else {
          skipped.add(
              "rdma: " + (rdma == null ? rdmaUnavailable : "the peer has no RDMA endpoint"));
        }
        if (sameHost) {
          order.add(shm);
        } else {
          skipped.add("shm: the peer is on another host (host identity " + peer.hostId() + ")");
        }
        addIf(order, tcp, "tcp", skipped, "this node runs no tcp client");
      }
    }
    return order;
  }

  private static void addIf(
      List<OneSidedTransport> order,
      OneSidedTransport t,
      String name,
      List<String> skipped,
      String why) {
    if (t != null) {
      order.add(t);
    } else {
      skipped.add(name + ": " + why);
    }
  }

  /**
   * Opens a reader of {@code peer}'s arena with the best transport that works.
   *
   * @throws TransportUnavailableException naming every transport tried and why it failed
   */
  PeerReader open(NodeId node, PeerEndpoint peer) throws TransportUnavailableException {
    List<String> reasons = new ArrayList<>();
    for (OneSidedTransport t : candidates(peer, reasons)) {
      try {
        PeerReader reader = t.open(peer);
        String previous = chosen.put(node, t.name());
        if (!t.name().equals(previous)) {
          log.info(
              "reading {} over {}{}",
              node,
              t.name(),
              reasons.isEmpty() ? "" : " (" + String.join("; ", reasons) + ")");
        }
        return latencies.timed(reader);
      } catch (TransportUnavailableException e) {
        reasons.add(t.name() + ": " + e.getMessage());
      }
    }
    throw new TransportUnavailableException(
        "no transport reaches "
            + node
            + " (pekko.dsm.transport = "
            + mode.name().toLowerCase(java.util.Locale.ROOT)
            + "): "
            + String.join("; ", reasons));
  }

  /** A peer left: forget its choice. */
  void forget(NodeId node) {
    chosen.remove(node);
  }

  /** The transport chosen for each peer read so far. */
  Map<NodeId, String> chosen() {
    TreeMap<NodeId, String> copy = new TreeMap<>(java.util.Comparator.comparingLong(NodeId::value));
    copy.putAll(chosen);
    return copy;
  }

  @Override
  public void close() {
    shm.close();
    if (tcp != null) {
      tcp.close();
    }
    if (rdma != null) {
      rdma.close();
    }
  }
}
