package dev.pekkodsm.memory;

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
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;

/**
 * One socket to a peer's {@link TcpReadServer}, shared by every reading thread {@link TcpTransport}
 * maps to it: the handshake, and the pipelined requests and replies of {@link #call}.
 *
 * <p>Concurrent callers' requests are written together in one write (batching), and whichever
 * waiting caller holds the read side reads replies for everyone, handing each to its caller
 * (leader/follower). Replies are read through a direct staging buffer, so a reply usually takes one
 * system call, header and body together. A call blocked past its deadline is released by the
 * watchdog, which closes the socket; the connection is then broken and every call on it fails with
 * {@link #BROKEN}.
 *
 * <p>Kept apart from {@link TcpTransport} so that the transport reads as the choice of connection
 * and the meaning of each request, and this class as the life of one request on the wire.
 */
final class TcpConnection {
  // Results of call() that are not the negated wire status of a reply: kept clear of those.
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
  volatile long lastCallNs = System.nanoTime(); // when a call last began on this connection

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

  private TcpConnection(SocketChannel channel, int maxFrameBytes, TcpWatchdog watchdog) {
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
  static TcpConnection open(
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
    TcpConnection connection = new TcpConnection(channel, maxFrameBytes, watchdog);
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
    lastCallNs = System.nanoTime();
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
      if (leftNs <= 0 && state == Call.WAITING && call.state.compareAndSet(state, Call.ABANDONED)) {
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
   * Reads replies, handing each to its caller, until {@code mine} is done or the deadline passes. A
   * leader whose own reply is half-read at its deadline leaves the rest of it to be skipped.
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
            || length
                > Math.max(maxFrameBytes + TcpWire.MAX_PREFIX_BYTES, TcpWire.MAX_MESSAGE_BYTES)
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
}
