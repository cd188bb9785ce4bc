package dev.pekkodsm.memory;

import java.util.Objects;

/**
 * Everything a node publishes so that peers can read its arena, whichever transport they pick.
 *
 * @param arena the arena's identity and files (for {@code shm}, and the token every transport
 *     checks)
 * @param hostId the node's {@link HostIdentity}: equal ids mean the peers share the memory that
 *     holds their arenas, so {@code shm} can be used
 * @param tcpHost the host the node's tcp read server is reachable at, or empty if it runs none
 * @param tcpPort the tcp read server's port, or 0 if it runs none
 * @param rdmaHost the address of the node's RDMA listener, or empty if it has no RDMA
 * @param rdmaPort the RDMA listener's port, or 0 if it has no RDMA
 */
public record PeerEndpoint(
    ArenaEndpoint arena,
    String hostId,
    String tcpHost,
    int tcpPort,
    String rdmaHost,
    int rdmaPort) {

  public PeerEndpoint {
    Objects.requireNonNull(arena, "arena");
    Objects.requireNonNull(hostId, "hostId");
    Objects.requireNonNull(tcpHost, "tcpHost");
    Objects.requireNonNull(rdmaHost, "rdmaHost");
    if (tcpPort < 0 || tcpPort > 65535 || rdmaPort < 0 || rdmaPort > 65535) {
      throw new IllegalArgumentException("tcpPort=" + tcpPort + ", rdmaPort=" + rdmaPort);
    }
  }

  /** An endpoint with the arena only: reachable through {@code shm} alone. */
  public static PeerEndpoint shmOnly(ArenaEndpoint arena, String hostId) {
    return new PeerEndpoint(arena, hostId, "", 0, "", 0);
  }

  /** The node whose arena this is. */
  public long node() {
    return arena.node();
  }

  /** True if the node runs a tcp read server. */
  public boolean hasTcp() {
    return tcpPort != 0 && !tcpHost.isEmpty();
  }

  /** True if the node accepts RDMA reads. */
  public boolean hasRdma() {
    return rdmaPort != 0 && !rdmaHost.isEmpty();
  }

  /** This endpoint with the tcp read server's address. */
  public PeerEndpoint withTcp(String host, int port) {
    return new PeerEndpoint(arena, hostId, host, port, rdmaHost, rdmaPort);
  }

  /** This endpoint with the RDMA listener's address. */
  public PeerEndpoint withRdma(String host, int port) {
    return new PeerEndpoint(arena, hostId, tcpHost, tcpPort, host, port);
  }
}
