package dev.pekkodsm.memory.rdma;

import dev.pekkodsm.serialization.internal.SnapshotCodec;
import java.time.Duration;
import java.util.Objects;

/**
 * Settings of the RDMA listener ({@link RdmaArenaServer}) and of the rdma transport's reading side
 * ({@link RdmaTransport}), validated once when built.
 *
 * @param bindHost the IPv4 address the listener binds: the address of an RDMA-capable interface
 *     (DiSNI finds the device from it, so a wildcard such as {@code 0.0.0.0} is refused at start)
 * @param port the listener's port in the RDMA CM port space; 0 picks a free one
 * @param backlog pending connection requests the listener queues
 * @param maxConnections reader connections the listener serves at once; more are closed as they are
 *     accepted
 * @param connectTimeout how long opening a reader (address and route resolution, connection, first
 *     key exchange) may take
 * @param requestTimeout how long a reader waits for the listener to answer a request for a
 *     segment's keys before it declares the connection dead
 * @param queueDepth reads in flight at once on one reader connection; each owns a registered local
 *     buffer of {@code readBufferBytes}, so this bounds the reading threads served in parallel
 * @param readBufferBytes the registered local buffer of one read; a frame larger than this is read
 *     in chunks of this size
 * @param firstReadBytes how many bytes of a slot the first RDMA read fetches after the sequence
 *     word (slot header, frame header and the start of the payload): frames that fit are read in
 *     one round, larger ones need another
 * @param eventPollInterval how often DiSNI's connection-manager and completion threads wake up to
 *     notice they are being closed
 */
public record RdmaSettings(
    String bindHost,
    int port,
    int backlog,
    int maxConnections,
    Duration connectTimeout,
    Duration requestTimeout,
    int queueDepth,
    int readBufferBytes,
    int firstReadBytes,
    Duration eventPollInterval) {

  /** The most local memory one reader connection may register: {@code queueDepth} buffers. */
  public static final long MAX_REGISTERED_BYTES_PER_PEER = 1L << 30;

  /** The smallest {@link #firstReadBytes()}: the slot's capacity word and a frame header. */
  public static final int MIN_FIRST_READ_BYTES = 8 + SnapshotCodec.HEADER_BYTES;

  /**
   * Defaults for a node whose RDMA interface has address {@code bindHost}: any port, 16 reads in
   * flight per peer with 64 KiB buffers, first reads of 512 bytes.
   */
  public static RdmaSettings defaults(String bindHost) {
    return new RdmaSettings(
        bindHost,
        0,
        128,
        256,
        Duration.ofSeconds(2),
        Duration.ofSeconds(2),
        16,
        64 * 1024,
        512,
        Duration.ofMillis(100));
  }

  public RdmaSettings {
    Objects.requireNonNull(bindHost, "bindHost");
    if (port < 0 || port > 65535) {
      throw new IllegalArgumentException("port=" + port + " must be in [0, 65535]");
    }
    if (backlog < 1 || backlog > 65535) {
      throw new IllegalArgumentException("backlog=" + backlog + " must be in [1, 65535]");
    }
    if (maxConnections < 1 || maxConnections > 65536) {
      throw new IllegalArgumentException(
          "maxConnections=" + maxConnections + " must be in [1, 65536]");
    }
    milliseconds("connectTimeout", connectTimeout);
    milliseconds("requestTimeout", requestTimeout);
    milliseconds("eventPollInterval", eventPollInterval);
    if (queueDepth < 1 || queueDepth > 1024) {
      throw new IllegalArgumentException("queueDepth=" + queueDepth + " must be in [1, 1024]");
    }
    if (firstReadBytes < MIN_FIRST_READ_BYTES) {
      throw new IllegalArgumentException(
          "firstReadBytes="
              + firstReadBytes
              + " must be >= "
              + MIN_FIRST_READ_BYTES
              + " (a slot's capacity word and a frame header)");
    }
    if (readBufferBytes < firstReadBytes) {
      throw new IllegalArgumentException(
          "readBufferBytes=" + readBufferBytes + " < firstReadBytes=" + firstReadBytes);
    }
    long registered =
        (long) queueDepth * ((long) readBufferBytes + RemoteSlotRead.SLOT_OVERHEAD_BYTES);
    if (registered > MAX_REGISTERED_BYTES_PER_PEER) {
      throw new IllegalArgumentException(
          "queueDepth="
              + queueDepth
              + " x readBufferBytes="
              + readBufferBytes
              + " registers "
              + registered
              + " bytes per peer, more than "
              + MAX_REGISTERED_BYTES_PER_PEER);
    }
  }

  /** A copy with another bind host. */
  public RdmaSettings withBindHost(String newBindHost) {
    return new RdmaSettings(
        newBindHost,
        port,
        backlog,
        maxConnections,
        connectTimeout,
        requestTimeout,
        queueDepth,
        readBufferBytes,
        firstReadBytes,
        eventPollInterval);
  }

  /** A copy with another port. */
  public RdmaSettings withPort(int newPort) {
    return new RdmaSettings(
        bindHost,
        newPort,
        backlog,
        maxConnections,
        connectTimeout,
        requestTimeout,
        queueDepth,
        readBufferBytes,
        firstReadBytes,
        eventPollInterval);
  }

  /** A copy with other read buffers. */
  public RdmaSettings withReadBuffers(int newQueueDepth, int newReadBufferBytes, int newFirstRead) {
    return new RdmaSettings(
        bindHost,
        port,
        backlog,
        maxConnections,
        connectTimeout,
        requestTimeout,
        newQueueDepth,
        newReadBufferBytes,
        newFirstRead,
        eventPollInterval);
  }

  /** {@link #eventPollInterval()} in the int milliseconds DiSNI takes. */
  int eventPollMillis() {
    return (int) eventPollInterval.toMillis();
  }

  private static void milliseconds(String name, Duration value) {
    Objects.requireNonNull(value, name);
    if (value.isNegative() || value.toMillis() < 1 || value.toMillis() > Integer.MAX_VALUE) {
      throw new IllegalArgumentException(
          name + "=" + value + " must be in [1 ms, " + Integer.MAX_VALUE + " ms]");
    }
  }
}
