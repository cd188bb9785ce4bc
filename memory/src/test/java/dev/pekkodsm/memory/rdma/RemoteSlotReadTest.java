package dev.pekkodsm.memory.rdma;

import static dev.pekkodsm.memory.rdma.RdmaFrames.CODEC;
import static dev.pekkodsm.memory.rdma.RdmaFrames.MAX_FRAME;
import static dev.pekkodsm.memory.rdma.RdmaFrames.NODE;
import static dev.pekkodsm.memory.rdma.RdmaFrames.decode;
import static dev.pekkodsm.memory.rdma.RdmaFrames.frame;
import static dev.pekkodsm.memory.rdma.RdmaFrames.tamper;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.pekkodsm.memory.ReadBuffer;
import dev.pekkodsm.memory.ReadStatus;
import dev.pekkodsm.memory.SlotLayout;
import dev.pekkodsm.memory.SlotReads;
import dev.pekkodsm.memory.SnapshotArena;
import dev.pekkodsm.serialization.internal.SnapshotCodec;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The rdma read protocol, run against a stand-in for the NIC that performs each one-sided read as a
 * copy out of a real arena segment, in the order the protocol posts them. A test can act as a
 * writer between two reads, where a real writer could run.
 */
@Timeout(30)
class RemoteSlotReadTest {

  private static final int SEGMENT = 1 << 20;

  @TempDir Path dir;
  private SnapshotArena arena;
  private SegmentKey key;

  @BeforeEach
  void createArena() {
    arena = RdmaFrames.arena(dir, NODE, SEGMENT, 2);
    key = new SegmentKey(0, 0, 0, SEGMENT);
  }

  @AfterEach
  void closeArena() {
    arena.close();
  }

  /** A stand-in for one registered read buffer and the NIC reading into it. */
  final class FakeNic implements ReadChannel {
    final ByteBuffer local;
    final List<String> reads = new ArrayList<>();
    Runnable afterData = () -> {};
    ReadStatus answer = ReadStatus.OK;

    FakeNic(int dataBytes) {
      local =
          ByteBuffer.allocateDirect(RemoteSlotRead.DATA + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
    }

    @Override
    public ByteBuffer local() {
      return local;
    }

    @Override
    public int dataBytes() {
      return local.capacity() - RemoteSlotRead.DATA;
    }

    @Override
    public ReadStatus readFirst(SegmentKey k, long slotOffset, int bodyBytes, long deadlineNs) {
      if (answer != ReadStatus.OK) {
        return answer;
      }
      copy(k, slotOffset, 8, RemoteSlotRead.SEQ_BEFORE);
      copy(k, slotOffset + RemoteSlotRead.BODY_OFFSET, bodyBytes, RemoteSlotRead.DATA);
      afterData.run();
      copy(k, slotOffset, 8, RemoteSlotRead.SEQ_AFTER);
      reads.add("first " + bodyBytes);
      return ReadStatus.OK;
    }

    @Override
    public ReadStatus readMore(
        SegmentKey k,
        long offset,
        int bytes,
        boolean thenSequence,
        long slotOffset,
        long deadlineNs) {
      copy(k, offset, bytes, RemoteSlotRead.DATA);
      afterData.run();
      if (thenSequence) {
        copy(k, slotOffset, 8, RemoteSlotRead.SEQ_AFTER);
      }
      reads.add((thenSequence ? "tail " : "chunk ") + bytes);
      return ReadStatus.OK;
    }

    /** One RDMA read; a read outside the registered segment would fail the queue pair. */
    private void copy(SegmentKey k, long remote, int bytes, int localAt) {
      if (remote < 0 || bytes <= 0 || remote + bytes > k.length()) {
        fail("read of " + bytes + " bytes at " + remote + " outside the registered segment");
      }
      if (localAt + bytes > local.capacity()) {
        fail("read of " + bytes + " bytes overflows the local buffer at " + localAt);
      }
      ByteBuffer segment = arena.segment(k.segment());
      byte[] bytesRead = new byte[bytes];
      segment.get((int) remote, bytesRead);
      local.put(localAt, bytesRead);
    }
  }

  private ReadStatus read(FakeNic nic, long locator, long object, int color, ReadBuffer out) {
    return read(nic, locator, object, color, out, 512);
  }

  private ReadStatus read(
      FakeNic nic, long locator, long object, int color, ReadBuffer out, int firstReadBytes) {
    return RemoteSlotRead.read(
        nic,
        key,
        SlotLayout.offset(locator),
        CODEC,
        NODE,
        object,
        color,
        MAX_FRAME,
        firstReadBytes,
        out,
        System.nanoTime() + TimeUnit.SECONDS.toNanos(5));
  }

  @Test
  void shouldReadASmallFrameInOneRound() {
    byte[] f = frame(NODE, "small", 1, 0);
    long locator = arena.publish(f, f.length);
    FakeNic nic = new FakeNic(4096);
    ReadBuffer out = new ReadBuffer(8);
    assertEquals(ReadStatus.OK, read(nic, locator, 1, 0, out));
    assertEquals("small", decode(out));
    assertEquals(List.of("first 512"), nic.reads);
  }

  @Test
  void shouldReadTheRestOfALargerFrameThenRecheckTheSequence() {
    byte[] value = new byte[3000];
    Arrays.fill(value, (byte) 7);
    byte[] f = frame(NODE, value, 2, 1);
    long locator = arena.publish(f, f.length);
    FakeNic nic = new FakeNic(4096);
    ReadBuffer out = new ReadBuffer(8);
    assertEquals(ReadStatus.OK, read(nic, locator, 2, 1, out));
    assertArrayEquals(value, (byte[]) decode(out));
    assertEquals(List.of("first 512", "tail " + (f.length - 504)), nic.reads);
  }

  @Test
  void shouldChunkAFrameLargerThanTheLocalBuffer() {
    byte[] value = new byte[200_000];
    for (int i = 0; i < value.length; i++) {
      value[i] = (byte) i;
    }
    byte[] f = frame(NODE, value, 3, 0);
    long locator = arena.publish(f, f.length);
    FakeNic nic = new FakeNic(64 * 1024);
    ReadBuffer out = new ReadBuffer(8);
    assertEquals(ReadStatus.OK, read(nic, locator, 3, 0, out));
    assertEquals(f.length, out.length());
    assertArrayEquals(value, (byte[]) decode(out));
    List<String> expected = new ArrayList<>(List.of("first 512"));
    int remaining = f.length - (512 - RemoteSlotRead.FRAME_IN_BODY);
    while (remaining > 64 * 1024) {
      expected.add("chunk " + 64 * 1024);
      remaining -= 64 * 1024;
    }
    expected.add("tail " + remaining);
    assertEquals(4, expected.size() - 1, "three full chunks and a tail");
    assertEquals(expected, nic.reads);
  }

  @Test
  void shouldRetryWhenTheSlotIsRewrittenBetweenTheSequenceReads() {
    byte[] f = frame(NODE, "before", 4, 0);
    long locator = arena.publish(f, f.length);
    byte[] g = frame(NODE, "after!", 4, 0);
    FakeNic nic = new FakeNic(4096);
    nic.afterData =
        () -> {
          nic.afterData = () -> {};
          assertTrue(arena.rewrite(locator, g, g.length));
        };
    ReadBuffer out = new ReadBuffer(8);
    assertEquals(ReadStatus.OK, read(nic, locator, 4, 0, out));
    assertEquals("after!", decode(out));
    assertEquals(2, nic.reads.size(), "one torn attempt, one good: " + nic.reads);
  }

  @Test
  void shouldRetryWhenTheSlotIsRewrittenWhileChunking() {
    byte[] one = new byte[10_000];
    byte[] two = new byte[10_000];
    Arrays.fill(one, (byte) 1);
    Arrays.fill(two, (byte) 2);
    byte[] f = frame(NODE, one, 5, 0);
    byte[] g = frame(NODE, two, 5, 0);
    long locator = arena.publish(f, f.length);
    FakeNic nic = new FakeNic(4096);
    int[] reads = {0};
    nic.afterData =
        () -> {
          if (++reads[0] == 2) { // after the first chunk
            assertTrue(arena.rewrite(locator, g, g.length));
          }
        };
    ReadBuffer out = new ReadBuffer(8);
    assertEquals(ReadStatus.OK, read(nic, locator, 5, 0, out, 64));
    assertArrayEquals(two, (byte[]) decode(out));
  }

  @Test
  void shouldReportContendedWhileAWriterHoldsTheSlot() throws Exception {
    byte[] f = frame(NODE, "x", 6, 0);
    long locator = arena.publish(f, f.length);
    int seqAt = (int) SlotLayout.offset(locator);
    tamper(arena, 0, raw -> raw.putLong(seqAt, raw.getLong(seqAt) + 1)); // odd: mid-write
    FakeNic nic = new FakeNic(4096);
    long start = System.nanoTime();
    ReadStatus status =
        RemoteSlotRead.read(
            nic,
            key,
            seqAt,
            CODEC,
            NODE,
            6,
            0,
            MAX_FRAME,
            512,
            new ReadBuffer(8),
            start + TimeUnit.MILLISECONDS.toNanos(5));
    assertEquals(ReadStatus.CONTENDED, status);
    assertTrue(System.nanoTime() - start < TimeUnit.SECONDS.toNanos(1));
  }

  @Test
  void shouldTellFreedReusedAndCorruptSlotsApart() throws Exception {
    byte[] f = frame(NODE, List.of("a"), 7, 2);
    long locator = arena.publish(f, f.length);
    FakeNic nic = new FakeNic(4096);
    ReadBuffer out = new ReadBuffer(8);
    assertEquals(ReadStatus.STALE, read(nic, locator, 7, 3, out));
    arena.free(locator);
    assertEquals(ReadStatus.FREED, read(nic, locator, 7, 2, out));
    byte[] g = frame(NODE, List.of("b"), 8, 0);
    assertEquals(locator, arena.publish(g, g.length));
    assertEquals(ReadStatus.STALE, read(nic, locator, 7, 2, out));
    int payloadAt =
        (int) SlotLayout.offset(locator)
            + SlotLayout.SLOT_HEADER_BYTES
            + SnapshotCodec.HEADER_BYTES;
    tamper(arena, 0, raw -> raw.put(payloadAt, (byte) (raw.get(payloadAt) ^ 0x55)));
    assertEquals(ReadStatus.CORRUPT, read(nic, locator, 8, 0, out));
  }

  @Test
  void shouldNotFollowAnImpossibleLengthOutOfTheSlot() throws Exception {
    byte[] f = frame(NODE, "bounded", 9, 0);
    long locator = arena.publish(f, f.length);
    int slot = (int) SlotLayout.offset(locator);
    int lengthAt = slot + SlotLayout.SLOT_HEADER_BYTES + SnapshotCodec.LENGTH_OFFSET;
    FakeNic nic = new FakeNic(4096);
    ReadBuffer out = new ReadBuffer(8);
    tamper(arena, 0, raw -> raw.putInt(lengthAt, Integer.MAX_VALUE - 16));
    assertEquals(ReadStatus.CORRUPT, read(nic, locator, 9, 0, out));
    tamper(arena, 0, raw -> raw.putInt(lengthAt, SEGMENT));
    assertEquals(ReadStatus.CORRUPT, read(nic, locator, 9, 0, out));
    tamper(arena, 0, raw -> raw.putInt(slot + SlotLayout.CAPACITY_OFFSET, SEGMENT * 2));
    assertEquals(ReadStatus.CORRUPT, read(nic, locator, 9, 0, out));
    assertEquals(List.of("first 512", "first 512", "first 512"), nic.reads);
  }

  @Test
  void shouldRefuseLocatorsOutsideTheSegmentWithoutReading() {
    FakeNic nic = new FakeNic(4096);
    ReadBuffer out = new ReadBuffer(8);
    long[] outside = {
      SlotLayout.locator(0, 0), // the segment header
      SlotLayout.locator(0, SlotLayout.FIRST_SLOT_OFFSET + 8), // misaligned
      SlotLayout.locator(0, SEGMENT), // past the end
      SlotLayout.locator(0, SEGMENT - 32), // no room for a header (and misaligned)
      SlotLayout.locator(0, (1L << 48) - 64), // far past the end
    };
    for (long locator : outside) {
      assertEquals(
          ReadStatus.OUT_OF_RANGE, read(nic, locator, 1, 0, out), Long.toHexString(locator));
    }
    assertEquals(List.of(), nic.reads);
  }

  @Test
  void shouldReadTheLastSlotOfASegmentWithoutReadingPastIt() {
    FakeNic nic = new FakeNic(4096);
    long last = SEGMENT - 128;
    assertTrue(RemoteSlotRead.inRange(last, SEGMENT));
    assertEquals(SEGMENT - last - 8, RemoteSlotRead.bodyBytes(last, SEGMENT, 512));
    // An empty slot there reads as freed; the stand-in fails the test on any read past the end.
    assertEquals(ReadStatus.FREED, read(nic, SlotLayout.locator(0, last), 1, 0, new ReadBuffer(8)));
  }

  @Test
  void shouldPassOnTimeoutsAndLostConnections() {
    byte[] f = frame(NODE, "x", 10, 0);
    long locator = arena.publish(f, f.length);
    FakeNic nic = new FakeNic(4096);
    nic.answer = ReadStatus.TIMED_OUT;
    assertEquals(ReadStatus.TIMED_OUT, read(nic, locator, 10, 0, new ReadBuffer(8)));
    nic.answer = ReadStatus.UNAVAILABLE;
    assertEquals(ReadStatus.UNAVAILABLE, read(nic, locator, 10, 0, new ReadBuffer(8)));
  }

  @Test
  void shouldCopyExactlyWhatALocalReaderCopies() {
    ByteBuffer segment = ByteBuffer.allocateDirect(1 << 16).order(ByteOrder.LITTLE_ENDIAN);
    int[] capacities = {0, 32, 64, 96, 128, 4096, 8192, 1 << 16, 1 << 17, -64};
    int[] lengths = {-1, 0, 1, 16, 31, 32, 33, 100, 4000, 4064, 1 << 16, Integer.MAX_VALUE};
    long[] offsets = {4096, 4096 + 64, (1 << 16) - 4096, (1 << 16) - 64};
    ReadBuffer out = new ReadBuffer(8);
    for (long offset : offsets) {
      int slot = (int) offset;
      for (int capacity : capacities) {
        for (int length : lengths) {
          segment.putLong(slot, 2);
          segment.putInt(slot + SlotLayout.CAPACITY_OFFSET, capacity);
          int lengthAt = slot + SlotLayout.SLOT_HEADER_BYTES + SnapshotCodec.LENGTH_OFFSET;
          if (lengthAt + 4 <= segment.capacity()) {
            segment.putInt(lengthAt, length);
          }
          int local =
              SlotReads.copyStable(segment, segment.capacity(), offset, 8192, out, Long.MAX_VALUE);
          if (!RemoteSlotRead.inRange(offset, segment.capacity())) {
            assertEquals(SlotReads.OUT_OF_RANGE, local);
            continue;
          }
          assertEquals(
              local,
              RemoteSlotRead.frameCopyBytes(capacity, length, offset, segment.capacity(), 8192),
              "capacity " + capacity + ", length " + length + ", offset " + offset);
        }
      }
    }
  }
}
