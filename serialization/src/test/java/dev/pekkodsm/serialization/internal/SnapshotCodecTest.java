package dev.pekkodsm.serialization.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.esotericsoftware.kryo.Kryo;
import com.esotericsoftware.kryo.io.Output;
import dev.pekkodsm.serialization.ClassRegistry;
import dev.pekkodsm.serialization.DecodeStatus;
import dev.pekkodsm.serialization.SerializationSettings;
import dev.pekkodsm.serialization.SnapshotFormatException;
import dev.pekkodsm.serialization.UnregisteredClassException;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class SnapshotCodecTest {

  record Point(int x, int y) {}

  record Tagged(String name, List<Point> points, Map<String, Long> counts) {}

  static final class Unregistered {
    int value = 7;
  }

  record Holder(Object inner) {}

  enum Color {
    RED,
    GREEN
  }

  static final long NODE = 0x1234_5678_9abcL;
  static final long OBJECT = 42;
  static final int COLOR = 3;

  static SnapshotCodec codec(ClassRegistry registry, int maxBytes) {
    var settings = new SerializationSettings(maxBytes, 64, true, 4);
    return new SnapshotCodec(new KryoPool(registry, settings, k -> {}, "register it"));
  }

  static final ClassRegistry REGISTRY =
      ClassRegistry.builder()
          .register(Point.class, 100)
          .register(Tagged.class, 101)
          .register(Holder.class, 102)
          .register(Color.class, 103)
          .build();

  final SnapshotCodec codec = codec(REGISTRY, 1 << 20);

  Object roundTrip(Object value) {
    byte[] frame = codec.encode(value, NODE, OBJECT, COLOR, Purpose.SNAPSHOT);
    return codec.decode(frame, 0, frame.length, NODE, OBJECT, COLOR, Purpose.SNAPSHOT);
  }

  @Test
  void shouldRoundTripEveryBuiltinValueType() {
    List<Object> values =
        new ArrayList<>(
            List.of(
                "text",
                "ünïcødé ✓",
                1,
                2L,
                3.0,
                4.0f,
                (short) 5,
                (byte) 6,
                'c',
                true,
                new BigInteger("123456789012345678901234567890"),
                new BigDecimal("3.14159"),
                UUID.randomUUID(),
                Instant.ofEpochSecond(1_700_000_000L, 5),
                Duration.ofMillis(1500),
                LocalDate.of(2024, 7, 10),
                new StringBuilder("sb").toString(),
                new ArrayList<>(List.of(1, 2, 3)),
                new HashMap<>(Map.of("a", 1)),
                new LinkedHashMap<>(Map.of("b", 2)),
                new TreeMap<>(Map.of("c", 3)),
                new TreeSet<>(Set.of(3, 1, 2)),
                new ConcurrentHashMap<>(Map.of(1, 2)),
                List.of(),
                List.of(1),
                List.of(1, 2, 3),
                Set.of(1),
                Set.of(1, 2, 3),
                Map.of(),
                Map.of(1, 2),
                Map.of(1, 2, 3, 4),
                Collections.emptyList(),
                Collections.emptyMap(),
                Collections.emptySet(),
                Collections.singletonList(1),
                Collections.singletonMap("k", "v"),
                Collections.singleton(9),
                Arrays.asList(1, 2),
                Stream.of(1, 2).toList(),
                BitSet.valueOf(new long[] {5, 7})));
    values.add(Stream.of("x", null).collect(Collectors.toList()));
    for (Object v : values) {
      assertEquals(v, roundTrip(v), () -> "round trip of " + v.getClass());
    }
    assertEquals(
        List.of(1, 2), new ArrayList<>((ArrayDeque<?>) roundTrip(new ArrayDeque<>(List.of(1, 2)))));
    assertArrayEquals(new int[] {1, 2, 3}, (int[]) roundTrip(new int[] {1, 2, 3}));
    assertArrayEquals(new byte[] {1, -1}, (byte[]) roundTrip(new byte[] {1, -1}));
    assertArrayEquals(new long[] {1L << 40}, (long[]) roundTrip(new long[] {1L << 40}));
    assertArrayEquals(new double[] {0.5}, (double[]) roundTrip(new double[] {0.5}));
    assertArrayEquals(new String[] {"a", null}, (String[]) roundTrip(new String[] {"a", null}));
    assertArrayEquals(new Object[] {"a", 1}, (Object[]) roundTrip(new Object[] {"a", 1}));
  }

  record Arrays8(
      byte[] bytes,
      int[] ints,
      long[] longs,
      double[] doubles,
      boolean[] flags,
      String[] names,
      Object[] objects,
      char[] chars) {}

  @ParameterizedTest
  @ValueSource(booleans = {true, false})
  void shouldRoundTripArrayFieldsThatAreNullOrEmpty(boolean references) {
    // Without references, Kryo hands a null array field to the array's serializer as a 0 length.
    var registry =
        ClassRegistry.builder().registerAll(REGISTRY).register(Arrays8.class, 140).build();
    var settings = new SerializationSettings(1 << 20, 64, references, 2);
    var codec = new SnapshotCodec(new KryoPool(registry, settings, k -> {}, "register it"));
    var empty =
        new Arrays8(
            new byte[0],
            new int[0],
            new long[0],
            new double[0],
            new boolean[0],
            new String[0],
            new Object[0],
            new char[0]);
    var full =
        new Arrays8(
            new byte[] {-1},
            new int[] {-1},
            new long[] {Long.MIN_VALUE},
            new double[] {-0.0},
            new boolean[] {true, false},
            new String[] {"a", null},
            new Object[] {1, null},
            new char[] {'x'});
    for (Arrays8 value :
        List.of(new Arrays8(null, null, null, null, null, null, null, null), empty, full)) {
      byte[] frame = codec.encode(value, NODE, OBJECT, COLOR, Purpose.SNAPSHOT);
      Arrays8 read =
          (Arrays8) codec.decode(frame, 0, frame.length, NODE, OBJECT, COLOR, Purpose.SNAPSHOT);
      assertArrayEquals(value.bytes(), read.bytes());
      assertArrayEquals(value.ints(), read.ints());
      assertArrayEquals(value.longs(), read.longs());
      assertArrayEquals(value.doubles(), read.doubles());
      assertArrayEquals(value.flags(), read.flags());
      assertArrayEquals(value.names(), read.names());
      assertArrayEquals(value.objects(), read.objects());
      assertArrayEquals(value.chars(), read.chars());
    }
  }

  @Test
  void shouldRoundTripRegisteredRecordsAndEnums() {
    var t = new Tagged("t", List.of(new Point(1, 2)), new HashMap<>(Map.of("k", 5L)));
    assertEquals(t, roundTrip(t));
    assertEquals(Color.GREEN, roundTrip(Color.GREEN));
  }

  @Test
  void shouldRefuseAnUnregisteredClassWhenWritingAndNameIt() {
    var e =
        assertThrows(
            UnregisteredClassException.class,
            () -> codec.encode(new Unregistered(), NODE, OBJECT, COLOR, Purpose.SNAPSHOT));
    assertEquals(Unregistered.class.getName(), e.className());
    assertTrue(e.getMessage().contains("register it"), e.getMessage());
  }

  @Test
  void shouldRefuseAnUnregisteredClassNestedInARegisteredOne() {
    var e =
        assertThrows(
            UnregisteredClassException.class,
            () ->
                codec.encode(
                    new Holder(new Unregistered()), NODE, OBJECT, COLOR, Purpose.SNAPSHOT));
    assertEquals(Unregistered.class.getName(), e.className());
  }

  @Test
  void shouldFindUnregisteredClassesThroughExactFieldTypes() {
    KryoPool pool = codec.pool();
    assertEquals(null, pool.firstUnregisteredClass(Tagged.class));
    assertEquals(null, pool.firstUnregisteredClass(String.class));
    assertEquals(Unregistered.class, pool.firstUnregisteredClass(Unregistered.class));
    record Wrapper(Point p, Unregistered u) {}
    // The wrapper itself is the first unregistered class met.
    assertEquals(Wrapper.class, pool.firstUnregisteredClass(Wrapper.class));
    var registered =
        ClassRegistry.builder().registerAll(REGISTRY).register(Wrapper.class, 150).build();
    var pool2 = codec(registered, 1024).pool();
    assertEquals(Unregistered.class, pool2.firstUnregisteredClass(Wrapper.class));
  }

  @Test
  void shouldReportAnUnknownClassIdWhenTheReaderLacksTheRegistration() {
    byte[] frame = codec.encode(new Point(1, 2), NODE, OBJECT, COLOR, Purpose.SNAPSHOT);
    var other = codec(ClassRegistry.empty(), 1 << 20);
    var e =
        assertThrows(
            SnapshotFormatException.class,
            () -> other.decode(frame, 0, frame.length, NODE, OBJECT, COLOR, Purpose.SNAPSHOT));
    assertEquals(DecodeStatus.UNKNOWN_CLASS, e.status());
  }

  @Test
  void shouldRefuseValuesLargerThanTheMaximum() {
    var small = codec(REGISTRY, 1024);
    var e =
        assertThrows(
            IllegalArgumentException.class,
            () -> small.encode(new byte[4096], NODE, OBJECT, COLOR, Purpose.SNAPSHOT));
    assertTrue(e.getMessage().contains("max-snapshot-size"), e.getMessage());
    // The pool is still usable afterwards.
    assertEquals(
        "ok",
        small.decode(
            small.encode("ok", NODE, OBJECT, COLOR, Purpose.SNAPSHOT),
            0,
            100,
            NODE,
            OBJECT,
            COLOR,
            Purpose.SNAPSHOT));
  }

  @Test
  void shouldReportEveryTruncation() {
    byte[] frame = codec.encode("some text value", NODE, OBJECT, COLOR, Purpose.SNAPSHOT);
    for (int len = 0; len < frame.length; len++) {
      byte[] cut = Arrays.copyOf(frame, len);
      assertEquals(
          DecodeStatus.TRUNCATED, codec.verify(cut, 0, len, NODE, OBJECT, COLOR), "length " + len);
      assertEquals(
          DecodeStatus.TRUNCATED,
          codec.verify(frame, 0, len, NODE, OBJECT, COLOR),
          "available " + len);
    }
    assertEquals(DecodeStatus.OK, codec.verify(frame, 0, frame.length, NODE, OBJECT, COLOR));
  }

  @Test
  void shouldDetectEverySingleBitFlip() {
    byte[] frame = codec.encode(new Point(3, 4), NODE, OBJECT, COLOR, Purpose.SNAPSHOT);
    for (int i = 0; i < frame.length; i++) {
      for (int bit = 0; bit < 8; bit++) {
        byte[] bad = frame.clone();
        bad[i] ^= (byte) (1 << bit);
        DecodeStatus s = codec.verify(bad, 0, bad.length, NODE, OBJECT, COLOR);
        assertNotEquals(DecodeStatus.OK, s, "flip of byte " + i + " bit " + bit);
      }
    }
  }

  @Test
  void shouldRejectAnnouncedLengthsAboveTheMaximumBeforeReadingThem() {
    var small = codec(REGISTRY, 256);
    byte[] frame = small.encode("x", NODE, OBJECT, COLOR, Purpose.SNAPSHOT);
    ByteBuffer.wrap(frame)
        .order(ByteOrder.LITTLE_ENDIAN)
        .putInt(SnapshotCodec.LENGTH_OFFSET, Integer.MAX_VALUE);
    assertEquals(DecodeStatus.TOO_LARGE, small.verify(frame, 0, frame.length, NODE, OBJECT, COLOR));
    ByteBuffer.wrap(frame).order(ByteOrder.LITTLE_ENDIAN).putInt(SnapshotCodec.LENGTH_OFFSET, -5);
    assertEquals(DecodeStatus.TOO_LARGE, small.verify(frame, 0, frame.length, NODE, OBJECT, COLOR));
  }

  @Test
  void shouldReportAFrameOfAnotherObjectOrColor() {
    byte[] frame = codec.encode("v", NODE, OBJECT, COLOR, Purpose.SNAPSHOT);
    assertEquals(
        DecodeStatus.WRONG_OBJECT, codec.verify(frame, 0, frame.length, NODE, OBJECT, COLOR + 1));
    assertEquals(
        DecodeStatus.WRONG_OBJECT, codec.verify(frame, 0, frame.length, NODE, OBJECT + 1, COLOR));
    assertEquals(
        DecodeStatus.WRONG_OBJECT, codec.verify(frame, 0, frame.length, NODE + 1, OBJECT, COLOR));
    var e =
        assertThrows(
            SnapshotFormatException.class,
            () -> codec.decode(frame, 0, frame.length, NODE, OBJECT, 9, Purpose.SNAPSHOT));
    assertTrue(e.getMessage().contains("color 3"), e.getMessage());
  }

  @Test
  void shouldAcceptAnyColorOnlyWhenAskedTo() {
    byte[] frame = codec.encode("v", NODE, OBJECT, 41, Purpose.SNAPSHOT);
    assertEquals(
        DecodeStatus.OK,
        codec.verify(frame, 0, frame.length, NODE, OBJECT, SnapshotCodec.ANY_COLOR));
    assertEquals(41, SnapshotCodec.color(frame, 0));
    assertEquals(
        DecodeStatus.WRONG_OBJECT,
        codec.verify(frame, 0, frame.length, NODE, OBJECT + 1, SnapshotCodec.ANY_COLOR));
  }

  @Test
  void shouldDecodeAtAnOffsetInsideALargerBuffer() {
    byte[] frame = codec.encode("offset", NODE, OBJECT, COLOR, Purpose.SNAPSHOT);
    byte[] big = new byte[frame.length + 100];
    System.arraycopy(frame, 0, big, 37, frame.length);
    assertEquals(
        "offset", codec.decode(big, 37, frame.length, NODE, OBJECT, COLOR, Purpose.SNAPSHOT));
  }

  /** Builds a frame whose CRC is valid for arbitrary payload bytes, as a hostile peer could. */
  static byte[] forge(byte[] payload) {
    byte[] frame = new byte[SnapshotCodec.HEADER_BYTES + payload.length];
    ByteBuffer b = ByteBuffer.wrap(frame).order(ByteOrder.LITTLE_ENDIAN);
    b.putInt(0, SnapshotCodec.MAGIC);
    b.putLong(8, NODE);
    b.putLong(16, OBJECT);
    b.putInt(24, COLOR);
    b.putInt(28, payload.length);
    System.arraycopy(payload, 0, frame, SnapshotCodec.HEADER_BYTES, payload.length);
    b.putInt(4, SnapshotCodec.crc(frame, 0, payload.length));
    return frame;
  }

  /**
   * A payload of a registered class id followed by raw varints. With references on, Kryo writes a
   * "new object" marker (1) after the class for every type that may be referenced.
   */
  static byte[] kryoPrefix(boolean references, int classId, int... varints) {
    Output out = new Output(64);
    out.writeVarInt(classId + 2, true); // Kryo writes registration ids + 2 (0 = null, 1 = ref)
    if (references) {
      out.writeVarInt(1, true);
    }
    for (int v : varints) {
      out.writeVarInt(v, true);
    }
    return out.toBytes();
  }

  @ParameterizedTest
  @ValueSource(booleans = {true, false})
  void shouldRefuseHostileLengthsWithoutAllocatingThem(boolean references) {
    // Each payload announces ~2^31 elements in a few bytes; a trusting decoder would try to
    // allocate gigabytes. All must fail fast as MALFORMED, and for the right reason.
    var settings = new SerializationSettings(1 << 20, 64, references, 2);
    var codec = new SnapshotCodec(new KryoPool(REGISTRY, settings, k -> {}, "register it"));
    int huge = Integer.MAX_VALUE - 1;
    int[] classIds = {
      10, // byte[]
      11, // char[]
      12, // short[]
      13, // int[]
      14, // long[]
      15, // float[]
      16, // double[]
      17, // boolean[]
      18, // String[]
      19, // Object[]
      20, // ArrayList
      22, // HashMap
      50, // List.of(a, b, c) (ListN)
      55, // Map.of(...) (MapN)
      40, // BitSet
    };
    for (int classId : classIds) {
      byte[] frame = forge(kryoPrefix(references, classId, huge));
      var e =
          assertThrows(
              SnapshotFormatException.class,
              () -> codec.decode(frame, 0, frame.length, NODE, OBJECT, COLOR, Purpose.SNAPSHOT),
              () -> "class id " + classId);
      assertEquals(DecodeStatus.MALFORMED, e.status(), e.getMessage());
      assertTrue(
          e.getMessage().contains("bytes left in the input"),
          () -> "class id " + classId + ": " + e.getMessage());
    }
  }

  @ParameterizedTest
  @ValueSource(booleans = {true, false})
  void shouldRefuseAHostileStringLength(boolean references) {
    var settings = new SerializationSettings(1 << 20, 64, references, 2);
    var codec = new SnapshotCodec(new KryoPool(REGISTRY, settings, k -> {}, "register it"));
    Output out = new Output(32);
    out.writeVarInt(1 + 2, true); // String's registration id (1)
    if (references) {
      out.writeVarInt(1, true);
    }
    // Kryo's UTF-8 string header: varint with the flag bit, char count + 1.
    out.writeVarIntFlag(true, Integer.MAX_VALUE - 10, true);
    byte[] frame = forge(out.toBytes());
    var e =
        assertThrows(
            SnapshotFormatException.class,
            () -> codec.decode(frame, 0, frame.length, NODE, OBJECT, COLOR, Purpose.SNAPSHOT));
    assertEquals(DecodeStatus.MALFORMED, e.status());
    assertTrue(e.getMessage().contains("bytes left in the input"), e.getMessage());
  }

  @Test
  void shouldDecodeCollectionsOfNullsButBoundTheirLength() {
    for (int n : new int[] {1, 4, 1000}) {
      ArrayList<Object> nulls = new ArrayList<>(Collections.nCopies(n, null));
      byte[] frame = codec.encode(nulls, NODE, OBJECT, COLOR, Purpose.SNAPSHOT);
      assertEquals(
          nulls,
          codec.decode(frame, 0, frame.length, NODE, OBJECT, COLOR, Purpose.SNAPSHOT),
          n + " nulls, written in " + frame.length + " bytes");
    }
    // ArrayList (20), "same type" and a huge length in one varint, then the null class.
    Output out = new Output(32);
    out.writeVarInt(20 + 2, true);
    out.writeVarInt(1, true);
    out.writeVarIntFlag(true, Integer.MAX_VALUE - 1, true);
    out.writeByte(Kryo.NULL);
    byte[] hostile = forge(out.toBytes());
    var e =
        assertThrows(
            SnapshotFormatException.class,
            () -> codec.decode(hostile, 0, hostile.length, NODE, OBJECT, COLOR, Purpose.SNAPSHOT));
    assertEquals(DecodeStatus.MALFORMED, e.status());
    assertTrue(e.getMessage().contains("null elements exceeds the limit"), e.getMessage());
  }

  @Test
  void shouldBoundTheLengthOfUserRegisteredArrays() {
    var registry =
        ClassRegistry.builder().registerAll(REGISTRY).register(Point[].class, 130).build();
    var codec = codec(registry, 1 << 20);
    Point[] points = {new Point(1, 2), null, new Point(3, 4)};
    byte[] frame = codec.encode(points, NODE, OBJECT, COLOR, Purpose.SNAPSHOT);
    assertArrayEquals(
        points,
        (Point[]) codec.decode(frame, 0, frame.length, NODE, OBJECT, COLOR, Purpose.SNAPSHOT));
    byte[] hostile = forge(kryoPrefix(true, 130, Integer.MAX_VALUE - 1));
    var e =
        assertThrows(
            SnapshotFormatException.class,
            () -> codec.decode(hostile, 0, hostile.length, NODE, OBJECT, COLOR, Purpose.SNAPSHOT));
    assertTrue(e.getMessage().contains("bytes left in the input"), e.getMessage());
  }

  @Test
  void shouldRejectTrailingBytesAfterTheValue() {
    byte[] good = codec.encode(5, NODE, OBJECT, COLOR, Purpose.SNAPSHOT);
    byte[] payload = Arrays.copyOfRange(good, SnapshotCodec.HEADER_BYTES, good.length);
    byte[] frame = forge(Arrays.copyOf(payload, payload.length + 3));
    var e =
        assertThrows(
            SnapshotFormatException.class,
            () -> codec.decode(frame, 0, frame.length, NODE, OBJECT, COLOR, Purpose.SNAPSHOT));
    assertEquals(DecodeStatus.MALFORMED, e.status());
  }

  @Test
  void shouldNeverYieldAValueFromRandomlyCorruptedFrames() {
    Random random = new Random(20241123L);
    var value =
        new Tagged(
            "fuzz",
            List.of(new Point(1, 2), new Point(3, 4)),
            new HashMap<>(Map.of("a", 1L, "b", 2L)));
    byte[] frame = codec.encode(value, NODE, OBJECT, COLOR, Purpose.SNAPSHOT);
    for (int round = 0; round < 20_000; round++) {
      byte[] bad = frame.clone();
      int flips = 1 + random.nextInt(4);
      for (int f = 0; f < flips; f++) {
        bad[random.nextInt(bad.length)] = (byte) random.nextInt(256);
      }
      if (Arrays.equals(bad, frame)) {
        continue;
      }
      try {
        Object decoded = codec.decode(bad, 0, bad.length, NODE, OBJECT, COLOR, Purpose.SNAPSHOT);
        fail("corrupted frame decoded to " + decoded + " in round " + round);
      } catch (SnapshotFormatException expected) {
        assertNotEquals(DecodeStatus.OK, expected.status());
      }
    }
  }

  @Test
  void shouldFailCleanlyOnRandomPayloadsWithValidChecksums() {
    // The hostile case: garbage that passes the CRC. Kryo may decode some of it into a value,
    // but it must never throw anything but SnapshotFormatException, hang, or exhaust memory.
    Random random = new Random(7L);
    byte[] good =
        codec.encode(
            new Tagged("x", List.of(new Point(1, 1)), new HashMap<>()),
            NODE,
            OBJECT,
            COLOR,
            Purpose.SNAPSHOT);
    byte[] template = Arrays.copyOfRange(good, SnapshotCodec.HEADER_BYTES, good.length);
    int decoded = 0;
    for (int round = 0; round < 20_000; round++) {
      byte[] payload;
      if (random.nextBoolean()) {
        payload = new byte[1 + random.nextInt(64)];
        random.nextBytes(payload);
      } else {
        payload = template.clone();
        payload[random.nextInt(payload.length)] = (byte) random.nextInt(256);
      }
      byte[] frame = forge(payload);
      try {
        codec.decode(frame, 0, frame.length, NODE, OBJECT, COLOR, Purpose.SNAPSHOT);
        decoded++;
      } catch (SnapshotFormatException expected) {
        assertTrue(
            expected.status() == DecodeStatus.MALFORMED
                || expected.status() == DecodeStatus.UNKNOWN_CLASS,
            expected.toString());
      }
    }
    assertTrue(decoded < 20_000);
    // Still healthy afterwards.
    assertEquals(value(), roundTrip(value()));
  }

  private static Tagged value() {
    return new Tagged("after", List.of(new Point(9, 9)), new HashMap<>(Map.of("z", 26L)));
  }
}
