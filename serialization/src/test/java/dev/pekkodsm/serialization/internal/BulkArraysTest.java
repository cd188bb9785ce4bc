package dev.pekkodsm.serialization.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.esotericsoftware.kryo.KryoException;
import com.esotericsoftware.kryo.io.Input;
import com.esotericsoftware.kryo.io.Output;
import dev.pekkodsm.serialization.ClassRegistry;
import dev.pekkodsm.serialization.DecodeStatus;
import dev.pekkodsm.serialization.SerializationSettings;
import dev.pekkodsm.serialization.SnapshotFormatException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Primitive arrays move a word at a time, both ways. The three-argument array forms write exactly
 * Kryo's bytes; {@code int[]} and {@code long[]}, which Kryo would write as one varint per element,
 * are written and read at a fixed width of 4 and 8 bytes by the pool's output and input, and their
 * lengths are still bounded before anything is allocated.
 */
class BulkArraysTest {

  private static final int[] LENGTHS = {0, 1, 7, 100, 5_000, 70_000};

  /** Sizes for the round trips: empty, one, odd, and one past a 1 MiB {@code int[]}. */
  private static final int[] ROUND_TRIP_LENGTHS = {0, 1, 7, 1_001, (1 << 18) + 1};

  private static final int[] EXTREME_INTS = {Integer.MIN_VALUE, Integer.MAX_VALUE, -1, 0, 1, -64};
  private static final long[] EXTREME_LONGS = {
    Long.MIN_VALUE, Long.MAX_VALUE, -1L, 0L, 1L, Integer.MIN_VALUE - 1L, -64L
  };

  record Sample(
      String name,
      int[] ints,
      long[] longs,
      double[] doubles,
      short[] shorts,
      char[] chars,
      float[] floats,
      List<int[]> intLists,
      Map<String, long[]> longsByName,
      Object[] mixed,
      int[][] grid) {}

  private static final ClassRegistry REGISTRY =
      ClassRegistry.builder().register(Sample.class, 100).register(int[][].class, 101).build();

  private final KryoPool pool =
      new KryoPool(REGISTRY, SerializationSettings.DEFAULTS, k -> {}, "register it");
  private final SnapshotCodec codec = new SnapshotCodec(pool);

  @Test
  void shouldWriteAndReadKryosExactBytesForEveryFixedWidthArray() {
    Random random = new Random(5);
    for (int length : LENGTHS) {
      long[] longs = random.longs(length).toArray();
      int[] ints = random.ints(length).toArray();
      double[] doubles = random.doubles(length).map(d -> d * 1e300 - 5e299).toArray();
      float[] floats = new float[length];
      short[] shorts = new short[length];
      char[] chars = new char[length];
      for (int i = 0; i < length; i++) {
        floats[i] = random.nextFloat() * 1e30f;
        shorts[i] = (short) random.nextInt();
        chars[i] = (char) random.nextInt();
      }
      if (length > 4) {
        doubles[0] = Double.NaN;
        doubles[1] = -0.0;
        doubles[2] = Double.NEGATIVE_INFINITY;
        doubles[3] = Double.MIN_VALUE;
        floats[0] = Float.NaN;
        floats[1] = -0.0f;
        floats[2] = Float.POSITIVE_INFINITY;
        shorts[0] = Short.MIN_VALUE;
        shorts[1] = Short.MAX_VALUE;
        chars[0] = Character.MAX_VALUE;
      }

      Output plain = new Output(16, -1);
      Output bulk = new BulkOutput(16, 64 * 1024 * 1024);
      for (Output o : new Output[] {plain, bulk}) {
        o.writeLongs(longs, 0, length);
        o.writeInts(ints, 0, length);
        o.writeDoubles(doubles, 0, length);
        o.writeFloats(floats, 0, length);
        o.writeShorts(shorts, 0, length);
        o.writeChars(chars, 0, length);
      }
      assertArrayEquals(
          plain.toBytes(), bulk.toBytes(), "the same bytes as Kryo, length " + length);

      byte[] bytes = bulk.toBytes();
      BoundedInput in = new BoundedInput();
      in.setBuffer(bytes, 0, bytes.length);
      assertArrayEquals(longs, in.readLongs(length));
      assertArrayEquals(ints, in.readInts(length));
      assertArrayEquals(doubles, in.readDoubles(length));
      assertArrayEquals(floats, in.readFloats(length));
      assertArrayEquals(shorts, in.readShorts(length));
      assertArrayEquals(chars, in.readChars(length));
      assertEquals(bytes.length, in.position());

      Input kryo = new Input(bytes);
      assertArrayEquals(longs, kryo.readLongs(length), "plain Kryo reads them too");
    }
  }

  @Test
  void shouldWriteTheVarintFormsOfIntsAndLongsAtFixedWidthAndReadThemBack() {
    Random random = new Random(11);
    for (int length : LENGTHS) {
      int[] ints = withExtremes(random.ints(length, -100, 100).toArray());
      long[] longs = withExtremes(random.longs(length, -100, 100).toArray());
      for (boolean optimizePositive : new boolean[] {false, true}) {
        BulkOutput out = new BulkOutput(16, 64 * 1024 * 1024);
        out.writeInts(ints, 0, length, optimizePositive);
        out.writeLongs(longs, 0, length, optimizePositive);
        assertEquals(12L * length, out.position(), "4 + 8 bytes an element, length " + length);

        BulkOutput fixed = new BulkOutput(16, 64 * 1024 * 1024);
        fixed.writeInts(ints, 0, length);
        fixed.writeLongs(longs, 0, length);
        assertArrayEquals(fixed.toBytes(), out.toBytes(), "one format whatever the flag");

        byte[] bytes = out.toBytes();
        BoundedInput in = new BoundedInput();
        in.setBuffer(bytes, 0, bytes.length);
        assertArrayEquals(ints, in.readInts(length, optimizePositive));
        assertArrayEquals(longs, in.readLongs(length, optimizePositive));
        assertEquals(bytes.length, in.position());
      }
    }
  }

  @Test
  void shouldRoundTripIntAndLongArraysOfEverySizeAndRange() {
    Random random = new Random(7);
    for (int length : ROUND_TRIP_LENGTHS) {
      int[] ints = withExtremes(random.ints(length).toArray());
      int[] smallInts = random.ints(length, -64, 64).toArray();
      long[] longs = withExtremes(random.longs(length).toArray());
      long[] smallLongs = random.longs(length, -64, 64).toArray();
      short[] shorts = new short[length];
      char[] chars = new char[length];
      for (int i = 0; i < length; i++) {
        shorts[i] = (short) (i % 3 == 0 ? Short.MIN_VALUE + i : -i);
        chars[i] = (char) (Character.MAX_VALUE - i);
      }
      String at = "length " + length;
      assertArrayEquals(ints, (int[]) snapshotRoundTrip(ints), at);
      assertArrayEquals(smallInts, (int[]) snapshotRoundTrip(smallInts), at);
      assertArrayEquals(longs, (long[]) snapshotRoundTrip(longs), at);
      assertArrayEquals(smallLongs, (long[]) snapshotRoundTrip(smallLongs), at);
      assertArrayEquals(shorts, (short[]) snapshotRoundTrip(shorts), at);
      assertArrayEquals(chars, (char[]) snapshotRoundTrip(chars), at);
      assertArrayEquals(ints, (int[]) messageRoundTrip(ints), at);
      assertArrayEquals(longs, (long[]) messageRoundTrip(longs), at);
    }
  }

  @Test
  void shouldEncodeAnIntArrayInFourBytesAnElementAndALongArrayInEight() {
    for (int length : ROUND_TRIP_LENGTHS) {
      // Zeros are the smallest varints (one byte each): the size shows the width.
      int[] zeros = new int[length];
      int[] extremes = withExtremes(new int[length]);
      long[] longZeros = new long[length];
      long[] longExtremes = withExtremes(new long[length]);
      assertEquals(4L * length + header(length), pool.toBytes(zeros, Purpose.SNAPSHOT).length);
      assertEquals(4L * length + header(length), pool.toBytes(extremes, Purpose.MESSAGE).length);
      assertEquals(8L * length + header(length), pool.toBytes(longZeros, Purpose.MOVE).length);
      assertEquals(
          8L * length + header(length), pool.toBytes(longExtremes, Purpose.SNAPSHOT).length);
      assertEquals(
          2L * length + header(length), pool.toBytes(new short[length], Purpose.SNAPSHOT).length);
    }
  }

  /** Kryo's prefix of a primitive array: its class id, the reference marker, its length + 1. */
  private static int header(int length) {
    return 1 + 1 + Output.varIntLength(length + 1, true);
  }

  @Test
  void shouldRefuseALengthBeyondTheBytes() {
    BoundedInput in = new BoundedInput();
    in.setBuffer(new byte[64], 0, 64);
    assertThrows(KryoException.class, () -> in.readDoubles(9));
    assertThrows(KryoException.class, () -> in.readLongs(Integer.MAX_VALUE));
    assertThrows(KryoException.class, () -> in.readInts(-1));
    // 17 elements would fit as one-byte varints, not at their fixed width.
    assertThrows(KryoException.class, () -> in.readInts(17, false));
    assertThrows(KryoException.class, () -> in.readLongs(9, true));
    assertThrows(KryoException.class, () -> in.readInts(Integer.MAX_VALUE, true));
    assertThrows(KryoException.class, () -> in.readLongs(-1, false));
    assertThrows(KryoException.class, () -> in.readShorts(33));
    assertThrows(KryoException.class, () -> in.readChars(33));
    assertEquals(0, in.position(), "nothing consumed by a refused length");
    assertArrayEquals(new int[8], in.readInts(8, false));
    assertArrayEquals(new long[4], in.readLongs(4, true));
    assertEquals(64, in.position());
  }

  @Test
  void shouldRefuseATruncatedIntOrLongArray() {
    for (Object value : new Object[] {new int[1_000], new long[1_000], new int[] {-1}}) {
      byte[] bytes = pool.toBytes(value, Purpose.SNAPSHOT);
      var e =
          assertThrows(
              SnapshotFormatException.class,
              () -> pool.fromBytes(bytes, 0, bytes.length - 1, Purpose.SNAPSHOT),
              () -> value.getClass().getSimpleName());
      assertEquals(DecodeStatus.MALFORMED, e.status());
      assertTrue(e.getMessage().contains("bytes left in the input"), e.getMessage());
    }
  }

  @Test
  void shouldRefuseAHostileLengthThatOnlyVarintsWouldFit() {
    // A forged int[] (13) and long[] (14) of 100 elements followed by 100 bytes: room for 100
    // one-byte varints, not for 100 fixed-width elements.
    for (int classId : new int[] {13, 14}) {
      Output out = new Output(256);
      out.writeVarInt(classId + 2, true); // Kryo writes registration ids + 2
      out.writeVarInt(1, true); // a new object, not a back reference
      out.writeVarInt(100 + 1, true); // length + 1
      out.writeBytes(new byte[100]);
      byte[] bytes = out.toBytes();
      var e =
          assertThrows(
              SnapshotFormatException.class,
              () -> pool.fromBytes(bytes, 0, bytes.length, Purpose.MESSAGE),
              () -> "class id " + classId);
      assertEquals(DecodeStatus.MALFORMED, e.status());
      assertTrue(e.getMessage().contains("bytes left in the input"), e.getMessage());
    }
  }

  @Test
  void shouldRoundTripArraysInsideRecordsAndCollections() {
    Random random = new Random(3);
    int[] shared = withExtremes(random.ints(3_001).toArray());
    Map<String, long[]> longsByName = new HashMap<>();
    longsByName.put("empty", new long[0]);
    longsByName.put("extremes", withExtremes(new long[9]));
    longsByName.put("large", random.longs(100_001).toArray());
    Sample sample =
        new Sample(
            "sample",
            shared,
            withExtremes(random.longs(33).toArray()),
            random.doubles(17).toArray(),
            new short[] {Short.MIN_VALUE, -1, 0, Short.MAX_VALUE},
            "chars ✓".toCharArray(),
            new float[] {Float.MIN_VALUE, -0.0f, 3.5f},
            new ArrayList<>(List.of(shared, new int[0], new int[] {Integer.MIN_VALUE}, shared)),
            longsByName,
            new Object[] {new int[] {1, -1}, "text", new long[] {Long.MAX_VALUE}, 5, null},
            new int[][] {{1, 2, 3}, {}, {Integer.MAX_VALUE}});

    for (Object copy : List.of(snapshotRoundTrip(sample), messageRoundTrip(sample))) {
      Sample read = (Sample) copy;
      assertEquals(sample.name(), read.name());
      assertArrayEquals(sample.ints(), read.ints());
      assertArrayEquals(sample.longs(), read.longs());
      assertArrayEquals(sample.doubles(), read.doubles());
      assertArrayEquals(sample.shorts(), read.shorts());
      assertArrayEquals(sample.chars(), read.chars());
      assertArrayEquals(sample.floats(), read.floats());
      assertEquals(sample.intLists().size(), read.intLists().size());
      for (int i = 0; i < sample.intLists().size(); i++) {
        assertArrayEquals(sample.intLists().get(i), read.intLists().get(i), "list element " + i);
      }
      // References are on by default: the array met three times is decoded once.
      assertSame(read.ints(), read.intLists().get(0));
      assertSame(read.ints(), read.intLists().get(3));
      assertEquals(sample.longsByName().keySet(), read.longsByName().keySet());
      sample
          .longsByName()
          .forEach((name, longs) -> assertArrayEquals(longs, read.longsByName().get(name), name));
      assertArrayEquals(sample.mixed(), read.mixed());
      assertTrue(Arrays.deepEquals(sample.grid(), read.grid()));
    }
  }

  private Object snapshotRoundTrip(Object value) {
    byte[] frame = codec.encode(value, 1, 2, 3, Purpose.SNAPSHOT);
    return codec.decode(frame, 0, frame.length, 1, 2, 3, Purpose.SNAPSHOT);
  }

  private Object messageRoundTrip(Object value) {
    byte[] bytes = pool.toBytes(value, Purpose.MESSAGE);
    return pool.fromBytes(bytes, 0, bytes.length, Purpose.MESSAGE);
  }

  private static int[] withExtremes(int[] values) {
    for (int i = 0; i < values.length; i += 5) {
      values[i] = EXTREME_INTS[(i / 5) % EXTREME_INTS.length];
    }
    return values;
  }

  private static long[] withExtremes(long[] values) {
    for (int i = 0; i < values.length; i += 5) {
      values[i] = EXTREME_LONGS[(i / 5) % EXTREME_LONGS.length];
    }
    return values;
  }
}
