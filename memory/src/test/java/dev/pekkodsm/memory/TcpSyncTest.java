package dev.pekkodsm.memory;

import static dev.pekkodsm.memory.Frames.CODEC;
import static dev.pekkodsm.memory.Frames.MAX_FRAME;
import static dev.pekkodsm.memory.Frames.frame;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.DataInputStream;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The sync region's conformance suite over {@code tcp}, where the read server performs each
 * operation on the client's behalf, and what hostile clients may send to it.
 */
class TcpSyncTest extends SyncConformanceTest {

  final TcpTransport tcp = closeLater(new TcpTransport(CODEC, MAX_FRAME, TcpSettings.loopback()));

  TcpReadServer serve(SnapshotArena arena, SyncRegion region) throws Exception {
    return closeLater(TcpReadServer.start(arena, region, TcpSettings.loopback()));
  }

  @Override
  PeerReader open(SnapshotArena arena, SyncRegion region) throws Exception {
    return tcp.open(TcpTransportTest.endpoint(arena, serve(arena, region)));
  }

  static byte[] request(int opcode, int arg, long id, long locator, long... body) {
    ByteBuffer b =
        ByteBuffer.allocate(TcpWire.REQUEST_BYTES + 8 * body.length).order(ByteOrder.LITTLE_ENDIAN);
    b.putInt(opcode).putInt(arg).putLong(id).putLong(locator);
    for (long word : body) {
      b.putLong(word);
    }
    return b.array();
  }

  static ByteBuffer reply(DataInputStream in) throws Exception {
    ByteBuffer header = ByteBuffer.wrap(in.readNBytes(TcpWire.REPLY_HEADER_BYTES));
    header.order(ByteOrder.LITTLE_ENDIAN);
    return header;
  }

  @Test
  void shouldAnswerHostileCellOperationsWithAStatusAndChangeNothing() throws Exception {
    TcpReadServer server = serve(arena, region);
    long cell = region.allocateCell(SyncLayout.KIND_ATOMIC, OBJECT);
    region.getAndAdd(cell, OBJECT, SyncLayout.WORD, 41, soon());
    long[] hostileCells = {Long.MAX_VALUE, Long.MIN_VALUE, -1L, cell + 1, cell + 8, 1L << 40};
    try (Socket s = TcpTransportTest.rawClient(server, arena, "")) {
      DataInputStream in = new DataInputStream(s.getInputStream());
      int id = 0;
      for (long hostile : hostileCells) {
        s.getOutputStream()
            .write(request(TcpWire.ADD_OPCODE, SyncLayout.WORD, id, hostile, OBJECT, 1));
        ByteBuffer r = reply(in);
        assertEquals(id++, r.getLong());
        assertEquals(TcpWire.OUT_OF_RANGE, r.getInt(), Long.toHexString(hostile));
        assertEquals(0, r.getInt());
      }
      for (int field : new int[] {-1, SyncLayout.OBJECT, 4096, Integer.MAX_VALUE}) {
        s.getOutputStream().write(request(TcpWire.EXCHANGE_OPCODE, field, id, cell, OBJECT, 0, 9));
        ByteBuffer r = reply(in);
        assertEquals(id++, r.getLong());
        assertEquals(TcpWire.OUT_OF_RANGE, r.getInt(), "field " + field);
      }
      s.getOutputStream()
          .write(request(TcpWire.ADD_OPCODE, SyncLayout.WORD, id, cell, OBJECT + 7, 1000));
      ByteBuffer r = reply(in);
      assertEquals(id++, r.getLong());
      assertEquals(TcpWire.NOT_THIS_OBJECT, r.getInt(), "another object's cell");
      s.getOutputStream().write(request(TcpWire.LOAD_OPCODE, SyncLayout.WORD, id, cell, OBJECT));
      r = reply(in);
      assertEquals(id, r.getLong());
      assertEquals(TcpWire.COPIED, r.getInt());
      assertEquals(8, r.getInt());
      assertEquals(41, Long.reverseBytes(in.readLong()), "the connection still serves");
    }
    assertEquals(41, region.load(cell, OBJECT, SyncLayout.WORD, soon()), "nothing changed");
  }

  @Test
  void shouldAnswerHostileExchangeReadsWithAStatusAndKeepServing() throws Exception {
    TcpReadServer server = serve(arena, region);
    long cell = region.allocateCell(SyncLayout.KIND_MUTEX, OBJECT);
    byte[] f = frame("kept", OBJECT, 1);
    long slot = region.allocateValue(f, f.length, 64);
    region.compareAndExchange(cell, OBJECT, SyncLayout.LOCATOR_A, 0, slot, soon());
    region.compareAndExchange(cell, OBJECT, SyncLayout.LOCATOR_B, 0, slot + 8, soon()); // no slot
    long free = 1L << 40;
    region.compareAndExchange(cell, OBJECT, SyncLayout.WORD, 0, free, soon());
    int op = TcpWire.EXCHANGE_READ_OPCODE;
    long[] hostileCells = {Long.MAX_VALUE, Long.MIN_VALUE, -1L, cell + 1, cell + 8, 1L << 40};
    try (Socket s = TcpTransportTest.rawClient(server, arena, "")) {
      DataInputStream in = new DataInputStream(s.getInputStream());
      int id = 0;
      for (long hostile : hostileCells) {
        s.getOutputStream().write(request(op, 33, id, hostile, OBJECT, free, free | 5, -1));
        ByteBuffer r = reply(in);
        assertEquals(id++, r.getLong());
        assertEquals(TcpWire.OUT_OF_RANGE, r.getInt(), Long.toHexString(hostile));
        assertEquals(0, r.getInt());
      }
      for (int bit : new int[] {-1, 64, Integer.MAX_VALUE, Integer.MIN_VALUE}) {
        s.getOutputStream().write(request(op, bit, id, cell, OBJECT, free, free | 5, -1));
        ByteBuffer r = reply(in);
        assertEquals(id++, r.getLong());
        assertEquals(TcpWire.OUT_OF_RANGE, r.getInt(), "selector bit " + bit);
        assertEquals(0, r.getInt());
      }
      s.getOutputStream().write(request(op, 33, id, cell, OBJECT + 7, free, free | 5, -1));
      ByteBuffer r = reply(in);
      assertEquals(id++, r.getLong());
      assertEquals(TcpWire.NOT_THIS_OBJECT, r.getInt(), "another object's cell");
      assertEquals(0, r.getInt());
      assertEquals(free, region.load(cell, OBJECT, SyncLayout.WORD, soon()), "nothing exchanged");

      // A word that selects a locator naming no slot: exchanged, and the reply says so, with the
      // failed read in its body.
      long onB = free | (1L << 33);
      region.compareAndExchange(cell, OBJECT, SyncLayout.WORD, free, onB, soon());
      s.getOutputStream().write(request(op, 33, id, cell, OBJECT, onB, onB | 5, -1));
      r = reply(in);
      assertEquals(id++, r.getLong());
      assertEquals(TcpWire.COPIED, r.getInt());
      assertEquals(TcpWire.EXCHANGE_READ_PREFIX_BYTES, r.getInt());
      ByteBuffer body = ByteBuffer.wrap(in.readNBytes(TcpWire.EXCHANGE_READ_PREFIX_BYTES));
      body.order(ByteOrder.LITTLE_ENDIAN);
      assertEquals(onB, body.getLong(), "the witness: exchanged");
      assertEquals(TcpWire.OUT_OF_RANGE, body.getLong(), "the read's status");
      assertEquals(-1, body.getLong(), "no color");
      assertEquals(onB | 5, region.load(cell, OBJECT, SyncLayout.WORD, soon()));

      s.getOutputStream().write(request(TcpWire.LOAD_OPCODE, SyncLayout.WORD, id, cell, OBJECT));
      r = reply(in);
      assertEquals(id, r.getLong());
      assertEquals(TcpWire.COPIED, r.getInt());
      assertEquals(8, r.getInt());
      assertEquals(onB | 5, Long.reverseBytes(in.readLong()), "the connection still serves");
    }
  }

  @Test
  void shouldCloseExchangeReadsOfTheWrongLengthAndKeepServingOthers() throws Exception {
    TcpReadServer server =
        closeLater(
            TcpReadServer.start(
                arena,
                region,
                TcpSettings.loopback()
                    .withLimits(1024, Duration.ofMillis(300), Duration.ofSeconds(10))));
    long cell = region.allocateCell(SyncLayout.KIND_MUTEX, OBJECT);
    long free = 1L << 40;
    long held = free | 5;
    region.compareAndExchange(cell, OBJECT, SyncLayout.WORD, 0, free, soon());
    int op = TcpWire.EXCHANGE_READ_OPCODE;
    byte[] lock = request(op, 33, 1, cell, OBJECT, free, held, -1);
    byte[] overlong = Arrays.copyOf(lock, lock.length + TcpWire.REQUEST_BYTES);
    Arrays.fill(overlong, lock.length, overlong.length, (byte) 0x5a); // no opcode
    byte[] release = request(op, 33, 2, cell, OBJECT, held, free, -1);
    try (Socket longer = TcpTransportTest.rawClient(server, arena, "");
        Socket cut = TcpTransportTest.rawClient(server, arena, "");
        Socket wellBehaved = TcpTransportTest.rawClient(server, arena, "")) {
      // The whole request is performed, then what follows it closes the connection (its reply
      // may go unsent, as for any request ahead of garbage).
      longer.getOutputStream().write(overlong);
      assertTrue(TcpTransportTest.closedByServer(longer, 3000), "what follows it is refused");
      assertEquals(held, region.load(cell, OBJECT, SyncLayout.WORD, soon()), "the whole one ran");

      cut.getOutputStream().write(release, 0, release.length - 9);
      assertTrue(TcpTransportTest.closedByServer(cut, 3000), "a body cut short is closed");

      DataInputStream in = new DataInputStream(wellBehaved.getInputStream());
      wellBehaved
          .getOutputStream()
          .write(request(TcpWire.LOAD_OPCODE, SyncLayout.WORD, 3, cell, OBJECT));
      ByteBuffer r = reply(in);
      assertEquals(3, r.getLong());
      assertEquals(TcpWire.COPIED, r.getInt(), "the server still serves");
      assertEquals(8, r.getInt());
      assertEquals(held, Long.reverseBytes(in.readLong()), "the cut request exchanged nothing");
    }
    assertTrue(server.misbehavingConnections() >= 2);
  }

  @Test
  void shouldServeAWriteWhoseFrameArrivesInPieces() throws Exception {
    TcpReadServer server = serve(arena, region);
    byte[] first = frame("first", OBJECT, 1);
    long slot = region.allocateValue(first, first.length, 8192);
    byte[] next = frame("n".repeat(5000), OBJECT, 2); // larger than the server's first buffer
    byte[] request =
        java.nio.ByteBuffer.allocate(TcpWire.REQUEST_BYTES + next.length)
            .order(ByteOrder.LITTLE_ENDIAN)
            .putInt(TcpWire.WRITE_VALUE_OPCODE)
            .putInt(next.length)
            .putLong(7)
            .putLong(slot)
            .put(next)
            .array();
    try (Socket s = TcpTransportTest.rawClient(server, arena, "")) {
      DataInputStream in = new DataInputStream(s.getInputStream());
      for (int from = 0; from < request.length; from += 700) {
        s.getOutputStream().write(request, from, Math.min(700, request.length - from));
        s.getOutputStream().flush();
        Thread.sleep(20); // each piece read on its own
      }
      ByteBuffer r = reply(in);
      assertEquals(7, r.getLong());
      assertEquals(TcpWire.COPIED, r.getInt());
      assertEquals(0, r.getInt());
      s.getOutputStream().write(request(TcpWire.LOAD_OPCODE, SyncLayout.WORD, 8, 1L << 40, OBJECT));
      assertEquals(8, reply(in).getLong(), "and the connection serves on");
    }
    ReadBuffer out = new ReadBuffer(64);
    assertEquals(ReadStatus.OK, region.readValue(slot, OBJECT, 2, out, soon()));
    assertEquals("n".repeat(5000), Frames.decode(out));
  }

  @Test
  void shouldCloseAConnectionThatAnnouncesAWriteLargerThanAnyFrame() throws Exception {
    TcpReadServer server = serve(arena, region);
    byte[] f = frame("kept", OBJECT, 1);
    long slot = region.allocateValue(f, f.length, 64);
    try (Socket s = TcpTransportTest.rawClient(server, arena, "")) {
      s.getOutputStream()
          .write(request(TcpWire.WRITE_VALUE_OPCODE, Integer.MAX_VALUE, 1, slot, 0, 0));
      assertTrue(TcpTransportTest.closedByServer(s, 2000), "oversized write closed");
    }
    try (Socket s = TcpTransportTest.rawClient(server, arena, "")) {
      s.getOutputStream().write(request(TcpWire.WRITE_VALUE_OPCODE, -5, 1, slot));
      assertTrue(TcpTransportTest.closedByServer(s, 2000), "negative length closed");
    }
    ReadBuffer out = new ReadBuffer(64);
    assertEquals(ReadStatus.OK, region.readValue(slot, OBJECT, 1, out, soon()), "left intact");
    assertTrue(server.misbehavingConnections() >= 2);
  }

  @Test
  void shouldRefuseBytesThatAreNotAFrameWithoutTouchingTheSlot() throws Exception {
    PeerReader peer = closeLater(open(arena, region));
    byte[] f = frame("mine", OBJECT, 1);
    long slot = region.allocateValue(f, f.length, 256);
    byte[] garbage = new byte[40];
    java.util.Arrays.fill(garbage, (byte) 0x5a);
    SyncFailedException e =
        assertThrows(
            SyncFailedException.class,
            () -> peer.writeValue(slot, garbage, garbage.length, soon()));
    assertEquals(SyncStatus.NOT_THIS_OBJECT, e.status(), "bytes that are not a frame are refused");
    ReadBuffer out = new ReadBuffer(64);
    assertEquals(ReadStatus.OK, region.readValue(slot, OBJECT, 1, out, soon()), "left intact");
  }

  @Test
  void shouldKeepTheDeadlineOfAPeerThatStopsAnswering() throws Exception {
    java.net.ServerSocket silent = closeLater(TcpTransportTest.silentServer(arena));
    PeerReader peer =
        closeLater(
            tcp.open(
                PeerEndpoint.shmOnly(arena.endpoint(), "elsewhere")
                    .withTcp("127.0.0.1", silent.getLocalPort())));
    long cell = region.allocateCell(SyncLayout.KIND_ATOMIC, OBJECT);
    long started = System.nanoTime();
    long deadline = started + TimeUnit.MILLISECONDS.toNanos(300);
    SyncFailedException add =
        assertThrows(
            SyncFailedException.class,
            () -> peer.getAndAdd(cell, OBJECT, SyncLayout.WORD, 1, deadline));
    assertEquals(SyncStatus.TIMED_OUT, add.status());
    long deadline2 = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(300);
    assertEquals(
        SyncStatus.TIMED_OUT,
        assertThrows(
                SyncFailedException.class,
                () -> peer.compareAndExchange(cell, OBJECT, SyncLayout.WORD, 0, 1, deadline2))
            .status());
    long elapsedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
    assertTrue(elapsedMs < 3_000, "both gave up at their deadlines, took " + elapsedMs + " ms");
  }

  @Test
  void shouldReportASyncRegionThatIsNotServedAsUnavailable() throws Exception {
    TcpReadServer readsOnly = closeLater(TcpReadServer.start(arena, TcpSettings.loopback()));
    PeerReader peer = closeLater(tcp.open(TcpTransportTest.endpoint(arena, readsOnly)));
    long cell = region.allocateCell(SyncLayout.KIND_ATOMIC, OBJECT);
    SyncFailedException e =
        assertThrows(
            SyncFailedException.class,
            () -> peer.getAndAdd(cell, OBJECT, SyncLayout.WORD, 1, soon()));
    assertEquals(SyncStatus.UNAVAILABLE, e.status());
    assertEquals(0, region.load(cell, OBJECT, SyncLayout.WORD, soon()));
  }

  // ------------------------------------------------------------------ messages

  @Test
  void shouldAnswerMessagesOfEverySizeWithTheHandlersAnswer() throws Exception {
    TcpReadServer server = serve(arena, region);
    server.handleMessages(
        (channel, body) -> {
          byte[] answer = new byte[body.length + 8];
          ByteBuffer.wrap(answer).order(ByteOrder.LITTLE_ENDIAN).putLong(channel);
          for (int i = 0; i < body.length; i++) {
            answer[8 + i] = (byte) ~body[i];
          }
          return CompletableFuture.completedFuture(
              answer.length > 1024 ? Arrays.copyOf(answer, 16) : answer);
        });
    try (TcpTransport.Messenger messenger =
        tcp.messenger(TcpTransportTest.endpoint(arena, server))) {
      byte[] small = {1, 2, 3};
      byte[] answer = messenger.send(7, small, soon());
      assertEquals(11, answer.length);
      assertEquals(7, ByteBuffer.wrap(answer).order(ByteOrder.LITTLE_ENDIAN).getLong());
      assertEquals(~2, answer[9], "the handler saw the body");
      byte[] large = new byte[TcpWire.MAX_MESSAGE_BYTES];
      Arrays.fill(large, (byte) 0x5a);
      assertEquals(16, messenger.send(-3, large, soon()).length, "the largest body arrives");
      assertEquals(-1, messenger.send(1, new byte[5], soon())[8], "and the connection goes on");
      assertThrows(
          IllegalArgumentException.class,
          () -> messenger.send(1, new byte[TcpWire.MAX_MESSAGE_BYTES + 1], soon()));
    }
    assertEquals(3, server.messagesAnswered());
  }

  @Test
  void shouldRefuseMessagesNobodyAnswersAndKeepServing() throws Exception {
    TcpReadServer server = serve(arena, region);
    PeerEndpoint endpoint = TcpTransportTest.endpoint(arena, server);
    PeerReader peer = closeLater(tcp.open(endpoint));
    long cell = region.allocateCell(SyncLayout.KIND_ATOMIC, OBJECT);
    try (TcpTransport.Messenger messenger = tcp.messenger(endpoint)) {
      TransportUnavailableException none =
          assertThrows(
              TransportUnavailableException.class, () -> messenger.send(1, new byte[4], soon()));
      assertTrue(none.getMessage().contains("refused"), none.getMessage());
      assertFalse(none.mayHaveArrived(), "a refused message was not handled");
      server.handleMessages((channel, body) -> null);
      assertThrows(
          TransportUnavailableException.class, () -> messenger.send(1, new byte[4], soon()));
      server.handleMessages(
          (channel, body) -> CompletableFuture.failedFuture(new IllegalStateException("no")));
      assertThrows(
          TransportUnavailableException.class, () -> messenger.send(1, new byte[4], soon()));
      server.handleMessages(
          (channel, body) -> {
            throw new IllegalStateException("a handler's bug");
          });
      assertThrows(
          TransportUnavailableException.class, () -> messenger.send(1, new byte[4], soon()));
      server.handleMessages((channel, body) -> CompletableFuture.completedFuture(new byte[] {9}));
      assertArrayEquals(new byte[] {9}, messenger.send(1, new byte[4], soon()));
    }
    assertEquals(1, server.messagesAnswered(), "refusals are not answers");
    assertEquals(0, peer.getAndAdd(cell, OBJECT, SyncLayout.WORD, 3, soon()), "still serves");
    assertEquals(3, region.load(cell, OBJECT, SyncLayout.WORD, soon()));
  }

  @Test
  void shouldCloseAConnectionDeclaringAMessageLargerThanAnyTaken() throws Exception {
    TcpReadServer server = serve(arena, region);
    server.handleMessages((channel, body) -> CompletableFuture.completedFuture(new byte[0]));
    try (Socket s = TcpTransportTest.rawClient(server, arena, "")) {
      s.getOutputStream()
          .write(request(TcpWire.MESSAGE_OPCODE, TcpWire.MAX_MESSAGE_BYTES + 1, 1, 0));
      s.setSoTimeout(5_000);
      assertEquals(-1, s.getInputStream().read(), "closed without a reply");
    }
  }

  @Test
  void shouldAnswerAMessageOnceItsAnswerIsMadeAndServeMeanwhile() throws Exception {
    TcpReadServer server = serve(arena, region);
    CompletableFuture<byte[]> answer = new CompletableFuture<>();
    server.handleMessages((channel, body) -> channel == 1 ? answer : null);
    PeerEndpoint endpoint = TcpTransportTest.endpoint(arena, server);
    long cell = region.allocateCell(SyncLayout.KIND_ATOMIC, OBJECT);
    try (TcpTransport.Messenger messenger = tcp.messenger(endpoint)) {
      CompletableFuture<byte[]> sent =
          CompletableFuture.supplyAsync(
              () -> {
                try {
                  return messenger.send(1, new byte[] {1}, soon());
                } catch (TransportUnavailableException e) {
                  throw new IllegalStateException(e);
                }
              });
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
      while (server.readsServed() == 0) {
        assertTrue(System.nanoTime() < deadline, "the message never arrived");
        Thread.sleep(5);
      }
      PeerReader peer = closeLater(tcp.open(endpoint));
      assertEquals(0, peer.getAndAdd(cell, OBJECT, SyncLayout.WORD, 2, soon()), "served meanwhile");
      assertFalse(sent.isDone(), "not answered before its answer is made");
      assertThrows(
          TransportUnavailableException.class,
          () -> messenger.send(2, new byte[1], soon()),
          "and other messages are answered meanwhile");
      answer.complete(new byte[] {4, 2});
      assertArrayEquals(new byte[] {4, 2}, sent.get(5, TimeUnit.SECONDS));
    }
    assertEquals(1, server.messagesAnswered());
  }

  @Test
  void shouldSayAMessageNotAnsweredInTimeMayHaveArrived() throws Exception {
    java.net.ServerSocket silent = closeLater(TcpTransportTest.silentServer(arena));
    PeerEndpoint endpoint =
        PeerEndpoint.shmOnly(arena.endpoint(), "elsewhere")
            .withTcp("127.0.0.1", silent.getLocalPort());
    try (TcpTransport.Messenger messenger = tcp.messenger(endpoint)) {
      TransportUnavailableException e =
          assertThrows(
              TransportUnavailableException.class,
              () -> messenger.send(1, new byte[8], System.nanoTime() + 300_000_000L));
      assertTrue(e.mayHaveArrived(), e.getMessage());
    }
  }

  @Test
  void shouldSendAMessageOnAFreshConnectionWhenTheLastOneSatIdle() throws Exception {
    TcpSettings idleSoon = TcpSettings.loopback().withIdleLimits(Duration.ofMillis(400), 64);
    TcpReadServer server = closeLater(TcpReadServer.start(arena, region, idleSoon));
    server.handleMessages((channel, body) -> CompletableFuture.completedFuture(new byte[] {1}));
    TcpTransport sender = closeLater(new TcpTransport(Frames.CODEC, Frames.MAX_FRAME, idleSoon));
    try (TcpTransport.Messenger messenger =
        sender.messenger(TcpTransportTest.endpoint(arena, server))) {
      assertArrayEquals(new byte[] {1}, messenger.send(1, new byte[1], soon()));
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
      while (server.idleConnectionsClosed() == 0) {
        assertTrue(System.nanoTime() < deadline, "the server never closed the idle connection");
        Thread.sleep(50);
      }
      // Without the replacement this message would go into the closed socket and be "in doubt".
      assertArrayEquals(new byte[] {1}, messenger.send(1, new byte[1], soon()));
    }
  }
}
