package dev.pekkodsm.memory;

import java.time.Duration;
import java.util.Objects;

/**
 * Settings of the tcp read server and of the tcp transport's client side, validated once when
 * built.
 *
 * @param bindHost the address the read server listens on ({@code 0.0.0.0} for every interface)
 * @param port the read server's port; 0 picks a free one
 * @param serverThreads the server's selector threads; each serves its share of the connections
 * @param maxConnections connections the server holds at once; more are closed as they arrive
 * @param connectionsPerPeer connections a reader keeps to each peer; reads are pipelined on each
 * @param connectTimeout how long opening a connection (with its handshake) may take
 * @param handshakeTimeout how long the server waits for a new connection's handshake, or for the
 *     rest of a request it has started to receive
 * @param writeStallTimeout how long the server keeps a connection whose client does not read its
 *     replies
 * @param secret a shared secret every client must prove it knows (HMAC-SHA256 over a random
 *     challenge); empty for none. A secret of zeros only is refused: it is what a client without a
 *     secret would try first
 * @param idleTimeout how long the server keeps an authenticated connection on which no request
 *     arrives; readers reconnect on their next read
 * @param maxConnectionsPerAddress connections the server holds from one remote address; more are
 *     closed as they arrive, so one client cannot take every connection
 * @param allowWithoutSecret whether the server may listen on an address other hosts can reach
 *     (anything but loopback) without a secret
 */
public record TcpSettings(
    String bindHost,
    int port,
    int serverThreads,
    int maxConnections,
    int connectionsPerPeer,
    Duration connectTimeout,
    Duration handshakeTimeout,
    Duration writeStallTimeout,
    String secret,
    Duration idleTimeout,
    int maxConnectionsPerAddress,
    boolean allowWithoutSecret) {

  /**
   * The default idle timeout of {@link #TcpSettings(String, int, int, int, int, Duration, Duration,
   * Duration, String)}.
   */
  public static final Duration DEFAULT_IDLE_TIMEOUT = Duration.ofSeconds(60);

  /**
   * The default per-address limit of {@link #TcpSettings(String, int, int, int, int, Duration,
   * Duration, Duration, String)}.
   */
  public static final int DEFAULT_MAX_CONNECTIONS_PER_ADDRESS = 64;

  /**
   * Settings with the default idle timeout and per-address limit, refusing to listen beyond
   * loopback without a secret.
   */
  public TcpSettings(
      String bindHost,
      int port,
      int serverThreads,
      int maxConnections,
      int connectionsPerPeer,
      Duration connectTimeout,
      Duration handshakeTimeout,
      Duration writeStallTimeout,
      String secret) {
    this(
        bindHost,
        port,
        serverThreads,
        maxConnections,
        connectionsPerPeer,
        connectTimeout,
        handshakeTimeout,
        writeStallTimeout,
        secret,
        DEFAULT_IDLE_TIMEOUT,
        DEFAULT_MAX_CONNECTIONS_PER_ADDRESS,
        false);
  }

  /** Defaults for tests and tools: loopback, any port, no secret. */
  public static TcpSettings loopback() {
    return new TcpSettings(
        "127.0.0.1",
        0,
        2,
        1024,
        2,
        Duration.ofSeconds(2),
        Duration.ofSeconds(5),
        Duration.ofSeconds(10),
        "");
  }

  public TcpSettings {
    Objects.requireNonNull(bindHost, "bindHost");
    Objects.requireNonNull(secret, "secret");
    if (port < 0 || port > 65535) {
      throw new IllegalArgumentException("port=" + port + " must be in [0, 65535]");
    }
    if (serverThreads < 1 || serverThreads > 64) {
      throw new IllegalArgumentException("serverThreads=" + serverThreads + " must be in [1, 64]");
    }
    if (maxConnections < 1) {
      throw new IllegalArgumentException("maxConnections=" + maxConnections + " must be >= 1");
    }
    if (connectionsPerPeer < 1 || connectionsPerPeer > 64) {
      throw new IllegalArgumentException(
          "connectionsPerPeer=" + connectionsPerPeer + " must be in [1, 64]");
    }
    positive("connectTimeout", connectTimeout);
    positive("handshakeTimeout", handshakeTimeout);
    positive("writeStallTimeout", writeStallTimeout);
    positive("idleTimeout", idleTimeout);
    if (maxConnectionsPerAddress < 1) {
      throw new IllegalArgumentException(
          "maxConnectionsPerAddress=" + maxConnectionsPerAddress + " must be >= 1");
    }
    if (!secret.isEmpty() && secret.chars().allMatch(c -> c == '0' || c == 0)) {
      throw new IllegalArgumentException(
          "the secret is all zeros, which a client without a secret would guess; use a random"
              + " one, e.g. the output of: openssl rand -hex 32");
    }
  }

  /**
   * Why the read server must not listen on {@code address} with these settings, or null if it may:
   * an address other hosts can reach needs a secret unless {@link #allowWithoutSecret()}.
   */
  public String exposureProblem(java.net.InetAddress address) {
    if (hasSecret() || allowWithoutSecret || address.isLoopbackAddress()) {
      return null;
    }
    return "the tcp read server would serve every published snapshot on "
        + address.getHostAddress()
        + ", reachable from other hosts, to anyone: set a shared secret on every node"
        + " (pekko.dsm.tcp.secret = ${?PEKKO_DSM_TCP_SECRET}), bind it to loopback"
        + " (pekko.dsm.tcp.bind-host), or, on a network only the cluster's members reach, set"
        + " pekko.dsm.tcp.allow-without-secret = on";
  }

  /** True if clients must prove they know {@link #secret()}. */
  public boolean hasSecret() {
    return !secret.isEmpty();
  }

  /** A copy with another port. */
  public TcpSettings withPort(int newPort) {
    return new TcpSettings(
        bindHost,
        newPort,
        serverThreads,
        maxConnections,
        connectionsPerPeer,
        connectTimeout,
        handshakeTimeout,
        writeStallTimeout,
        secret,
        idleTimeout,
        maxConnectionsPerAddress,
        allowWithoutSecret);
  }

  /** A copy that binds another address. */
  public TcpSettings withBindHost(String newBindHost) {
    return new TcpSettings(
        newBindHost,
        port,
        serverThreads,
        maxConnections,
        connectionsPerPeer,
        connectTimeout,
        handshakeTimeout,
        writeStallTimeout,
        secret,
        idleTimeout,
        maxConnectionsPerAddress,
        allowWithoutSecret);
  }

  /** A copy with another secret. */
  public TcpSettings withSecret(String newSecret) {
    return new TcpSettings(
        bindHost,
        port,
        serverThreads,
        maxConnections,
        connectionsPerPeer,
        connectTimeout,
        handshakeTimeout,
        writeStallTimeout,
        newSecret,
        idleTimeout,
        maxConnectionsPerAddress,
        allowWithoutSecret);
  }

  /** A copy with other server limits. */
  public TcpSettings withLimits(
      int newMaxConnections, Duration newHandshakeTimeout, Duration newWriteStallTimeout) {
    return new TcpSettings(
        bindHost,
        port,
        serverThreads,
        newMaxConnections,
        connectionsPerPeer,
        connectTimeout,
        newHandshakeTimeout,
        newWriteStallTimeout,
        secret,
        idleTimeout,
        maxConnectionsPerAddress,
        allowWithoutSecret);
  }

  /** A copy with another idle timeout and per-address limit. */
  public TcpSettings withIdleLimits(Duration newIdleTimeout, int newMaxConnectionsPerAddress) {
    return new TcpSettings(
        bindHost,
        port,
        serverThreads,
        maxConnections,
        connectionsPerPeer,
        connectTimeout,
        handshakeTimeout,
        writeStallTimeout,
        secret,
        newIdleTimeout,
        newMaxConnectionsPerAddress,
        allowWithoutSecret);
  }

  /** A copy that may, or may not, listen beyond loopback without a secret. */
  public TcpSettings withAllowWithoutSecret(boolean allow) {
    return new TcpSettings(
        bindHost,
        port,
        serverThreads,
        maxConnections,
        connectionsPerPeer,
        connectTimeout,
        handshakeTimeout,
        writeStallTimeout,
        secret,
        idleTimeout,
        maxConnectionsPerAddress,
        allow);
  }

  private static void positive(String name, Duration value) {
    Objects.requireNonNull(value, name);
    if (value.isNegative() || value.isZero()) {
      throw new IllegalArgumentException(name + "=" + value + " must be positive");
    }
  }
}
