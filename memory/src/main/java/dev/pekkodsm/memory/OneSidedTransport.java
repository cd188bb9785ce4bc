package dev.pekkodsm.memory;

/**
 * A way to read a peer's arena without involving the peer's actors: the SPI behind {@code
 * pekko.dsm.transport}. Implementations: {@link ShmTransport} (same host, mapped files), {@link
 * TcpTransport} (a read server per node), and the RDMA transport where the hardware and {@code
 * libdisni} exist.
 *
 * <p>Thread-safe.
 */
public interface OneSidedTransport extends AutoCloseable {

  /** The name used in configuration and counters, e.g. {@code "shm"}. */
  String name();

  /**
   * Opens a reader for a peer's arena.
   *
   * @throws TransportUnavailableException if this transport cannot reach that arena (another host,
   *     missing files, a token that does not match), with the reason
   */
  PeerReader open(PeerEndpoint peer) throws TransportUnavailableException;

  /** Releases everything the transport holds. Readers it opened must not be used afterwards. */
  @Override
  void close();
}
