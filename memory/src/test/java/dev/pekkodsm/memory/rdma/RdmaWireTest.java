package dev.pekkodsm.memory.rdma;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.nio.ByteBuffer;
import org.junit.jupiter.api.Test;

class RdmaWireTest {

  @Test
  void shouldRoundTripARequest() {
    ByteBuffer buffer = ByteBuffer.allocateDirect(RdmaWire.MESSAGE_BUFFER_BYTES);
    RdmaWire.writeRequest(buffer, 42, -1L, 0x1234_5678_9ABC_DEF0L, 0xB0BL, 7);
    assertEquals(
        new RdmaWire.Request(42, -1L, 0x1234_5678_9ABC_DEF0L, 0xB0BL, 7, RdmaWire.REGION_ARENA),
        RdmaWire.readRequest(buffer, RdmaWire.REQUEST_BYTES));
    assertEquals(RdmaWire.REQUEST_MAGIC, Integer.reverseBytes(buffer.getInt(0)));
  }

  @Test
  void shouldAskForTheSyncRegionWithItsOwnOpcode() {
    ByteBuffer buffer = ByteBuffer.allocateDirect(RdmaWire.MESSAGE_BUFFER_BYTES);
    RdmaWire.writeRequest(buffer, 5, 1, 2, 3, 4, RdmaWire.REGION_VALUES);
    assertEquals(RdmaWire.OP_SYNC_KEY, Short.reverseBytes(buffer.getShort(6)));
    assertEquals(
        new RdmaWire.Request(5, 1, 2, 3, 4, RdmaWire.REGION_VALUES),
        RdmaWire.readRequest(buffer, RdmaWire.REQUEST_BYTES));
    RdmaWire.writeRequest(buffer, 6, 1, 2, 3, 0, RdmaWire.REGION_CELLS);
    assertEquals(RdmaWire.REGION_CELLS, RdmaWire.readRequest(buffer, 48).region());
    buffer.putInt(44, Integer.reverseBytes(RdmaWire.REGION_ARENA)); // opcode 2 for the arena
    assertNull(RdmaWire.readRequest(buffer, RdmaWire.REQUEST_BYTES));
    buffer.putInt(44, Integer.reverseBytes(9)); // no such region
    assertNull(RdmaWire.readRequest(buffer, RdmaWire.REQUEST_BYTES));
  }

  @Test
  void shouldRoundTripAReply() {
    ByteBuffer buffer = ByteBuffer.allocateDirect(RdmaWire.MESSAGE_BUFFER_BYTES);
    RdmaWire.writeReply(
        buffer, 9, RdmaWire.KEY_OK, 0x7f00_0000_1000L, 0xCAFE, 1 << 20, 3, RdmaWire.REGION_CELLS);
    assertEquals(
        new RdmaWire.Reply(
            9, RdmaWire.KEY_OK, 0x7f00_0000_1000L, 0xCAFE, 1 << 20, 3, RdmaWire.REGION_CELLS),
        RdmaWire.readReply(buffer, RdmaWire.REPLY_BYTES));
  }

  @Test
  void shouldRejectShortOrForeignMessages() {
    ByteBuffer buffer = ByteBuffer.allocateDirect(RdmaWire.MESSAGE_BUFFER_BYTES);
    RdmaWire.writeRequest(buffer, 1, 2, 3, 4, 5);
    assertNull(RdmaWire.readRequest(buffer, RdmaWire.REQUEST_BYTES - 1));
    assertNull(RdmaWire.readReply(buffer, RdmaWire.REPLY_BYTES), "a request is not a reply");
    buffer.put(4, (byte) 2); // another protocol version
    assertNull(RdmaWire.readRequest(buffer, RdmaWire.REQUEST_BYTES));
  }

  @Test
  void shouldCarryKindAndIndexInWorkRequestIds() {
    long id = RdmaWire.workRequestId(RdmaWire.KIND_READ, 1023);
    assertEquals(RdmaWire.KIND_READ, RdmaWire.kindOf(id));
    assertEquals(1023, RdmaWire.indexOf(id));
    assertEquals(
        RdmaWire.KIND_RECV, RdmaWire.kindOf(RdmaWire.workRequestId(RdmaWire.KIND_RECV, 1)));
  }
}
