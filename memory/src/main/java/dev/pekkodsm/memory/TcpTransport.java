package dev.pekkodsm.memory;

import dev.pekkodsm.serialization.internal.SnapshotCodec;
import java.io.IOException;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;

/**
 * One-sided reads of a peer's arena through the peer's {@link TcpReadServer}: for peers on other
 * hosts. The server copies the slot under its seqlock; this side applies exactly the checks a
 * same-host reader applies ({@link SlotReads#check}) before a byte is handed on.
 *
 * <p>Each peer gets {@link TcpSettings#connectionsPerPeer()} connections, opened on demand and
 * replaced when they break. Reads are pipelined on a connection: concurrent readers' requests are
 * written together in one write (batching), and whichever waiting reader holds the connection's
 * read side reads replies for everyone, handing each to its caller (leader/follower), so a lone
 * reader pays one wake-up per read, as a plain blocking echo would. Sockets are blocking channels
 * read through a per-connection direct staging buffer, so a reply usually takes one system call,
 * header and body together.
 *
 * <p>Every read honours its deadline: it returns {@link ReadStatus#TIMED_OUT} when the peer does
 * not answer in time. A thread blocked in a socket call past its deadline is released by a watchdog
 * ({@code TcpWatchdog}) that closes the connection; the other reads on that connection, and a read
 * whose connection breaks for any other reason, are tried once more on a fresh connection while
 * their deadline allows, and fail with {@link ReadStatus#UNAVAILABLE} if that cannot be opened.
 *
 * <p>Thread-safe.
 */
public final class TcpTransport implements OneSidedTransport {

  private static final long CONTENDED_RETRY_NS = 20_000_000L;

  /** The largest message a {@link Messenger} sends. */
  public static final int MAX_MESSAGE_BYTES = TcpWire.MAX_MESSAGE_BYTES;

  private final SnapshotCodec codec;
  private final int maxFrameBytes;
  private final TcpSettings settings;
  private final AtomicLong connectionsOpened = new AtomicLong();
  private final LongAdder requestsSent = new LongAdder();
  private final TcpWatchdog watchdog = new TcpWatchdog("pekko-dsm-tcp-deadlines");
  private volatile boolean closed;

  /**
   * @param codec checks frames
   * @param maxFrameBytes the largest frame this node accepts
   * @param settings connection count, timeouts and the shared secret
   */
  public TcpTransport(SnapshotCodec codec, int maxFrameBytes, TcpSettings settings) {
    this.codec = codec;
    this.maxFrameBytes = maxFrameBytes;
    this.settings = settings;
  }

  @Override
  public String name() {
    return "tcp";
  }

  /** Connections opened since start, replacements included. */
  public long connectionsOpened() {
    return connectionsOpened.get();
  }

  /**
   * Requests sent to peers' read servers since start (reads and sync-region operations, retries
   * included); each is answered by one reply unless its connection broke.
   */
  public long requestsSent() {
    return requestsSent.sum();
  }

  /**
   * Opens a reader and its first connection, so that an unreachable port, a refused secret or a
   * port served by another arena is known at once.
   */
  @Override
  public PeerReader open(PeerEndpoint peer) throws TransportUnavailableException {
    Reader reader = new Reader(reachable(peer));
    try {
      reader.connection(0, System.nanoTime() + settings.connectTimeout().toNanos(), true);
    } catch (IOException e) {
      reader.close();
      throw new TransportUnavailableException(
          "cannot read "
              + peer.tcpHost()
              + ":"
              + peer.tcpPort()
              + " (node "
              + Long.toHexString(peer.node())
              + "): "
              + e.getMessage(),
          e);
    }
    return reader;
  }

  /**
   * Sends messages to one peer's {@link TcpReadServer.MessageHandler} (the node's own protocols
   * over this transport's connections, handshake and deadlines).
   */
  public interface Messenger extends AutoCloseable {
    /**
     * Sends {@code body} on {@code channel} and waits for the answer until {@code deadlineNs}.
     *
     * @throws TransportUnavailableException if the peer refused the message or could not be
     *     reached, or did not answer in time, or the connection broke (then the message may or may
     *     not have been handled: {@link TransportUnavailableException#mayHaveArrived()})
     */
    byte[] send(long channel, byte[] body, long deadlineNs) throws TransportUnavailableException;

    /** Closes its connections. */
    @Override
    void close();
  }

  /**
   * A messenger to {@code peer}, on connections of its own, opened on the first message and
   * replaced when they break.
   *
   * @throws TransportUnavailableException if this transport is closed or the peer runs no tcp
   *     server
   */
  public Messenger messenger(PeerEndpoint peer) throws TransportUnavailableException {
    Reader reader = new Reader(reachable(peer));
    return new Messenger() {
      @Override
      public byte[] send(long channel, byte[] body, long deadlineNs)
          throws TransportUnavailableException {
        if (body.length > TcpWire.MAX_MESSAGE_BYTES) {
          throw new IllegalArgumentException(
              "a message of "
                  + body.length
                  + " bytes is larger than a server takes ("
                  + TcpWire.MAX_MESSAGE_BYTES
                  + ")");
        }
        String where = peer.tcpHost() + ":" + peer.tcpPort();
        if (reader.readerClosed || closed) {
          throw new TransportUnavailableException("the link to " + where + " is closed");
        }
        int index = (int) (Thread.currentThread().getId() % reader.connections.length());
        TcpConnection connection;
        try {
          // A connection unused for half the idle timeout may have been closed by the server as
          // idle: a message written into it would be "in doubt" for nothing, so it is replaced.
          connection =
              reader.connection(
                  index, deadlineNs, reader.unusedFor(index, settings.idleTimeout().toNanos() / 2));
        } catch (IOException e) {
          throw new TransportUnavailableException("cannot reach " + where + ": " + e.getMessage());
        }
        ReadBuffer out = new ReadBuffer(64);
        requestsSent.increment();
        boolean interrupted = Thread.interrupted(); // as for a read: see Reader.read()
        int result;
        try {
          result =
              connection.call(TcpWire.MESSAGE_OPCODE, body.length, channel, body, out, deadlineNs);
        } finally {
          if (interrupted) {
            Thread.currentThread().interrupt();
          }
        }
        if (result >= 0) {
          return Arrays.copyOf(out.bytes(), result);
        }
        throw switch (result) {
          case -TcpWire.REFUSED ->
              new TransportUnavailableException(where + " refused the message");
          case TcpConnection.UNREACHABLE ->
              new TransportUnavailableException("cannot reach " + where);
          case TcpConnection.TIMED_OUT ->
              new TransportUnavailableException(where + " did not answer in time", true);
          default ->
              new TransportUnavailableException("the connection to " + where + " broke", true);
        };
      }

      @Override
      public void close() {
        reader.close();
      }
    };
  }

  /** {@code peer}, if this transport is open and the peer runs a tcp server. */
  private PeerEndpoint reachable(PeerEndpoint peer) throws TransportUnavailableException {
    if (closed) {
      throw new TransportUnavailableException("the tcp transport is closed");
    }
    if (!peer.hasTcp()) {
      throw new TransportUnavailableException(
          "node " + Long.toHexString(peer.node()) + " runs no tcp read server");
    }
    return peer;
  }

  /** Closes every connection of every reader and stops the watchdog. */
  @Override
  public void close() {
    closed = true;
    watchdog.close();
  }

  private final class Reader implements PeerReader {
    private final PeerEndpoint peer;
    private final AtomicReferenceArray<TcpConnection> connections;
    private final ReentrantLock connecting = new ReentrantLock();
    private volatile boolean readerClosed;

    Reader(PeerEndpoint peer) {
      this.peer = peer;
      this.connections = new AtomicReferenceArray<>(settings.connectionsPerPeer());
    }

    @Override
    public String transport() {
      return "tcp";
    }

    @Override
    public ArenaEndpoint endpoint() {
      return peer.arena();
    }

    @Override
    public ReadStatus read(long locator, long object, int color, ReadBuffer out, long deadlineNs) {
      if (readerClosed || closed) {
        return ReadStatus.UNAVAILABLE;
      }
      // An interrupted thread's channel call would close the connection shared with other readers:
      // the interrupt is set aside for the read, which its deadline bounds, and restored after it.
      boolean interrupted = Thread.interrupted();
      try {
        int index = (int) (Thread.currentThread().getId() % connections.length());
        int copied = attempt(index, locator, out, deadlineNs);
        if (copied == TcpConnection.BROKEN && System.nanoTime() - deadlineNs < 0) {
          copied = attempt(index, locator, out, deadlineNs); // on a fresh connection
        }
        // A slot a writer held for the server's whole (short) budget is asked for again, within
        // the same retry budget a same-host reader has.
        long retryUntilNs = System.nanoTime() + CONTENDED_RETRY_NS;
        while (copied == -TcpWire.CONTENDED
            && System.nanoTime() - Math.min(retryUntilNs, deadlineNs) < 0) {
          LockSupport.parkNanos(50_000);
          copied = attempt(index, locator, out, deadlineNs);
        }
        return switch (copied) {
          case TcpConnection.TIMED_OUT -> ReadStatus.TIMED_OUT;
          case TcpConnection.BROKEN ->
              System.nanoTime() - deadlineNs >= 0 ? ReadStatus.TIMED_OUT : ReadStatus.UNAVAILABLE;
          case TcpConnection.UNREACHABLE -> ReadStatus.UNAVAILABLE;
          case -TcpWire.OUT_OF_RANGE -> ReadStatus.OUT_OF_RANGE;
          case -TcpWire.CONTENDED -> ReadStatus.CONTENDED;
          default -> SlotReads.check(codec, out.bytes(), copied, peer.node(), object, color);
        };
      } finally {
        if (interrupted) {
          Thread.currentThread().interrupt();
        }
      }
    }

    /** One read on connection {@code index}: what {@link TcpConnection#call} returns. */
    private int attempt(int index, long locator, ReadBuffer out, long deadlineNs) {
      TcpConnection connection;
      try {
        connection = connection(index, deadlineNs, false);
      } catch (SocketTimeoutException e) {
        return TcpConnection.TIMED_OUT;
      } catch (IOException e) {
        return TcpConnection.UNREACHABLE;
      }
      requestsSent.increment();
      return connection.call(TcpWire.READ_OPCODE, 0, locator, null, out, deadlineNs);
    }

    // ------------------------------------------------------------------ the sync region

    /**
     * One request to the peer's sync region, tried once more on a fresh connection if the first
     * broke and the request may be repeated (a load, a read, a write of a value slot; not an
     * exchange or an add, which may have happened).
     */
    private int request(
        int opcode,
        int arg,
        long locator,
        byte[] body,
        ReadBuffer out,
        long deadlineNs,
        boolean repeatable) {
      if (readerClosed || closed) {
        return TcpConnection.UNREACHABLE;
      }
      boolean interrupted = Thread.interrupted(); // as for a read: see read()
      try {
        int index = (int) (Thread.currentThread().getId() % connections.length());
        int result = attemptCall(index, opcode, arg, locator, body, out, deadlineNs);
        if (result == TcpConnection.BROKEN && repeatable && System.nanoTime() - deadlineNs < 0) {
          result = attemptCall(index, opcode, arg, locator, body, out, deadlineNs);
        }
        long retryUntilNs = System.nanoTime() + CONTENDED_RETRY_NS;
        while (result == -TcpWire.CONTENDED
            && System.nanoTime() - Math.min(retryUntilNs, deadlineNs) < 0) {
          LockSupport.parkNanos(50_000);
          int again = attemptCall(index, opcode, arg, locator, body, out, deadlineNs);
          if (again == TcpConnection.TIMED_OUT || again == TcpConnection.BROKEN) {
            break; // the deadline passed while the slot stayed contended: report that
          }
          result = again;
        }
        return result;
      } finally {
        if (interrupted) {
          Thread.currentThread().interrupt();
        }
      }
    }

    private int attemptCall(
        int index,
        int opcode,
        int arg,
        long locator,
        byte[] body,
        ReadBuffer out,
        long deadlineNs) {
      TcpConnection connection;
      try {
        connection = connection(index, deadlineNs, false);
      } catch (SocketTimeoutException e) {
        return TcpConnection.TIMED_OUT;
      } catch (IOException e) {
        return TcpConnection.UNREACHABLE;
      }
      requestsSent.increment();
      return connection.call(opcode, arg, locator, body, out, deadlineNs);
    }

    /** A request whose reply is one 64-bit word. */
    private long word(
        int opcode, int field, long cell, long deadlineNs, boolean repeatable, long... body) {
      ByteBuffer encoded = ByteBuffer.allocate(8 * body.length).order(ByteOrder.LITTLE_ENDIAN);
      for (long b : body) {
        encoded.putLong(b);
      }
      ReadBuffer out = new ReadBuffer(8);
      int result = request(opcode, field, cell, encoded.array(), out, deadlineNs, repeatable);
      if (result != 8) {
        throw failure(result);
      }
      return ByteBuffer.wrap(out.bytes(), 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
    }

    private SyncFailedException failure(int result) {
      String where = peer.tcpHost() + ":" + peer.tcpPort();
      return switch (result) {
        case -TcpWire.OUT_OF_RANGE ->
            new SyncFailedException(SyncStatus.OUT_OF_RANGE, "no such cell or slot at " + where);
        case -TcpWire.NOT_THIS_OBJECT ->
            new SyncFailedException(
                SyncStatus.NOT_THIS_OBJECT, "the cell belongs to another object at " + where);
        case -TcpWire.TOO_LARGE ->
            new SyncFailedException(SyncStatus.TOO_LARGE, "the frame does not fit the slot");
        case -TcpWire.CONTENDED ->
            new SyncFailedException(SyncStatus.CONTENDED, "the slot stayed held by a writer");
        case TcpConnection.TIMED_OUT ->
            new SyncFailedException(SyncStatus.TIMED_OUT, where + " did not answer in time");
        case -TcpWire.NO_REGION ->
            new SyncFailedException(SyncStatus.UNAVAILABLE, where + " serves no sync region");
        default ->
            new SyncFailedException(
                SyncStatus.UNAVAILABLE,
                "the connection to "
                    + where
                    + " broke; the operation may or may not have happened");
      };
    }

    @Override
    public long load(long cell, long object, int field, long deadlineNs) {
      return word(TcpWire.LOAD_OPCODE, field, cell, deadlineNs, true, object);
    }

    @Override
    public long compareAndExchange(
        long cell, long object, int field, long expected, long update, long deadlineNs) {
      return word(
          TcpWire.EXCHANGE_OPCODE, field, cell, deadlineNs, false, object, expected, update);
    }

    @Override
    public long getAndAdd(long cell, long object, int field, long delta, long deadlineNs) {
      return word(TcpWire.ADD_OPCODE, field, cell, deadlineNs, false, object, delta);
    }

    /** One request (WRXC): the server checks the word, writes the frame, exchanges the word. */
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
      byte[] body =
          ByteBuffer.allocate(32 + length)
              .order(ByteOrder.LITTLE_ENDIAN)
              .putLong(object)
              .putLong(slotField)
              .putLong(expected)
              .putLong(update)
              .put(frame, 0, length)
              .array();
      ReadBuffer out = new ReadBuffer(8);
      int result =
          request(TcpWire.WRITE_EXCHANGE_OPCODE, length, cell, body, out, deadlineNs, false);
      if (result != 8) {
        throw failure(result);
      }
      return ByteBuffer.wrap(out.bytes(), 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
    }

    /** One request (RDAC): the server loads the word, picks the slot and copies its frame. */
    @Override
    public ActiveValue readActive(
        long cell, long object, int selectorBit, long knownColor, ReadBuffer out, long deadlineNs) {
      byte[] body =
          ByteBuffer.allocate(16)
              .order(ByteOrder.LITTLE_ENDIAN)
              .putLong(object)
              .putLong(knownColor)
              .array();
      int result =
          request(TcpWire.READ_ACTIVE_OPCODE, selectorBit, cell, body, out, deadlineNs, true);
      if (result == -TcpWire.CONTENDED) {
        return new ActiveValue(0, -1, false, ReadStatus.CONTENDED);
      }
      if (result < TcpWire.ACTIVE_PREFIX_BYTES) {
        throw failure(result);
      }
      ByteBuffer prefix = ByteBuffer.wrap(out.bytes(), 0, TcpWire.ACTIVE_PREFIX_BYTES);
      prefix.order(ByteOrder.LITTLE_ENDIAN);
      return slotRead(
          prefix.getLong(0),
          prefix.getLong(8),
          knownColor,
          object,
          out,
          TcpWire.ACTIVE_PREFIX_BYTES,
          result - TcpWire.ACTIVE_PREFIX_BYTES);
    }

    /**
     * One request (XCRD): the server exchanges the word, then, if it did, reads the slot the
     * expected word selects.
     */
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
      byte[] body =
          ByteBuffer.allocate(32)
              .order(ByteOrder.LITTLE_ENDIAN)
              .putLong(object)
              .putLong(expected)
              .putLong(update)
              .putLong(knownColor)
              .array();
      int result =
          request(TcpWire.EXCHANGE_READ_OPCODE, selectorBit, cell, body, out, deadlineNs, false);
      if (result < TcpWire.EXCHANGE_READ_PREFIX_BYTES) {
        throw failure(result); // the exchange did not happen, or it is unknown whether it did
      }
      ByteBuffer prefix = ByteBuffer.wrap(out.bytes(), 0, TcpWire.EXCHANGE_READ_PREFIX_BYTES);
      prefix.order(ByteOrder.LITTLE_ENDIAN);
      long witness = prefix.getLong(0);
      long read = prefix.getLong(8);
      if (witness != expected || read != TcpWire.COPIED) {
        out.length(0);
        return witness != expected
            ? new ActiveValue(witness, -1, false, ReadStatus.STALE)
            : new ActiveValue(witness, -1, false, readStatus(read));
      }
      return slotRead(
          witness,
          prefix.getLong(16),
          knownColor,
          object,
          out,
          TcpWire.EXCHANGE_READ_PREFIX_BYTES,
          result - TcpWire.EXCHANGE_READ_PREFIX_BYTES);
    }

    /**
     * What a reply that read a value slot says: the frame of {@code color} after {@code
     * prefixBytes} in {@code out} (moved to its start and checked as any read), or none if the
     * server found it to be the known one.
     */
    private ActiveValue slotRead(
        long word,
        long color,
        long knownColor,
        long object,
        ReadBuffer out,
        int prefixBytes,
        int frameBytes) {
      if (frameBytes == 0) { // the server copies no frame only when it is the known one
        out.length(0);
        return color >= 0 && color == knownColor
            ? new ActiveValue(word, color, true, ReadStatus.OK)
            : new ActiveValue(word, -1, false, ReadStatus.CORRUPT);
      }
      byte[] bytes = out.bytes();
      System.arraycopy(bytes, prefixBytes, bytes, 0, frameBytes);
      out.length(frameBytes);
      ReadStatus status =
          SlotReads.check(codec, bytes, frameBytes, peer.node(), object, SnapshotCodec.ANY_COLOR);
      long copied = status == ReadStatus.OK ? SnapshotCodec.color(bytes, 0) & 0xFFFF_FFFFL : -1;
      return new ActiveValue(word, copied, false, status);
    }

    /** The read status of a slot's copy that failed at the server (a wire status). */
    private static ReadStatus readStatus(long wireStatus) {
      if (wireStatus == TcpWire.CONTENDED) {
        return ReadStatus.CONTENDED;
      }
      if (wireStatus == TcpWire.OUT_OF_RANGE) {
        return ReadStatus.OUT_OF_RANGE;
      }
      return wireStatus == TcpWire.NOT_THIS_OBJECT ? ReadStatus.FREED : ReadStatus.CORRUPT;
    }

    @Override
    public long peekValueColor(long locator, long object, long deadlineNs) {
      try {
        return word(TcpWire.PEEK_VALUE_OPCODE, 0, locator, deadlineNs, true, object);
      } catch (SyncFailedException e) {
        return -1; // then the value is read whole
      }
    }

    @Override
    public void writeValue(long locator, byte[] frame, int length, long deadlineNs) {
      byte[] body = length == frame.length ? frame : Arrays.copyOf(frame, length);
      int result =
          request(
              TcpWire.WRITE_VALUE_OPCODE,
              length,
              locator,
              body,
              new ReadBuffer(8),
              deadlineNs,
              true);
      if (result != 0) {
        throw failure(result);
      }
    }

    @Override
    public ReadStatus readValue(
        long locator, long object, int color, ReadBuffer out, long deadlineNs) {
      int copied = request(TcpWire.READ_VALUE_OPCODE, 0, locator, null, out, deadlineNs, true);
      return switch (copied) {
        case TcpConnection.TIMED_OUT -> ReadStatus.TIMED_OUT;
        case TcpConnection.BROKEN ->
            System.nanoTime() - deadlineNs >= 0 ? ReadStatus.TIMED_OUT : ReadStatus.UNAVAILABLE;
        case TcpConnection.UNREACHABLE, -TcpWire.NO_REGION -> ReadStatus.UNAVAILABLE;
        case -TcpWire.OUT_OF_RANGE -> ReadStatus.OUT_OF_RANGE;
        case -TcpWire.CONTENDED -> ReadStatus.CONTENDED;
        default -> SlotReads.check(codec, out.bytes(), copied, peer.node(), object, color);
      };
    }

    /** True if connection {@code index} exists and has made no call for {@code idleNs}. */
    boolean unusedFor(int index, long idleNs) {
      TcpConnection current = connections.get(index);
      return current != null && System.nanoTime() - current.lastCallNs > idleNs;
    }

    /** The live connection in slot {@code index}, connecting it if needed. */
    TcpConnection connection(int index, long deadlineNs, boolean force) throws IOException {
      TcpConnection current = connections.get(index);
      if (current != null && !current.broken && !force) {
        return current;
      }
      connecting.lock();
      try {
        current = connections.get(index);
        if (current != null && !current.broken && !force) {
          return current;
        }
        if (readerClosed) {
          throw new IOException("reader closed");
        }
        TcpConnection fresh =
            TcpConnection.open(peer, settings, maxFrameBytes, watchdog, deadlineNs);
        connectionsOpened.incrementAndGet();
        TcpConnection old = connections.getAndSet(index, fresh);
        if (old != null) {
          old.fail("replaced");
        }
        return fresh;
      } finally {
        connecting.unlock();
      }
    }

    @Override
    public void close() {
      readerClosed = true;
      for (int i = 0; i < connections.length(); i++) {
        TcpConnection connection = connections.getAndSet(i, null);
        if (connection != null) {
          connection.fail("reader closed");
        }
      }
    }
  }
}
