package dev.pekkodsm.memory;

import dev.pekkodsm.serialization.internal.SnapshotCodec;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReferenceArray;
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
 * reader pays one wake-up per read, as a plain blocking echo would. Every read honours its
 * deadline: it returns {@link ReadStatus#TIMED_OUT} when the peer does not answer in time, and a
 * connection that breaks fails its reads with {@link ReadStatus#UNAVAILABLE}.
 *
 * <p>Thread-safe.
 */
public final class TcpTransport implements OneSidedTransport {

  private static final long CONTENDED_RETRY_NS = 20_000_000L;

  private final SnapshotCodec codec;
  private final int maxFrameBytes;
  private final TcpSettings settings;
  private final AtomicLong connectionsOpened = new AtomicLong();
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

  @Override
  public void close() {
    closed = true;
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
      int index = (int) (Thread.currentThread().getId() % connections.length());
      Connection connection;
      try {
        connection = connection(index, deadlineNs, false);
      } catch (SocketTimeoutException e) {
        return ReadStatus.TIMED_OUT;
      } catch (IOException e) {
        return ReadStatus.UNAVAILABLE;
      }
      int copied = connection.read(locator, out, deadlineNs);
      // A slot a writer held for the server's whole (short) budget is asked for again, within
      // the same retry budget a same-host reader has.
      long retryUntilNs = System.nanoTime() + CONTENDED_RETRY_NS;
      while (copied == -TcpWire.CONTENDED
          && System.nanoTime() - Math.min(retryUntilNs, deadlineNs) < 0) {
        LockSupport.parkNanos(50_000);
        copied = connection.read(locator, out, deadlineNs);
      }
      return switch (copied) {
        case Connection.TIMED_OUT -> ReadStatus.TIMED_OUT;
        case Connection.BROKEN -> ReadStatus.UNAVAILABLE;
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
        Connection fresh = Connection.open(peer, settings, maxFrameBytes, deadlineNs);
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
    final long locator;
    final Thread waiter = Thread.currentThread();
    final ReadBuffer out;
    final AtomicInteger state = new AtomicInteger(WAITING);
    int result; // written before state becomes DONE

    Call(long id, long locator, ReadBuffer out) {
      this.id = id;
      this.locator = locator;
      this.out = out;
    }
  }

  /** One socket to a peer's read server, shared by every reading thread mapped to it. */
  private static final class Connection {
    static final int TIMED_OUT = -100;
    static final int BROKEN = -101;

    private final Socket socket;
    private final InputStream in;
    private final OutputStream outStream;
    private final int maxFrameBytes;
    private final AtomicLong ids = new AtomicLong();
    private final Map<Long, Call> calls = new ConcurrentHashMap<>();
    private final ConcurrentLinkedQueue<Call> toSend = new ConcurrentLinkedQueue<>();
    private final ReentrantLock writing = new ReentrantLock();
    private final ReentrantLock reading = new ReentrantLock();
    volatile boolean broken;

    // Guarded by writing.
    private final ByteBuffer requests =
        ByteBuffer.allocate(64 * TcpWire.REQUEST_BYTES).order(ByteOrder.LITTLE_ENDIAN);

    // The reply being read, guarded by reading: a leader that leaves mid-reply leaves this state
    // for the next one.
    private final byte[] header = new byte[TcpWire.REPLY_HEADER_BYTES];
    private final ByteBuffer headerView = ByteBuffer.wrap(header).order(ByteOrder.LITTLE_ENDIAN);
    private int headerRead;
    private Call current; // the call whose body is being read; null while skipping
    private int bodyLength = -1;
    private int bodyRead;
    private final byte[] skip = new byte[8192];

    private Connection(Socket socket, int maxFrameBytes) throws IOException {
      this.socket = socket;
      this.in = socket.getInputStream();
      this.outStream = socket.getOutputStream();
      this.maxFrameBytes = maxFrameBytes;
    }

    static Connection open(
        PeerEndpoint peer, TcpSettings settings, int maxFrameBytes, long deadlineNs)
        throws IOException {
      long leftMs =
          Math.min(
              settings.connectTimeout().toMillis(),
              Math.max(1, (deadlineNs - System.nanoTime()) / 1_000_000L));
      Socket socket = new Socket();
      try {
        socket.setTcpNoDelay(true);
        socket.connect(new InetSocketAddress(peer.tcpHost(), peer.tcpPort()), (int) leftMs);
        socket.setSoTimeout((int) leftMs);
        handshake(socket, peer, settings);
        return new Connection(socket, maxFrameBytes);
      } catch (IOException | RuntimeException e) {
        socket.close();
        throw e;
      }
    }

    private static void handshake(Socket socket, PeerEndpoint peer, TcpSettings settings)
        throws IOException {
      InputStream in = socket.getInputStream();
      ByteBuffer hello = ByteBuffer.wrap(readFully(in, TcpWire.HELLO_BYTES));
      hello.order(ByteOrder.LITTLE_ENDIAN);
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
      socket.getOutputStream().write(auth.array());
      ByteBuffer accept = ByteBuffer.wrap(readFully(in, TcpWire.ACCEPT_BYTES));
      accept.order(ByteOrder.LITTLE_ENDIAN);
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

    private static byte[] readFully(InputStream in, int length) throws IOException {
      byte[] bytes = in.readNBytes(length);
      if (bytes.length < length) {
        throw new IOException("the connection closed during the handshake");
      }
      return bytes;
    }

    /**
     * Reads one slot. Returns the bytes copied into {@code out}, the negated wire status, {@link
     * #TIMED_OUT} or {@link #BROKEN}.
     */
    int read(long locator, ReadBuffer out, long deadlineNs) {
      Call call = new Call(ids.incrementAndGet(), locator, out);
      calls.put(call.id, call);
      if (broken) {
        calls.remove(call.id);
        return BROKEN;
      }
      toSend.add(call);
      sendQueued();
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

    /** Writes every queued request; whoever holds the write side writes for everyone. */
    private void sendQueued() {
      while (!toSend.isEmpty() && writing.tryLock()) {
        try {
          requests.clear();
          for (Call next;
              requests.remaining() >= TcpWire.REQUEST_BYTES && (next = toSend.poll()) != null; ) {
            requests.putInt(TcpWire.READ_OPCODE).putInt(0).putLong(next.id).putLong(next.locator);
          }
          outStream.write(requests.array(), 0, requests.position());
        } catch (IOException e) {
          fail("write failed: " + e.getMessage());
        } finally {
          writing.unlock();
        }
      }
    }

    /**
     * Reads replies, handing each to its caller, until {@code mine} is done or the deadline passes.
     * A leader whose own reply is half-read at its deadline skips the rest of it.
     */
    private void lead(Call mine, long deadlineNs) {
      try {
        while (mine.state.get() != Call.DONE) {
          long leftNs = deadlineNs - System.nanoTime();
          if (leftNs <= 0) {
            if (current == mine) {
              current = null; // the rest of this body is skipped by whoever reads next
              mine.result = TIMED_OUT;
              mine.state.set(Call.DONE);
              calls.remove(mine.id);
            }
            return;
          }
          socket.setSoTimeout((int) Math.max(1, leftNs / 1_000_000L));
          step();
        }
      } catch (SocketTimeoutException e) {
        // nothing arrived in time; the loop above decides
        if (deadlineNs - System.nanoTime() <= 0 && current == mine) {
          current = null;
          mine.result = TIMED_OUT;
          mine.state.set(Call.DONE);
          calls.remove(mine.id);
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

    /** Reads a little of the current reply; completes its call when the body is in. */
    private void step() throws IOException {
      if (headerRead < header.length) {
        int n = in.read(header, headerRead, header.length - headerRead);
        if (n < 0) {
          throw new IOException("the peer closed the connection");
        }
        headerRead += n;
        if (headerRead < header.length) {
          return;
        }
        long id = headerView.getLong(0);
        int status = headerView.getInt(8);
        int length = headerView.getInt(12);
        if (length < 0 || length > maxFrameBytes || (status != TcpWire.COPIED && length != 0)) {
          throw new IOException("the peer sent a malformed reply (length " + length + ")");
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
      if (bodyRead < bodyLength) {
        int n =
            current != null
                ? in.read(current.out.bytes(), bodyRead, bodyLength - bodyRead)
                : in.read(skip, 0, Math.min(skip.length, bodyLength - bodyRead));
        if (n < 0) {
          throw new IOException("the peer closed the connection");
        }
        bodyRead += n;
        if (bodyRead < bodyLength) {
          return;
        }
      }
      Call done = current;
      headerRead = 0;
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

    /** Lets a waiting caller take over reading, so no reply sits unread. */
    private void wakeNextLeader() {
      Call filling = current;
      if (filling != null) {
        LockSupport.unpark(filling.waiter);
        return;
      }
      for (Call waiting : calls.values()) {
        if (waiting.state.get() == Call.WAITING) {
          LockSupport.unpark(waiting.waiter);
          return;
        }
      }
    }

    /** Marks the connection broken and fails every call on it. */
    void fail(String why) {
      broken = true;
      try {
        socket.close();
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
