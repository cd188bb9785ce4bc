package dev.pekkodsm.memory;

import static dev.pekkodsm.memory.Frames.CODEC;
import static dev.pekkodsm.memory.Frames.MAX_FRAME;
import static dev.pekkodsm.memory.Frames.decode;
import static dev.pekkodsm.memory.Frames.frame;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The conformance suite over {@code tcp}, and what hostile clients may do to the read port. */
class TcpTransportTest extends TransportConformanceTest {

  TcpSettings settings = TcpSettings.loopback();
  final TcpTransport tcp = closeLater(new TcpTransport(CODEC, MAX_FRAME, settings));

  TcpReadServer serve(SnapshotArena arena, TcpSettings serverSettings) throws IOException {
    return closeLater(TcpReadServer.start(arena, serverSettings));
  }

  static PeerEndpoint endpoint(SnapshotArena arena, TcpReadServer server) {
    return PeerEndpoint.shmOnly(arena.endpoint(), "elsewhere")
        .withTcp("127.0.0.1", server.address().getPort());
  }

  @Override
  PeerReader open(SnapshotArena arena) throws Exception {
    return tcp.open(endpoint(arena, serve(arena, settings)));
  }

  /** A server that completes the handshake, then reads requests and never answers one. */
  @Override
  PeerReader unresponsive(SnapshotArena arena, long locator) throws Exception {
    ServerSocket silent = closeLater(silentServer(arena));
    return tcp.open(
        PeerEndpoint.shmOnly(arena.endpoint(), "elsewhere")
            .withTcp("127.0.0.1", silent.getLocalPort()));
  }

  /**
   * A loopback server that completes the handshake for {@code arena}, then reads requests and never
   * answers one: a peer that stopped.
   */
  static ServerSocket silentServer(SnapshotArena arena) throws IOException {
    ServerSocket silent = new ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress());
    Thread acceptor =
        new Thread(
            () -> {
              try (Socket s = silent.accept()) {
                acceptAsServer(s, arena);
                s.getInputStream().transferTo(OutputStream.nullOutputStream());
              } catch (IOException e) {
                // closed by the test
              }
            });
    acceptor.setDaemon(true);
    acceptor.start();
    return silent;
  }

  /** Plays the server's side of the handshake on {@code s}, for {@code arena}, with no secret. */
  static void acceptAsServer(Socket s, SnapshotArena arena) throws IOException {
    ArenaEndpoint a = arena.endpoint();
    ByteBuffer hello = ByteBuffer.allocate(TcpWire.HELLO_BYTES).order(ByteOrder.LITTLE_ENDIAN);
    hello.putLong(TcpWire.HELLO_MAGIC).putInt(TcpWire.VERSION).putInt(0);
    hello.putLong(a.tokenHi()).putLong(a.tokenLo()).putLong(a.node());
    s.getOutputStream().write(hello.array());
    s.getInputStream().readNBytes(TcpWire.AUTH_BYTES);
    ByteBuffer ok = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
    ok.putInt(TcpWire.ACCEPT_MAGIC).putInt(TcpWire.ACCEPTED);
    s.getOutputStream().write(ok.array());
  }

  /** A raw client that completes the handshake, for sending whatever a test wants. */
  static Socket rawClient(TcpReadServer server, SnapshotArena arena, String secret)
      throws IOException {
    return rawClient(server, arena, secret, java.net.InetAddress.getLoopbackAddress());
  }

  /** {@link #rawClient(TcpReadServer, SnapshotArena, String)} from another local address. */
  static Socket rawClient(
      TcpReadServer server, SnapshotArena arena, String secret, java.net.InetAddress from)
      throws IOException {
    Socket s = new Socket("127.0.0.1", server.address().getPort(), from, 0);
    s.setSoTimeout(5000);
    ByteBuffer hello =
        ByteBuffer.wrap(s.getInputStream().readNBytes(TcpWire.HELLO_BYTES))
            .order(ByteOrder.LITTLE_ENDIAN);
    byte[] nonce = new byte[TcpWire.NONCE_BYTES];
    hello.position(40);
    hello.get(nonce);
    ArenaEndpoint a = arena.endpoint();
    ByteBuffer auth = ByteBuffer.allocate(TcpWire.AUTH_BYTES).order(ByteOrder.LITTLE_ENDIAN);
    auth.putLong(TcpWire.HELLO_MAGIC).put(TcpWire.mac(secret, nonce, a.tokenHi(), a.tokenLo()));
    s.getOutputStream().write(auth.array());
    ByteBuffer accept =
        ByteBuffer.wrap(s.getInputStream().readNBytes(TcpWire.ACCEPT_BYTES))
            .order(ByteOrder.LITTLE_ENDIAN);
    assertEquals(TcpWire.ACCEPT_MAGIC, accept.getInt());
    assertEquals(TcpWire.ACCEPTED, accept.getInt());
    return s;
  }

  static byte[] request(long id, long locator) {
    return ByteBuffer.allocate(TcpWire.REQUEST_BYTES)
        .order(ByteOrder.LITTLE_ENDIAN)
        .putInt(TcpWire.READ_OPCODE)
        .putInt(0)
        .putLong(id)
        .putLong(locator)
        .array();
  }

  /** True once the server has closed {@code s} (reads end-of-stream or a reset). */
  static boolean closedByServer(Socket s, long withinMs) throws IOException {
    s.setSoTimeout((int) withinMs);
    InputStream in = s.getInputStream();
    byte[] sink = new byte[64 * 1024];
    long until = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(withinMs);
    try {
      while (System.nanoTime() < until) {
        if (in.read(sink) < 0) {
          return true;
        }
      }
    } catch (SocketTimeoutException e) {
      return false;
    } catch (IOException e) {
      return true; // reset
    }
    return false;
  }

  /** A well-behaved reader, to prove the server still serves everyone else. */
  final class Witness {
    final SnapshotArena arena;
    final PeerReader reader;
    final long locator;

    Witness(SnapshotArena arena, TcpReadServer server) throws Exception {
      this.arena = arena;
      byte[] f = frame("still served", 77, 1);
      this.locator = arena.publish(f, f.length);
      this.reader = closeLater(tcp.open(endpoint(arena, server)));
      assertServed();
    }

    void assertServed() {
      ReadBuffer out = new ReadBuffer(8);
      assertEquals(ReadStatus.OK, reader.read(locator, 77, 1, out, inFiveSeconds()));
      assertEquals("still served", decode(out));
    }
  }

  @Test
  void shouldCloseAConnectionThatSendsGarbageInsteadOfAHandshake() throws Exception {
    SnapshotArena arena = arena(1 << 20, 1);
    TcpReadServer server = serve(arena, settings);
    Witness witness = new Witness(arena, server);
    for (int i = 0; i < 20; i++) {
      try (Socket s = new Socket("127.0.0.1", server.address().getPort())) {
        byte[] garbage = new byte[64 + ThreadLocalRandom.current().nextInt(4096)];
        ThreadLocalRandom.current().nextBytes(garbage);
        s.getOutputStream().write(garbage);
        assertTrue(closedByServer(s, 2000), "garbage handshake closed");
      }
      witness.assertServed();
    }
    assertTrue(server.misbehavingConnections() >= 20, "" + server.misbehavingConnections());
  }

  @Test
  void shouldCloseAConnectionThatSendsAnUnknownOpcode() throws Exception {
    SnapshotArena arena = arena(1 << 20, 1);
    TcpReadServer server = serve(arena, settings);
    Witness witness = new Witness(arena, server);
    try (Socket s = rawClient(server, arena, "")) {
      byte[] garbage = new byte[TcpWire.REQUEST_BYTES * 4];
      ThreadLocalRandom.current().nextBytes(garbage);
      garbage[0] = 0x13; // not "READ"
      s.getOutputStream().write(garbage);
      assertTrue(closedByServer(s, 2000));
    }
    witness.assertServed();
  }

  @Test
  void shouldAnswerHostileLocatorsWithoutReadingOutsideTheArena() throws Exception {
    SnapshotArena arena = arena(1 << 20, 2);
    TcpReadServer server = serve(arena, settings);
    Witness witness = new Witness(arena, server);
    long[] hostile = {
      Long.MAX_VALUE,
      Long.MIN_VALUE,
      -1L,
      0L,
      SlotLayout.locator(1, 4096),
      SlotLayout.locator(0, (1 << 20) - 8),
      SlotLayout.locator(0x7fff, 0),
      SlotLayout.locator(0, 4097)
    };
    try (Socket s = rawClient(server, arena, "")) {
      DataInputStream in = new DataInputStream(s.getInputStream());
      for (int i = 0; i < hostile.length; i++) {
        s.getOutputStream().write(request(i, hostile[i]));
      }
      for (int i = 0; i < hostile.length; i++) {
        ByteBuffer reply = ByteBuffer.wrap(in.readNBytes(TcpWire.REPLY_HEADER_BYTES));
        reply.order(ByteOrder.LITTLE_ENDIAN);
        assertEquals(i, reply.getLong());
        assertEquals(TcpWire.OUT_OF_RANGE, reply.getInt(), Long.toHexString(hostile[i]));
        assertEquals(0, reply.getInt());
      }
      // A slot-aligned locator inside the arena that holds no slot is copied as a header only:
      // the client sees a frame that is not one.
      s.getOutputStream().write(request(99, SlotLayout.locator(0, 512 * 1024)));
      ByteBuffer reply = ByteBuffer.wrap(in.readNBytes(TcpWire.REPLY_HEADER_BYTES));
      reply.order(ByteOrder.LITTLE_ENDIAN);
      assertEquals(99, reply.getLong());
      assertEquals(TcpWire.COPIED, reply.getInt());
      int length = reply.getInt();
      assertTrue(length <= 64, "length " + length);
      byte[] body = in.readNBytes(length);
      assertEquals(ReadStatus.FREED, SlotReads.check(CODEC, body, body.length, Frames.NODE, 1, 0));
    }
    witness.assertServed();
  }

  @Test
  void shouldCloseAHalfSentRequestAfterTheHandshakeTimeout() throws Exception {
    SnapshotArena arena = arena(1 << 20, 1);
    TcpReadServer server =
        serve(arena, settings.withLimits(1024, Duration.ofMillis(300), Duration.ofSeconds(10)));
    Witness witness = new Witness(arena, server);
    try (Socket halfHandshake = new Socket("127.0.0.1", server.address().getPort());
        Socket halfRequest = rawClient(server, arena, "")) {
      halfHandshake.getInputStream().readNBytes(TcpWire.HELLO_BYTES);
      halfHandshake.getOutputStream().write(new byte[10]);
      halfRequest.getOutputStream().write(request(1, witness.locator), 0, 11);
      witness.assertServed();
      assertTrue(closedByServer(halfHandshake, 3000), "half handshake closed");
      assertTrue(closedByServer(halfRequest, 3000), "half request closed");
    }
    witness.assertServed();
    assertTrue(server.misbehavingConnections() >= 2);
  }

  @Test
  void shouldCloseAClientThatNeverReadsItsReplies() throws Exception {
    SnapshotArena arena = arena(4 << 20, 1);
    TcpReadServer server =
        serve(arena, settings.withLimits(1024, Duration.ofSeconds(5), Duration.ofMillis(500)));
    Witness witness = new Witness(arena, server);
    byte[] big = frame(new byte[256 * 1024], 5, 0);
    long bigLocator = arena.publish(big, big.length);
    try (Socket greedy = rawClient(server, arena, "")) {
      greedy.setReceiveBufferSize(4096);
      OutputStream out = greedy.getOutputStream();
      greedy.setSoTimeout(100);
      Thread writer =
          new Thread(
              () -> {
                try {
                  for (int i = 0; i < 100_000; i++) {
                    out.write(request(i, bigLocator));
                  }
                } catch (IOException e) {
                  // the server closed us, as it should
                }
              });
      writer.setDaemon(true);
      writer.start();
      long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(1);
      while (System.nanoTime() < until) {
        witness.assertServed();
      }
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
      while (server.misbehavingConnections() == 0 && System.nanoTime() < deadline) {
        Thread.sleep(20);
      }
      assertEquals(1, server.misbehavingConnections(), "the stalled client was closed");
      writer.join(5000);
    }
    witness.assertServed();
  }

  @Test
  void shouldRefuseConnectionsPastTheLimitAndKeepServingTheOthers() throws Exception {
    SnapshotArena arena = arena(1 << 20, 1);
    TcpReadServer server =
        serve(arena, settings.withLimits(32, Duration.ofSeconds(2), Duration.ofSeconds(10)));
    Witness witness = new Witness(arena, server);
    List<Socket> flood = new ArrayList<>();
    try {
      for (int i = 0; i < 2000; i++) {
        Socket s = new Socket();
        s.connect(new InetSocketAddress("127.0.0.1", server.address().getPort()), 2000);
        flood.add(s);
      }
      witness.assertServed();
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
      while (server.refusedConnections() < 2000 - 31 && System.nanoTime() < deadline) {
        Thread.sleep(10);
      }
      assertTrue(server.refusedConnections() >= 2000 - 31, "" + server.refusedConnections());
      assertTrue(server.connections() <= 32);
    } finally {
      for (Socket s : flood) {
        s.close();
      }
    }
    // The idle flood is gone (closed by us or by the handshake timeout): new readers get in.
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    while (server.connections() > 1 && System.nanoTime() < deadline) {
      Thread.sleep(10);
    }
    try (PeerReader fresh = tcp.open(endpoint(arena, server))) {
      ReadBuffer out = new ReadBuffer(8);
      assertEquals(ReadStatus.OK, fresh.read(witness.locator, 77, 1, out, inFiveSeconds()));
    }
    witness.assertServed();
  }

  @Test
  void shouldRequireTheSharedSecretWhenOneIsSet() throws Exception {
    SnapshotArena arena = arena(1 << 20, 1);
    TcpReadServer server = serve(arena, settings.withSecret("s3cret"));
    PeerEndpoint peer = endpoint(arena, server);
    var none = assertThrows(TransportUnavailableException.class, () -> tcp.open(peer));
    assertTrue(none.getMessage().contains("requires a shared secret"), none.getMessage());
    try (TcpTransport wrong = new TcpTransport(CODEC, MAX_FRAME, settings.withSecret("guess"))) {
      var e = assertThrows(TransportUnavailableException.class, () -> wrong.open(peer));
      assertTrue(e.getMessage().contains("refused the shared secret"), e.getMessage());
    }
    try (TcpTransport right = new TcpTransport(CODEC, MAX_FRAME, settings.withSecret("s3cret"));
        PeerReader reader = right.open(peer)) {
      byte[] f = frame("secret payload", 4, 0);
      long locator = arena.publish(f, f.length);
      ReadBuffer out = new ReadBuffer(8);
      assertEquals(ReadStatus.OK, reader.read(locator, 4, 0, out, inFiveSeconds()));
      assertEquals("secret payload", decode(out));
    }
    assertTrue(server.misbehavingConnections() >= 1, "the wrong secret was refused");
  }

  @Test
  void shouldRefuseAPortServedByAnotherArena() throws Exception {
    SnapshotArena arena = arena(1 << 20, 1);
    SnapshotArena other =
        closeLater(
            SnapshotArena.create(
                Frames.settings(dir.resolve("o"), 1 << 20, 1), Frames.NODE, CODEC));
    TcpReadServer server = serve(other, settings);
    PeerEndpoint wrongPort =
        PeerEndpoint.shmOnly(arena.endpoint(), "x")
            .withTcp("127.0.0.1", server.address().getPort());
    var e = assertThrows(TransportUnavailableException.class, () -> tcp.open(wrongPort));
    assertTrue(e.getMessage().contains("another arena"), e.getMessage());
  }

  /** A socket channel closes itself under an interrupted thread; the transport must not let it. */
  @Test
  void shouldReadOnAnInterruptedThreadAndKeepItsInterrupt() throws Exception {
    SnapshotArena arena = arena(1 << 20, 1);
    PeerReader reader = closeLater(open(arena));
    byte[] f = frame("interrupted", 4, 0);
    long locator = arena.publish(f, f.length);
    ReadBuffer out = new ReadBuffer(8);
    assertEquals(ReadStatus.OK, reader.read(locator, 4, 0, out, inFiveSeconds()));
    long opened = tcp.connectionsOpened();
    Thread.currentThread().interrupt();
    try {
      assertEquals(ReadStatus.OK, reader.read(locator, 4, 0, out, inFiveSeconds()));
      assertTrue(Thread.currentThread().isInterrupted(), "the interrupt is kept");
    } finally {
      Thread.interrupted();
    }
    assertEquals("interrupted", decode(out));
    assertEquals(ReadStatus.OK, reader.read(locator, 4, 0, out, inFiveSeconds()));
    assertEquals(opened, tcp.connectionsOpened(), "the connection was not closed");
  }

  /**
   * A read blocked past its deadline closes its connection; a read waiting on the same connection
   * with a later deadline is answered on a fresh one.
   */
  @Test
  void shouldRetryOnAFreshConnectionWhenAnotherReadsDeadlineClosesIt() throws Exception {
    SnapshotArena arena = arena(1 << 20, 1);
    byte[] f = frame("second connection", 6, 0);
    long locator = arena.publish(f, f.length);
    ServerSocket fake =
        closeLater(new ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress()));
    Thread server =
        new Thread(
            () -> {
              try (Socket first = fake.accept()) {
                acceptAsServer(first, arena); // then never answers
                try (Socket second = fake.accept()) {
                  acceptAsServer(second, arena);
                  DataInputStream in = new DataInputStream(second.getInputStream());
                  byte[] request = new byte[TcpWire.REQUEST_BYTES];
                  while (true) {
                    in.readFully(request);
                    long id = ByteBuffer.wrap(request).order(ByteOrder.LITTLE_ENDIAN).getLong(8);
                    ByteBuffer reply =
                        ByteBuffer.allocate(TcpWire.REPLY_HEADER_BYTES + f.length)
                            .order(ByteOrder.LITTLE_ENDIAN);
                    reply.putLong(id).putInt(TcpWire.COPIED).putInt(f.length).put(f);
                    second.getOutputStream().write(reply.array());
                  }
                }
              } catch (IOException e) {
                // closed by the test
              }
            });
    server.setDaemon(true);
    server.start();
    TcpSettings one =
        new TcpSettings(
            "127.0.0.1",
            0,
            1,
            16,
            1,
            Duration.ofSeconds(2),
            Duration.ofSeconds(5),
            Duration.ofSeconds(10),
            "");
    TcpTransport single = closeLater(new TcpTransport(CODEC, MAX_FRAME, one));
    PeerReader reader =
        closeLater(
            single.open(
                PeerEndpoint.shmOnly(arena.endpoint(), "elsewhere")
                    .withTcp("127.0.0.1", fake.getLocalPort())));
    ReadStatus[] shortRead = new ReadStatus[1];
    Thread impatient =
        new Thread(
            () ->
                shortRead[0] =
                    reader.read(
                        locator,
                        6,
                        0,
                        new ReadBuffer(8),
                        System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(300)));
    impatient.start();
    Thread.sleep(100); // the impatient read now blocks on the only connection
    ReadBuffer out = new ReadBuffer(8);
    assertEquals(ReadStatus.OK, reader.read(locator, 6, 0, out, inFiveSeconds()));
    assertEquals("second connection", decode(out));
    impatient.join();
    assertEquals(ReadStatus.TIMED_OUT, shortRead[0]);
    assertEquals(2, single.connectionsOpened());
  }

  @Test
  void shouldReconnectAfterTheServerDropsTheConnection() throws Exception {
    SnapshotArena arena = arena(1 << 20, 1);
    TcpReadServer first = serve(arena, settings);
    int port = first.address().getPort();
    PeerReader reader = closeLater(tcp.open(endpoint(arena, first)));
    byte[] f = frame("again", 8, 0);
    long locator = arena.publish(f, f.length);
    ReadBuffer out = new ReadBuffer(8);
    assertEquals(ReadStatus.OK, reader.read(locator, 8, 0, out, inFiveSeconds()));
    first.close();
    ReadStatus down = reader.read(locator, 8, 0, out, inFiveSeconds());
    assertTrue(down == ReadStatus.UNAVAILABLE || down == ReadStatus.TIMED_OUT, "status " + down);
    serve(arena, settings.withPort(port)); // the node's server comes back on its port
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    ReadStatus status;
    do {
      status = reader.read(locator, 8, 0, out, inFiveSeconds());
    } while (status != ReadStatus.OK && System.nanoTime() < deadline);
    assertEquals(ReadStatus.OK, status);
    assertEquals("again", decode(out));
  }

  @Test
  void shouldCloseIdleAuthenticatedConnectionsAndKeepBusyOnes() throws Exception {
    SnapshotArena arena = arena(1 << 20, 1);
    TcpReadServer server = serve(arena, settings.withIdleLimits(Duration.ofMillis(600), 64));
    Witness witness = new Witness(arena, server);
    byte[] f = frame("busy", 5, 0);
    long locator = arena.publish(f, f.length);
    try (Socket idle = rawClient(server, arena, "");
        Socket busy = rawClient(server, arena, "")) {
      DataInputStream replies = new DataInputStream(busy.getInputStream());
      long until = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(1800);
      int served = 0;
      while (System.nanoTime() < until) {
        busy.getOutputStream().write(request(served, locator));
        byte[] header = replies.readNBytes(TcpWire.REPLY_HEADER_BYTES);
        int length = ByteBuffer.wrap(header).order(ByteOrder.LITTLE_ENDIAN).getInt(12);
        replies.readNBytes(length);
        served++;
        Thread.sleep(150);
      }
      assertTrue(served > 5, "the busy client was served " + served + " times");
      assertTrue(closedByServer(idle, 3000), "the idle connection was closed");
      assertTrue(server.idleConnectionsClosed() >= 1, "" + server.idleConnectionsClosed());
      busy.getOutputStream().write(request(99, locator));
      assertEquals(
          TcpWire.REPLY_HEADER_BYTES, replies.readNBytes(TcpWire.REPLY_HEADER_BYTES).length);
    }
    // The witness's pooled connection was idle too: its reader reconnects on the next read.
    Thread.sleep(1200);
    witness.assertServed();
    assertEquals(0, server.misbehavingConnections(), "idleness is not misbehaviour");
  }

  @Test
  void shouldServeAWellBehavedReaderWhileOneAddressHoldsItsMaximum() throws Exception {
    SnapshotArena arena = arena(1 << 20, 1);
    TcpReadServer server =
        serve(
            arena,
            settings
                .withLimits(16, Duration.ofSeconds(5), Duration.ofSeconds(10))
                .withIdleLimits(Duration.ofSeconds(60), 4));
    java.net.InetAddress hog = java.net.InetAddress.getByName("127.0.0.2");
    List<Socket> held = new ArrayList<>();
    int refused = 0;
    try {
      // Far more authenticated, idle connections than the server holds in all.
      for (int i = 0; i < 40; i++) {
        try {
          held.add(rawClient(server, arena, "", hog));
        } catch (IOException | RuntimeException | AssertionError e) {
          refused++; // closed on arrival: no greeting to read
        }
      }
      assertEquals(4, held.size(), "one address gets its maximum, and no more");
      assertEquals(36, refused);
      assertTrue(
          server.refusedConnectionsPerAddress() >= 36, "" + server.refusedConnectionsPerAddress());
      Witness witness = new Witness(arena, server);
      try (PeerReader another = tcp.open(endpoint(arena, server))) {
        ReadBuffer out = new ReadBuffer(8);
        assertEquals(ReadStatus.OK, another.read(witness.locator, 77, 1, out, inFiveSeconds()));
      }
      witness.assertServed();
    } finally {
      for (Socket s : held) {
        s.close();
      }
    }
  }

  @Test
  void shouldRefuseToServeBeyondLoopbackWithoutASecret() throws Exception {
    SnapshotArena arena = arena(1 << 20, 1);
    var e =
        assertThrows(
            IllegalArgumentException.class,
            () -> TcpReadServer.start(arena, settings.withBindHost("0.0.0.0")));
    assertTrue(e.getMessage().contains("pekko.dsm.tcp.secret"), e.getMessage());
    assertTrue(e.getMessage().contains("allow-without-secret"), e.getMessage());
    java.net.InetAddress lan = java.net.InetAddress.getByName("10.1.2.3"); // a literal: no lookup
    assertTrue(settings.exposureProblem(lan) != null);
    assertEquals(null, settings.withSecret("s3cret").exposureProblem(lan));
    assertEquals(null, settings.withAllowWithoutSecret(true).exposureProblem(lan));
    assertEquals(
        null, settings.exposureProblem(java.net.InetAddress.getByName("127.0.0.5")), "loopback");
  }

  @Test
  void shouldRefuseASecretOfZerosAndAZeroMacFromAClient() throws Exception {
    for (String zeros : List.of("0", "00000000000000000000000000000000", "\0\0\0\0")) {
      var e = assertThrows(IllegalArgumentException.class, () -> settings.withSecret(zeros));
      assertTrue(e.getMessage().contains("all zeros"), e.getMessage());
    }
    SnapshotArena arena = arena(1 << 20, 1);
    TcpReadServer server = serve(arena, settings.withSecret("s3cret"));
    try (Socket s = new Socket("127.0.0.1", server.address().getPort())) {
      s.setSoTimeout(5000);
      s.getInputStream().readNBytes(TcpWire.HELLO_BYTES);
      ByteBuffer auth = ByteBuffer.allocate(TcpWire.AUTH_BYTES).order(ByteOrder.LITTLE_ENDIAN);
      auth.putLong(TcpWire.HELLO_MAGIC).put(new byte[TcpWire.MAC_BYTES]); // a MAC of zeros
      s.getOutputStream().write(auth.array());
      ByteBuffer accept =
          ByteBuffer.wrap(s.getInputStream().readNBytes(TcpWire.ACCEPT_BYTES))
              .order(ByteOrder.LITTLE_ENDIAN);
      assertEquals(TcpWire.ACCEPT_MAGIC, accept.getInt());
      assertEquals(TcpWire.REFUSED_SECRET, accept.getInt());
      assertTrue(closedByServer(s, 3000));
    }
  }
}
