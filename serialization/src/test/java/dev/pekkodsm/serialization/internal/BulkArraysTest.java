package dev.pekkodsm.serialization.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.esotericsoftware.kryo.KryoException;
import com.esotericsoftware.kryo.io.Input;
import com.esotericsoftware.kryo.io.Output;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The word-at-a-time array paths write exactly Kryo's bytes and read them back exactly, including
 * arrays larger than the output's initial buffer and special floating-point values.
 */
class BulkArraysTest {

  private static final int[] LENGTHS = {0, 1, 7, 100, 5_000, 70_000};

  @Test
  void shouldWriteAndReadKryosExactBytesForEveryFixedWidthArray() {
    Random random = new Random(5);
    for (int length : LENGTHS) {
      long[] longs = random.longs(length).toArray();
      int[] ints = random.ints(length).toArray();
      double[] doubles = random.doubles(length).map(d -> d * 1e300 - 5e299).toArray();
      float[] floats = new float[length];
      for (int i = 0; i < length; i++) {
        floats[i] = random.nextFloat() * 1e30f;
      }
      if (length > 4) {
        doubles[0] = Double.NaN;
        doubles[1] = -0.0;
        doubles[2] = Double.NEGATIVE_INFINITY;
        doubles[3] = Double.MIN_VALUE;
        floats[0] = Float.NaN;
        floats[1] = -0.0f;
        floats[2] = Float.POSITIVE_INFINITY;
      }

      Output plain = new Output(16, -1);
      Output bulk = new BulkOutput(16, 64 * 1024 * 1024);
      for (Output o : new Output[] {plain, bulk}) {
        o.writeLongs(longs, 0, length);
        o.writeInts(ints, 0, length);
        o.writeDoubles(doubles, 0, length);
        o.writeFloats(floats, 0, length);
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

      Input kryo = new Input(bytes);
      assertArrayEquals(longs, kryo.readLongs(length), "plain Kryo reads them too");
    }
  }

  @Test
  void shouldStillRefuseALengthBeyondTheBytes() {
    BoundedInput in = new BoundedInput();
    in.setBuffer(new byte[64], 0, 64);
    assertThrows(KryoException.class, () -> in.readDoubles(9));
    assertThrows(KryoException.class, () -> in.readLongs(Integer.MAX_VALUE));
    assertThrows(KryoException.class, () -> in.readInts(-1));
    assertArrayEquals(new double[8], in.readDoubles(8));
  }
}
