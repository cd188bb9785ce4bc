package dev.pekkodsm.memory;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.ClosedSelectorException;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.security.SecureRandom;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Serves one-sided reads of a node's arena over tcp, for peers on other hosts: a read names a slot,
 * the server copies the slot's frame under its seqlock and sends the bytes. No actor, no object
 * table and no lock of the node is involved, so a read never waits for the owner (one-sided
 * semantics over a two-sided wire). The protocol is in {@code TcpWire}. This class accepts,
 * authenticates, frames and flushes; {@link TcpRequestHandler} answers each request.
 *
 * <p>Runs on its own selector threads ({@link TcpSettings#serverThreads()}). Hostile clients cost
 * only their own connection: a bad handshake, an unknown opcode, a handshake or request left
 * half-sent past {@link TcpSettings#handshakeTimeout()}, or a client that stops reading its replies
 * for {@link TcpSettings#writeStallTimeout()} is closed; a request for any locator is
 * bounds-checked against the arena's segments and answered; connections beyond {@link
 * TcpSettings#maxConnections()}, or beyond {@link TcpSettings#maxConnectionsPerAddress()} from one
 * remote address, are closed on arrival, and an authenticated connection on which no request
 * arrives for {@link TcpSettings#idleTimeout()} is closed (its reader reconnects on its next read),
 * so idle clients cannot hold the server's connections for ever. Nothing outside the arena's mapped
 * segments is ever read.
 *
 * <p>The port must be reachable only by cluster members: without {@link TcpSettings#secret()} any
 * client that reaches it can read every published snapshot, so the server refuses to listen on an
 * address other hosts can reach without a secret unless {@link TcpSettings#allowWithoutSecret()}.
 * The secret authenticates clients; it does not encrypt the traffic.
 *
 * <p>Thread-safe.
 */
public final class TcpReadServer implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(TcpReadServer.class);
  private static final long SWEEP_MS = 100;
  private static final int HIGH_WATER_BYTES = 256 * 1024;
  private static final int OUT_BYTES = 64 * 1024;
  private static final int OUT_KEPT_BYTES = 1024 * 1024;

  private final SnapshotArena arena;
  private final SyncRegion region; // null: no one-sided writes
  private final TcpSettings settings;
  private final ServerSocketChannel server;
  private final Loop[] loops;
  private final AtomicInteger open = new AtomicInteger();
  private final ConcurrentHashMap<InetAddress, Integer> perAddress = new ConcurrentHashMap<>();
  private final SecureRandom random = new SecureRandom();
  private final LongAdder accepted = new LongAdder();
  private final LongAdder refused = new LongAdder();
  private final LongAdder refusedPerAddress = new LongAdder();
  private final LongAdder closedIdle = new LongAdder();
  private final LongAdder served = new LongAdder();
  private final LongAdder bytesServed = new LongAdder();
  private final LongAdder messagesAnswered = new LongAdder();
  private final LongAdder closedForMisbehaviour = new LongAdder();
  private int nextLoop;
  private volatile MessageHandler messages;
  private volatile boolean closed;

  /**
   * Answers the messages peers send through {@link TcpTransport.Messenger}: the node's own
   * protocols riding on this server's connections (authenticated as reads are).
   */
  @FunctionalInterface
  public interface MessageHandler {
    /**
     * The answer to {@code body}, sent on {@code channel}: a future of its bytes, sent back once it
     * completes; null, or a future failed or completed with null, refuses it. Runs on a server
     * thread, which serves other connections meanwhile: work that waits for anything must run
     * elsewhere and complete the future from there.
     */
    CompletableFuture<byte[]> answer(long channel, byte[] body);
  }

  private TcpReadServer(
      SnapshotArena arena, SyncRegion region, TcpSettings settings, ServerSocketChannel server)
      throws IOException {
    this.arena = arena;
    this.region = region;
    this.settings = settings;
    this.server = server;
    this.loops = new Loop[settings.serverThreads()];
    for (int i = 0; i < loops.length; i++) {
      loops[i] = new Loop(i);
    }
  }

  /** Answers messages with {@code handler} from now on (null: refuses them, as at start). */
  public void handleMessages(MessageHandler handler) {
    this.messages = handler;
  }

  /**
   * Binds the read server and starts its threads.
   *
   * @throws IOException if the address cannot be bound
   * @throws IllegalArgumentException if the address is reachable from other hosts and there is no
   *     secret (see {@link TcpSettings#exposureProblem})
   */
  public static TcpReadServer start(SnapshotArena arena, TcpSettings settings) throws IOException {
    return start(arena, null, settings);
  }

  /**
   * Binds the read server, serving the node's sync region too (one-sided operations on its cells
   * and value slots), and starts its threads.
   *
   * @param region the node's sync region, or null to serve reads of the arena only
   * @throws IOException if the address cannot be bound
   * @throws IllegalArgumentException if the address is reachable from other hosts and there is no
   *     secret (see {@link TcpSettings#exposureProblem})
   */
  public static TcpReadServer start(SnapshotArena arena, SyncRegion region, TcpSettings settings)
      throws IOException {
    InetSocketAddress bind = new InetSocketAddress(settings.bindHost(), settings.port());
    if (bind.isUnresolved()) {
      throw new UnknownHostException("cannot resolve " + settings.bindHost());
    }
    String exposed = settings.exposureProblem(bind.getAddress());
    if (exposed != null) {
      throw new IllegalArgumentException(exposed);
    }
    ServerSocketChannel channel = ServerSocketChannel.open();
    try {
      channel.setOption(StandardSocketOptions.SO_REUSEADDR, true);
      channel.bind(bind, 1024);
      channel.configureBlocking(false);
      TcpReadServer server = new TcpReadServer(arena, region, settings, channel);
      server.loops[0].selector.wakeup();
      channel.register(server.loops[0].selector, SelectionKey.OP_ACCEPT);
      long node = arena.endpoint().node();
      for (Loop loop : server.loops) {
        Thread thread =
            new Thread(loop, "pekko-dsm-tcp-" + Long.toHexString(node) + "-" + loop.index);
        thread.setDaemon(true);
        loop.thread = thread;
        thread.start();
      }
      return server;
    } catch (IOException | RuntimeException e) {
      channel.close();
      throw e;
    }
  }

  /** The bound address (with the real port when 0 was asked for). */
  public InetSocketAddress address() {
    try {
      return (InetSocketAddress) server.getLocalAddress();
    } catch (IOException e) {
      throw new IllegalStateException("the read server is closed", e);
    }
  }

  /** Connections open now. */
  public int connections() {
    return open.get();
  }

  /** Connections accepted since start. */
  public long acceptedConnections() {
    return accepted.sum();
  }

  /** Connections closed on arrival because {@link TcpSettings#maxConnections()} were open. */
  public long refusedConnections() {
    return refused.sum();
  }

  /**
   * Connections closed on arrival because their address already held {@link
   * TcpSettings#maxConnectionsPerAddress()}.
   */
  public long refusedConnectionsPerAddress() {
    return refusedPerAddress.sum();
  }

  /** Authenticated connections closed after {@link TcpSettings#idleTimeout()} without a request. */
  public long idleConnectionsClosed() {
    return closedIdle.sum();
  }

  /** Read requests answered. */
  public long readsServed() {
    return served.sum();
  }

  /** Messages answered by the node's handler (refusals not counted). */
  public long messagesAnswered() {
    return messagesAnswered.sum();
  }

  /** Frame bytes, and message answers' bytes, sent in replies. */
  public long bytesServed() {
    return bytesServed.sum();
  }

  /**
   * Connections closed for misbehaving: a bad handshake, an unknown opcode, a stalled handshake or
   * request, or replies left unread.
   */
  public long misbehavingConnections() {
    return closedForMisbehaviour.sum();
  }

  /** Stops the server and closes every connection. Idempotent. */
  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    try {
      server.close();
    } catch (IOException e) {
      log.debug("closing the read server: {}", e.toString());
    }
    for (Loop loop : loops) {
      loop.selector.wakeup();
      Thread thread = loop.thread;
      if (thread != null && thread != Thread.currentThread()) {
        try {
          thread.join(1000);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
    }
  }

  /** One selector thread and the connections it serves. */
  private final class Loop implements Runnable {
    final int index;
    final Selector selector;
    final ConcurrentLinkedQueue<Accepted> incoming = new ConcurrentLinkedQueue<>();
    final ConcurrentLinkedQueue<Runnable> answered = new ConcurrentLinkedQueue<>();
    final Set<Connection> connections = new HashSet<>();
    final TcpRequestHandler handler =
        new TcpRequestHandler(arena, region, served, bytesServed, messagesAnswered, () -> messages);
    volatile Thread thread;
    long lastSweepNs = System.nanoTime();

    Loop(int index) throws IOException {
      this.index = index;
      this.selector = Selector.open();
    }

    @Override
    public void run() {
      try {
        while (!closed) {
          selector.select(SWEEP_MS);
          for (Accepted accepted; (accepted = incoming.poll()) != null; ) {
            adopt(accepted);
          }
          for (Runnable late; (late = answered.poll()) != null; ) {
            late.run();
          }
          Iterator<SelectionKey> keys = selector.selectedKeys().iterator();
          while (keys.hasNext()) {
            SelectionKey key = keys.next();
            keys.remove();
            if (!key.isValid()) {
              continue;
            }
            if (key.isAcceptable()) {
              acceptAll();
            } else {
              Connection connection = (Connection) key.attachment();
              connection.onReady(key);
            }
          }
          long now = System.nanoTime();
          if (now - lastSweepNs >= SWEEP_MS * 1_000_000L) {
            lastSweepNs = now;
            sweep(now);
          }
        }
      } catch (IOException | ClosedSelectorException e) {
        if (!closed) {
          log.error("tcp read server loop {} failed; its connections are closed", index, e);
        }
      } finally {
        for (Connection connection : List.copyOf(connections)) {
          connection.close();
        }
        for (Accepted accepted; (accepted = incoming.poll()) != null; ) {
          quietClose(accepted.channel());
          released(accepted.address());
        }
        try {
          selector.close();
        } catch (IOException e) {
          log.debug("closing a selector: {}", e.toString());
        }
      }
    }

    private void acceptAll() throws IOException {
      for (SocketChannel channel; (channel = server.accept()) != null; ) {
        InetAddress address = remoteAddress(channel);
        if (open.incrementAndGet() > settings.maxConnections()) {
          open.decrementAndGet();
          refused.increment();
          quietClose(channel);
          continue;
        }
        if (perAddress.merge(address, 1, Integer::sum) > settings.maxConnectionsPerAddress()) {
          released(address);
          refusedPerAddress.increment();
          quietClose(channel);
          continue;
        }
        accepted.increment();
        Loop target = loops[nextLoop];
        nextLoop = (nextLoop + 1) % loops.length;
        if (target == this) {
          adopt(new Accepted(channel, address));
        } else {
          target.incoming.add(new Accepted(channel, address));
          target.selector.wakeup();
        }
      }
    }

    private void adopt(Accepted accepted) {
      SocketChannel channel = accepted.channel();
      try {
        channel.configureBlocking(false);
        channel.setOption(StandardSocketOptions.TCP_NODELAY, true);
        Connection connection = new Connection(this, channel, accepted.address());
        connection.key = channel.register(selector, SelectionKey.OP_WRITE, connection);
        connections.add(connection);
      } catch (IOException e) {
        quietClose(channel);
        released(accepted.address());
      }
    }

    private void sweep(long now) {
      for (Connection connection : List.copyOf(connections)) {
        connection.checkTimeouts(now);
      }
    }
  }

  /** A connection accepted by one loop and handed to another, with its remote address. */
  private record Accepted(SocketChannel channel, InetAddress address) {}

  private static InetAddress remoteAddress(SocketChannel channel) {
    try {
      return ((InetSocketAddress) channel.getRemoteAddress()).getAddress();
    } catch (IOException | RuntimeException e) {
      return InetAddress.getLoopbackAddress(); // closed already: counted and released at once
    }
  }

  /** A connection from {@code address} is gone: it no longer counts against any limit. */
  private void released(InetAddress address) {
    open.decrementAndGet();
    perAddress.computeIfPresent(address, (a, n) -> n <= 1 ? null : n - 1);
  }

  /**
   * One client connection, confined to its loop's thread. Replies are assembled in a direct buffer:
   * a slot is copied into it once and written from it with no further copy.
   */
  private final class Connection implements TcpRequestHandler.Replies {
    final Loop loop;
    final SocketChannel channel;
    ByteBuffer in = ByteBuffer.allocate(64 * TcpWire.REQUEST_BYTES);
    ByteBuffer out = ByteBuffer.allocateDirect(OUT_BYTES);
    final byte[] nonce = new byte[TcpWire.NONCE_BYTES];
    final InetAddress address;
    final long openedNs = System.nanoTime();
    long lastRequestNs = openedNs;
    SelectionKey key;
    boolean authenticated;
    boolean closing;
    long partialSinceNs;
    long stalledSinceNs;
    int awaited; // messages whose answers are still being made

    Connection(Loop loop, SocketChannel channel, InetAddress address) {
      this.loop = loop;
      this.channel = channel;
      this.address = address;
      in.order(ByteOrder.LITTLE_ENDIAN);
      out.order(ByteOrder.LITTLE_ENDIAN);
      random.nextBytes(nonce);
      ArenaEndpoint endpoint = arena.endpoint();
      out.putLong(TcpWire.HELLO_MAGIC)
          .putInt(TcpWire.VERSION)
          .putInt(settings.hasSecret() ? TcpWire.FLAG_SECRET : 0)
          .putLong(endpoint.tokenHi())
          .putLong(endpoint.tokenLo())
          .putLong(endpoint.node())
          .put(nonce);
    }

    void onReady(SelectionKey ready) {
      try {
        if (ready.isWritable() && !flush()) {
          return;
        }
        if (closing) {
          close();
          return;
        }
        if (ready.isReadable()) {
          int n = channel.read(in);
          if (n < 0) {
            close();
            return;
          }
        }
        process();
      } catch (IOException e) {
        close();
      }
    }

    /** Handles every complete message buffered, as long as replies fit under the high water. */
    private void process() throws IOException {
      in.flip();
      try {
        if (!authenticated) {
          if (in.remaining() < TcpWire.AUTH_BYTES) {
            return;
          }
          authenticate(); // a refused client's bytes are dropped; the refusal is flushed below
        }
        while (in.remaining() >= TcpWire.REQUEST_BYTES && out.position() < HIGH_WATER_BYTES) {
          int start = in.position();
          int opcode = in.getInt(start);
          int arg = in.getInt(start + 4);
          int body = TcpWire.bodyBytes(opcode, arg, arena.settings().maxFrameBytes());
          if (body < 0) {
            misbehaved();
            in.clear();
            return;
          }
          if (in.remaining() < TcpWire.REQUEST_BYTES + body) {
            if (in.capacity() < TcpWire.REQUEST_BYTES + body) {
              ByteBuffer bigger = ByteBuffer.allocate(TcpWire.REQUEST_BYTES + body);
              bigger.order(ByteOrder.LITTLE_ENDIAN).put(in).flip(); // a write's frame: room for it
              in = bigger;
            }
            break; // the rest of the request has not arrived yet
          }
          in.position(start + 8);
          long id = in.getLong();
          long locator = in.getLong();
          loop.handler.handle(opcode, arg, id, locator, in, this);
          lastRequestNs = System.nanoTime();
        }
      } finally {
        in.compact();
        if (in.position() == 0) {
          partialSinceNs = 0;
        } else if (partialSinceNs == 0) {
          partialSinceNs = System.nanoTime();
        }
      }
      if (channel.isOpen()) {
        flush(); // a refusal goes out, then flush closes the connection
      }
    }

    /** Answers message {@code id} on this loop's thread once {@code answer} completes. */
    @Override
    public void later(long id, CompletableFuture<byte[]> answer) {
      awaited++;
      answer.whenComplete(
          (bytes, failure) -> {
            loop.answered.add(() -> answerNow(id, answer));
            loop.selector.wakeup();
          });
    }

    private void answerNow(long id, CompletableFuture<byte[]> answer) {
      awaited--;
      if (!loop.connections.contains(this)) {
        return; // closed meanwhile: the client's deadline covers the lost answer
      }
      loop.handler.answer(this, id, answer);
      try {
        flush();
      } catch (IOException e) {
        close();
      }
    }

    private void authenticate() {
      long magic = in.getLong();
      byte[] mac = new byte[TcpWire.MAC_BYTES];
      in.get(mac);
      ArenaEndpoint endpoint = arena.endpoint();
      int status;
      if (magic != TcpWire.HELLO_MAGIC) {
        status = TcpWire.REFUSED_PROTOCOL;
      } else if (settings.hasSecret()
          && !TcpWire.sameMac(
              mac, TcpWire.mac(settings.secret(), nonce, endpoint.tokenHi(), endpoint.tokenLo()))) {
        status = TcpWire.REFUSED_SECRET;
      } else {
        status = TcpWire.ACCEPTED;
      }
      room(TcpWire.ACCEPT_BYTES).putInt(TcpWire.ACCEPT_MAGIC).putInt(status);
      if (status == TcpWire.ACCEPTED) {
        authenticated = true;
        lastRequestNs = System.nanoTime();
      } else {
        closedForMisbehaviour.increment();
        closing = true; // the refusal is sent, then the connection closes
        in.position(in.limit());
      }
    }

    /**
     * Grows {@code out}, keeping its content, so that {@code bytes} more fit after its position.
     */
    @Override
    public ByteBuffer room(int bytes) {
      if (out.remaining() < bytes) {
        ByteBuffer bigger =
            ByteBuffer.allocateDirect(Math.max(out.capacity() * 2, out.position() + bytes))
                .order(ByteOrder.LITTLE_ENDIAN);
        out.flip();
        bigger.put(out);
        out = bigger;
      }
      return out;
    }

    /**
     * Writes what is pending. True when everything went out: reading resumes. False when the socket
     * is full: only write interest remains, so a client that does not read its replies stops being
     * read from (and is closed after the stall timeout).
     */
    private boolean flush() throws IOException {
      out.flip();
      try {
        if (out.hasRemaining()) {
          channel.write(out);
        }
        if (out.hasRemaining()) {
          if (stalledSinceNs == 0) {
            stalledSinceNs = System.nanoTime();
          }
          key.interestOps(SelectionKey.OP_WRITE);
          return false;
        }
      } finally {
        out.compact();
      }
      stalledSinceNs = 0;
      if (closing) {
        close();
        return false;
      }
      if (out.capacity() > OUT_KEPT_BYTES) {
        out =
            ByteBuffer.allocateDirect(OUT_BYTES).order(ByteOrder.LITTLE_ENDIAN); // let a big one go
      }
      key.interestOps(SelectionKey.OP_READ);
      if (authenticated && wholeRequestBuffered()) {
        process(); // requests left over when the replies hit the high water
      }
      return true;
    }

    /**
     * Whether the bytes buffered (from the start of {@code in}, which is being filled) hold a whole
     * request, or one that is no request at all (for {@link #process} to refuse): a request whose
     * body is still arriving waits for the next read.
     */
    private boolean wholeRequestBuffered() {
      if (in.position() < TcpWire.REQUEST_BYTES) {
        return false;
      }
      int body = TcpWire.bodyBytes(in.getInt(0), in.getInt(4), arena.settings().maxFrameBytes());
      return body < 0 || in.position() >= TcpWire.REQUEST_BYTES + body;
    }

    void checkTimeouts(long now) {
      long handshakeNs = settings.handshakeTimeout().toNanos();
      if (!authenticated && now - openedNs > handshakeNs) {
        misbehaved();
      } else if (partialSinceNs != 0 && now - partialSinceNs > handshakeNs) {
        misbehaved();
      } else if (stalledSinceNs != 0
          && now - stalledSinceNs > settings.writeStallTimeout().toNanos()) {
        misbehaved();
      } else if (authenticated
          && partialSinceNs == 0
          && stalledSinceNs == 0
          && out.position() == 0
          && awaited == 0
          && now - lastRequestNs > settings.idleTimeout().toNanos()) {
        closedIdle.increment();
        close();
      }
    }

    private void misbehaved() {
      closedForMisbehaviour.increment();
      close();
    }

    void close() {
      if (loop.connections.remove(this)) {
        released(address);
      }
      if (key != null) {
        key.cancel();
      }
      quietClose(channel);
    }
  }

  private static void quietClose(SocketChannel channel) {
    try {
      channel.close();
    } catch (IOException e) {
      log.debug("closing a connection: {}", e.toString());
    }
  }
}
