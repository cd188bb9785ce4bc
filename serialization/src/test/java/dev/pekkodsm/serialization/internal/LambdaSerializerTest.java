package dev.pekkodsm.serialization.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pekkodsm.serialization.ClassRegistry;
import dev.pekkodsm.serialization.SerializationSettings;
import dev.pekkodsm.serialization.SnapshotFormatException;
import dev.pekkodsm.serialization.UnregisteredClassException;
import java.io.Serializable;
import java.util.Arrays;
import java.util.List;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

class LambdaSerializerTest {

  interface SFunction<T, R> extends Function<T, R>, Serializable {}

  record Point(int x, int y) {}

  static final class NotRegistered {
    int value = 1;
  }

  final KryoPool pool =
      new KryoPool(
          ClassRegistry.builder().register(Point.class, 100).build(),
          new SerializationSettings(1 << 20, 64, true, 4),
          k -> {},
          "register it");

  @SuppressWarnings("unchecked")
  <T, R> SFunction<T, R> roundTrip(SFunction<T, R> fn) {
    byte[] bytes = pool.toBytes(fn, Purpose.MESSAGE);
    return (SFunction<T, R>) pool.fromBytes(bytes, 0, bytes.length, Purpose.MESSAGE);
  }

  @Test
  void shouldRebuildALambdaWithItsCapturedValues() {
    Point offset = new Point(3, 4);
    String label = "moved";
    SFunction<Point, String> move =
        p -> label + " " + new Point(p.x() + offset.x(), p.y() + offset.y());
    SFunction<Point, String> copy = roundTrip(move);
    assertEquals("moved Point[x=4, y=5]", copy.apply(new Point(1, 1)));
  }

  @Test
  void shouldRebuildMethodReferencesAndCaptureFreeLambdas() {
    SFunction<List<Integer>, Integer> size = List::size;
    SFunction<Integer, Integer> twice = x -> x * 2;
    assertEquals(3, roundTrip(size).apply(List.of(1, 2, 3)));
    assertEquals(8, roundTrip(twice).apply(4));
  }

  @Test
  void shouldRefuseALambdaThatIsNotSerializable() {
    Function<Integer, Integer> plain = x -> x + 1;
    var e =
        assertThrows(IllegalArgumentException.class, () -> pool.toBytes(plain, Purpose.MESSAGE));
    assertTrue(e.getMessage().contains("Serializable"), e.getMessage());
  }

  @Test
  void shouldRefuseAnUnregisteredCaptureWhenWriting() {
    NotRegistered captured = new NotRegistered();
    SFunction<Integer, Integer> fn = x -> x + captured.value;
    var e = assertThrows(UnregisteredClassException.class, () -> pool.toBytes(fn, Purpose.MESSAGE));
    assertEquals(NotRegistered.class.getName(), e.className());
  }

  @Test
  void shouldRefuseToNameAClassWithoutSerializableLambdas() {
    SFunction<Integer, Integer> fn = x -> x + 1;
    byte[] bytes = pool.toBytes(fn, Purpose.MESSAGE);
    String here = LambdaSerializerTest.class.getName().replace('.', '/');
    String elsewhere = "java/lang/Thread" + "X".repeat(here.length() - "java/lang/Thread".length());
    byte[] forged = replace(bytes, here.getBytes(), elsewhere.getBytes());
    var e =
        assertThrows(
            SnapshotFormatException.class,
            () -> pool.fromBytes(forged, 0, forged.length, Purpose.MESSAGE));
    assertTrue(
        e.getMessage().contains("not here") || e.getMessage().contains("no serializable"),
        e.getMessage());
  }

  private static byte[] replace(byte[] bytes, byte[] from, byte[] to) {
    byte[] out = bytes.clone();
    for (int i = 0; i + from.length <= out.length; i++) {
      if (Arrays.equals(Arrays.copyOfRange(out, i, i + from.length), from)) {
        System.arraycopy(to, 0, out, i, to.length);
      }
    }
    return out;
  }
}
