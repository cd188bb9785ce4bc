package dev.pekkodsm.memory;

import static dev.pekkodsm.memory.Frames.CODEC;
import static dev.pekkodsm.memory.Frames.MAX_FRAME;
import static dev.pekkodsm.memory.Frames.frame;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.DataInputStream;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
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
}
