package dev.pekkodsm.memory;

import dev.pekkodsm.serialization.internal.SnapshotCodec;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.net.StandardSocketOptions;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.SocketChannel;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
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
    if (closed) {
      throw new TransportUnavailableException("the tcp transport is closed");
    }
    if (!peer.hasTcp()) {
      throw new TransportUnavailableException(
          "node " + Long.toHexString(peer.node()) + " runs no tcp read server");
    }
    Reader reader = new Reader(peer);
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

  /** Closes every connection of every reader and stops the watchdog. */
  @Override
  public void close() {
    closed = true;
    watchdog.close();
  }

  private final class Reader implements PeerReader {
    private final PeerEndpoint peer;
    private final AtomicReferenceArray<Connection> connections;
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
        if (copied == Connection.BROKEN && System.nanoTime() - deadlineNs < 0) {
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
          case Connection.TIMED_OUT -> ReadStatus.TIMED_OUT;
          case Connection.BROKEN ->
              System.nanoTime() - deadlineNs >= 0 ? ReadStatus.TIMED_OUT : ReadStatus.UNAVAILABLE;
          case Connection.UNREACHABLE -> ReadStatus.UNAVAILABLE;
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

    /** One read on connection {@code index}: what {@link Connection#read} returns. */
    private int attempt(int index, long locator, ReadBuffer out, long deadlineNs) {
      Connection connection;
      try {
        connection = connection(index, deadlineNs, false);
      } catch (SocketTimeoutException e) {
        return Connection.TIMED_OUT;
      } catch (IOException e) {
        return Connection.UNREACHABLE;
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
        return Connection.UNREACHABLE;
      }
      boolean interrupted = Thread.interrupted(); // as for a read: see read()
      try {
        int index = (int) (Thread.currentThread().getId() % connections.length());
        int result = attemptCall(index, opcode, arg, locator, body, out, deadlineNs);
        if (result == Connection.BROKEN && repeatable && System.nanoTime() - deadlineNs < 0) {
          result = attemptCall(index, opcode, arg, locator, body, out, deadlineNs);
        }
        long retryUntilNs = System.nanoTime() + CONTENDED_RETRY_NS;
        while (result == -TcpWire.CONTENDED
            && System.nanoTime() - Math.min(retryUntilNs, deadlineNs) < 0) {
          LockSupport.parkNanos(50_000);
          int again = attemptCall(index, opcode, arg, locator, body, out, deadlineNs);
          if (again == Connection.TIMED_OUT || again == Connection.BROKEN) {
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
      Connection connection;
      try {
        connection = connection(index, deadlineNs, false);
      } catch (SocketTimeoutException e) {
        return Connection.TIMED_OUT;
      } catch (IOException e) {
        return Connection.UNREACHABLE;
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
        case Connection.TIMED_OUT ->
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
      byte[] body = length == frame.length ? frame : java.util.Arrays.copyOf(frame, length);
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
        case Connection.TIMED_OUT -> ReadStatus.TIMED_OUT;
        case Connection.BROKEN ->
            System.nanoTime() - deadlineNs >= 0 ? ReadStatus.TIMED_OUT : ReadStatus.UNAVAILABLE;
        case Connection.UNREACHABLE, -TcpWire.NO_REGION -> ReadStatus.UNAVAILABLE;
        case -TcpWire.OUT_OF_RANGE -> ReadStatus.OUT_OF_RANGE;
        case -TcpWire.CONTENDED -> ReadStatus.CONTENDED;
        default -> SlotReads.check(codec, out.bytes(), copied, peer.node(), object, color);
      };
    }

    /** The live connection in slot {@code index}, connecting it if needed. */
    Connection connection(int index, long deadlineNs, boolean force) throws IOException {
      Connection current = connections.get(index);
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
        Connection fresh = Connection.open(peer, settings, maxFrameBytes, watchdog, deadlineNs);
        connectionsOpened.incrementAndGet();
        Connection old = connections.getAndSet(index, fresh);
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
        Connection connection = connections.getAndSet(i, null);
        if (connection != null) {
          connection.fail("reader closed");
        }
      }
    }
  }

  /** A read in flight: written by its caller, completed by whichever thread reads its reply. */
  private static final class Call {
    static final int WAITING = 0;
    static final int FILLING = 1;
    static final int DONE = 2;
    static final int ABANDONED = 3;

    final long id;
    final int opcode;
    final int arg;
    final long locator;
    final byte[] body; // null for none
    final Thread waiter = Thread.currentThread();
    final ReadBuffer out;
    final AtomicInteger state = new AtomicInteger(WAITING);
    int result; // written before state becomes DONE

    Call(long id, int opcode, int arg, long locator, byte[] body, ReadBuffer out) {
      this.id = id;
      this.opcode = opcode;
      this.arg = arg;
      this.locator = locator;
      this.body = body;
      this.out = out;
    }

    int requestBytes() {
      return TcpWire.REQUEST_BYTES + (body == null ? 0 : body.length);
    }
  }

  /** One socket to a peer's read server, shared by every reading thread mapped to it. */
  private static final class Connection {
    static final int TIMED_OUT = -100;
    static final int BROKEN = -101;
    static final int UNREACHABLE = -102;
    private static final int STAGING_BYTES = 64 * 1024;

    private final SocketChannel channel;
    private final int maxFrameBytes;
    private final TcpWatchdog.Guard readGuard;
    private final TcpWatchdog.Guard writeGuard;
    private final AtomicLong ids = new AtomicLong();
    private final Map<Long, Call> calls = new ConcurrentHashMap<>();
    private final ConcurrentLinkedQueue<Call> toSend = new ConcurrentLinkedQueue<>();
    private final ReentrantLock writing = new ReentrantLock();
    private final ReentrantLock reading = new ReentrantLock();
    volatile boolean broken;

    // Guarded by writing.
    private final ByteBuffer requests =
        ByteBuffer.allocateDirect(64 * TcpWire.REQUEST_BYTES).order(ByteOrder.LITTLE_ENDIAN);

    // The replies being read, guarded by reading: a leader that leaves mid-reply leaves this state
    // for the next one. staging holds received bytes not yet handed out, from position to limit.
    private final ByteBuffer staging =
        ByteBuffer.allocateDirect(STAGING_BYTES).order(ByteOrder.LITTLE_ENDIAN).limit(0);
    private Call current; // the call whose body is being read; null while skipping
    private int bodyLength = -1; // -1 while a header is awaited
    private int bodyRead;

    private Connection(SocketChannel channel, int maxFrameBytes, TcpWatchdog watchdog) {
      this.channel = channel;
      this.maxFrameBytes = maxFrameBytes;
      this.readGuard = watchdog.guard(() -> fail("a read's deadline passed"));
      this.writeGuard = watchdog.guard(() -> fail("a write's deadline passed"));
    }

    /**
     * Connects and completes the handshake by {@code deadlineNs} or the connect timeout, whichever
     * comes first.
     *
     * @throws SocketTimeoutException if that time passed
     * @throws IOException if the peer cannot be reached or refuses the handshake
     */
    static Connection open(
        PeerEndpoint peer,
        TcpSettings settings,
        int maxFrameBytes,
        TcpWatchdog watchdog,
        long deadlineNs)
        throws IOException {
      InetSocketAddress address = new InetSocketAddress(peer.tcpHost(), peer.tcpPort());
      if (address.isUnresolved()) {
        throw new UnknownHostException(peer.tcpHost());
      }
      long connectByNs = System.nanoTime() + settings.connectTimeout().toNanos();
      long openByNs = deadlineNs - connectByNs < 0 ? deadlineNs : connectByNs;
      SocketChannel channel = SocketChannel.open();
      Connection connection = new Connection(channel, maxFrameBytes, watchdog);
      connection.readGuard.arm(openByNs); // covers the connect and the whole handshake
      try {
        channel.setOption(StandardSocketOptions.TCP_NODELAY, true);
        channel.connect(address);
        connection.handshake(peer, settings);
        return connection;
      } catch (IOException | RuntimeException e) {
        connection.fail("the connection could not be opened");
        if (System.nanoTime() - openByNs >= 0) {
          throw new SocketTimeoutException("no handshake within the deadline");
        }
        throw e;
      } finally {
        connection.readGuard.disarm();
      }
    }

    private void handshake(PeerEndpoint peer, TcpSettings settings) throws IOException {
      ByteBuffer hello = receiveExactly(TcpWire.HELLO_BYTES);
      long magic = hello.getLong();
      int version = hello.getInt();
      int flags = hello.getInt();
      long tokenHi = hello.getLong();
      long tokenLo = hello.getLong();
      long node = hello.getLong();
      byte[] nonce = new byte[TcpWire.NONCE_BYTES];
      hello.get(nonce);
      if (magic != TcpWire.HELLO_MAGIC || version != TcpWire.VERSION) {
        throw new IOException("the port does not speak the pekko-dsm read protocol v1");
      }
      ArenaEndpoint arena = peer.arena();
      if (tokenHi != arena.tokenHi() || tokenLo != arena.tokenLo() || node != arena.node()) {
        throw new IOException(
            "the port serves another arena (node "
                + Long.toHexString(node)
                + "): the peer restarted, or the address is wrong");
      }
      if ((flags & TcpWire.FLAG_SECRET) != 0 && !settings.hasSecret()) {
        throw new IOException(
            "the peer requires a shared secret and none is configured (pekko.dsm.tcp.secret)");
      }
      ByteBuffer auth = ByteBuffer.allocate(TcpWire.AUTH_BYTES).order(ByteOrder.LITTLE_ENDIAN);
      auth.putLong(TcpWire.HELLO_MAGIC);
      auth.put(TcpWire.mac(settings.secret(), nonce, tokenHi, tokenLo));
      auth.flip();
      while (auth.hasRemaining()) {
        channel.write(auth);
      }
      ByteBuffer accept = receiveExactly(TcpWire.ACCEPT_BYTES);
      int acceptMagic = accept.getInt();
      int status = accept.getInt();
      if (acceptMagic != TcpWire.ACCEPT_MAGIC) {
        throw new IOException("the peer answered the handshake with garbage");
      }
      if (status == TcpWire.REFUSED_SECRET) {
        throw new IOException(
            "the peer refused the shared secret: pekko.dsm.tcp.secret differs between nodes");
      }
      if (status != TcpWire.ACCEPTED) {
        throw new IOException("the peer refused the handshake (status " + status + ")");
      }
    }

    /** Reads exactly {@code length} handshake bytes (the server sends nothing more until asked). */
    private ByteBuffer receiveExactly(int length) throws IOException {
      ByteBuffer bytes = ByteBuffer.allocate(length).order(ByteOrder.LITTLE_ENDIAN);
      while (bytes.hasRemaining()) {
        if (channel.read(bytes) < 0) {
          throw new IOException("the connection closed during the handshake");
        }
      }
      return bytes.flip();
    }

    /**
     * Makes one request and waits for its reply. Returns the bytes of the reply copied into {@code
     * out}, the negated wire status, {@link #TIMED_OUT} or {@link #BROKEN}.
     */
    int call(int opcode, int arg, long locator, byte[] body, ReadBuffer out, long deadlineNs) {
      Call call = new Call(ids.incrementAndGet(), opcode, arg, locator, body, out);
      calls.put(call.id, call);
      if (broken) {
        calls.remove(call.id);
        return BROKEN;
      }
      toSend.add(call);
      sendQueued(deadlineNs);
      while (true) {
        int state = call.state.get();
        if (state == Call.DONE) {
          return call.result;
        }
        long leftNs = deadlineNs - System.nanoTime();
        if (leftNs <= 0
            && state == Call.WAITING
            && call.state.compareAndSet(state, Call.ABANDONED)) {
          calls.remove(call.id);
          return TIMED_OUT;
        }
        if (reading.tryLock()) {
          try {
            lead(call, deadlineNs);
          } finally {
            reading.unlock();
          }
          wakeNextLeader(); // whoever still waits must not sleep on replies nobody reads
          continue; // done, or the deadline passed while leading: decided at the top
        }
        LockSupport.parkNanos(this, Math.max(leftNs, 100_000L));
      }
    }

    /**
     * Writes every queued request; whoever holds the write side writes for everyone, by its own
     * deadline.
     */
    private void sendQueued(long deadlineNs) {
      while (!toSend.isEmpty() && writing.tryLock()) {
        try {
          requests.clear();
          Call large = null; // a request too large for the batch buffer: written alone, after it
          for (Call next;
              requests.remaining() >= TcpWire.REQUEST_BYTES && (next = toSend.peek()) != null; ) {
            if (next.requestBytes() > requests.capacity()) {
              large = toSend.poll();
              break;
            }
            if (next.requestBytes() > requests.remaining()) {
              break;
            }
            toSend.poll();
            put(requests, next);
          }
          requests.flip();
          writeGuard.arm(deadlineNs);
          try {
            while (requests.hasRemaining()) {
              channel.write(requests);
            }
            if (large != null) {
              ByteBuffer alone =
                  ByteBuffer.allocate(large.requestBytes()).order(ByteOrder.LITTLE_ENDIAN);
              put(alone, large);
              alone.flip();
              while (alone.hasRemaining()) {
                channel.write(alone);
              }
            }
          } finally {
            writeGuard.disarm();
          }
        } catch (IOException e) {
          fail("write failed: " + e.getMessage());
        } finally {
          writing.unlock();
        }
      }
    }

    private static void put(ByteBuffer to, Call call) {
      to.putInt(call.opcode).putInt(call.arg).putLong(call.id).putLong(call.locator);
      if (call.body != null) {
        to.put(call.body);
      }
    }

    /**
     * Reads replies, handing each to its caller, until {@code mine} is done or the deadline passes.
     * A leader whose own reply is half-read at its deadline leaves the rest of it to be skipped.
     */
    private void lead(Call mine, long deadlineNs) {
      try {
        while (true) {
          handOutStaged();
          if (mine.state.get() == Call.DONE) {
            return;
          }
          if (deadlineNs - System.nanoTime() <= 0) {
            if (current == mine) {
              current = null; // the rest of this body is skipped by whoever reads next
              mine.result = TIMED_OUT;
              mine.state.set(Call.DONE);
            }
            return;
          }
          readGuard.arm(deadlineNs);
          try {
            receive();
          } finally {
            readGuard.disarm();
          }
        }
      } catch (IOException e) {
        Call filling = current;
        current = null;
        if (filling != null) {
          filling.result = BROKEN;
          filling.state.set(Call.DONE);
          LockSupport.unpark(filling.waiter);
        }
        fail(e.getMessage());
      }
    }

    /**
     * One blocking read: the rest of a body larger than the staging buffer goes straight into its
     * caller's buffer, anything else into the staging buffer.
     */
    private void receive() throws IOException {
      int n;
      int rest = bodyLength - bodyRead;
      if (current != null && rest >= STAGING_BYTES) {
        // The staging buffer is empty: handOutStaged() moved all of it into this body.
        n = channel.read(ByteBuffer.wrap(current.out.bytes(), bodyRead, rest));
        if (n > 0) {
          bodyRead += n;
        }
      } else {
        staging.compact();
        try {
          n = channel.read(staging);
        } finally {
          staging.flip();
        }
      }
      if (n < 0) {
        throw new IOException("the peer closed the connection");
      }
    }

    /**
     * Hands every reply the staging buffer holds to its caller, and the start of a reply it holds
     * only in part.
     */
    private void handOutStaged() throws IOException {
      while (true) {
        if (bodyLength < 0) {
          if (staging.remaining() < TcpWire.REPLY_HEADER_BYTES) {
            return;
          }
          long id = staging.getLong();
          int status = staging.getInt();
          int length = staging.getInt();
          boolean known = status >= TcpWire.COPIED && status <= TcpWire.LAST_STATUS;
          if (!known
              || length < 0
              || length > maxFrameBytes + TcpWire.MAX_PREFIX_BYTES
              || (status != TcpWire.COPIED && length != 0)) {
            throw new IOException(
                "the peer sent a malformed reply (status " + status + ", length " + length + ")");
          }
          Call call = calls.remove(id);
          current =
              call != null && call.state.compareAndSet(Call.WAITING, Call.FILLING) ? call : null;
          bodyLength = length;
          bodyRead = 0;
          if (current != null) {
            current.result = status == TcpWire.COPIED ? length : -status;
            current.out.ensureCapacity(length);
          }
        }
        int take = Math.min(staging.remaining(), bodyLength - bodyRead);
        if (take > 0) {
          if (current != null) {
            staging.get(current.out.bytes(), bodyRead, take);
          } else {
            staging.position(staging.position() + take);
          }
          bodyRead += take;
        }
        if (bodyRead < bodyLength) {
          return;
        }
        Call done = current;
        current = null;
        bodyLength = -1;
        if (done != null) {
          done.out.length(Math.max(0, done.result));
          done.state.set(Call.DONE);
          if (done.waiter != Thread.currentThread()) {
            LockSupport.unpark(done.waiter);
          }
        }
      }
    }

    /** Lets a waiting caller take over reading, so no reply sits unread. */
    private void wakeNextLeader() {
      Call filling = current;
      if (filling != null) {
        LockSupport.unpark(filling.waiter);
        return;
      }
      if (calls.isEmpty()) {
        return;
      }
      for (Call waiting : calls.values()) {
        if (waiting.state.get() == Call.WAITING) {
          LockSupport.unpark(waiting.waiter);
          return;
        }
      }
    }

    /** Marks the connection broken, closes it (ending any blocked call) and fails every call. */
    void fail(String why) {
      broken = true;
      readGuard.remove();
      writeGuard.remove();
      try {
        channel.close();
      } catch (IOException e) {
        // closing a broken socket: nothing more to do
      }
      // A call being filled is completed by its leader, whose read fails now that the socket is
      // closed; every waiting call is failed here.
      for (Call call : calls.values()) {
        if (call.state.compareAndSet(Call.WAITING, Call.FILLING)) {
          call.result = BROKEN;
          call.state.set(Call.DONE);
          LockSupport.unpark(call.waiter);
        }
      }
      calls.clear();
    }
  }
}
