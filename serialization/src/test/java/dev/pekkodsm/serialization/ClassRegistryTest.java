package dev.pekkodsm.serialization;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class ClassRegistryTest {

  record Point(int x, int y) {}

  record Line(Point a, Point b) {}

  @Test
  void shouldRejectIdsInTheReservedRange() {
    var e =
        assertThrows(
            IllegalArgumentException.class,
            () -> ClassRegistry.builder().register(Point.class, 99));
    assertTrue(e.getMessage().contains("id=99"), e.getMessage());
    assertTrue(e.getMessage().contains("reserved"), e.getMessage());
  }

  @Test
  void shouldRejectAnIdTakenByAnotherClass() {
    var b = ClassRegistry.builder().register(Point.class, 100);
    var e = assertThrows(IllegalArgumentException.class, () -> b.register(Line.class, 100));
    assertTrue(e.getMessage().contains(Point.class.getName()), e.getMessage());
  }

  @Test
  void shouldRejectAClassUnderTwoIds() {
    var b = ClassRegistry.builder().register(Point.class, 100);
    assertThrows(IllegalArgumentException.class, () -> b.register(Point.class, 101));
  }

  @Test
  void shouldAcceptTheSameRegistrationTwice() {
    var r = ClassRegistry.builder().register(Point.class, 100).register(Point.class, 100).build();
    assertEquals(1, r.userClasses().size());
  }

  @Test
  void shouldRejectBuiltinsInterfacesAndPrimitives() {
    assertThrows(
        IllegalArgumentException.class,
        () -> ClassRegistry.builder().register(ArrayList.class, 100));
    assertThrows(
        IllegalArgumentException.class, () -> ClassRegistry.builder().register(List.class, 100));
    assertThrows(
        IllegalArgumentException.class, () -> ClassRegistry.builder().register(int.class, 100));
  }

  @Test
  void shouldGiveEqualRegistriesEqualFingerprints() {
    var a = ClassRegistry.builder().register(Point.class, 100).register(Line.class, 101).build();
    var b = ClassRegistry.builder().register(Line.class, 101).register(Point.class, 100).build();
    var c = ClassRegistry.builder().register(Point.class, 101).register(Line.class, 100).build();
    assertEquals(a.fingerprint(), b.fingerprint());
    assertNotEquals(a.fingerprint(), c.fingerprint());
    assertNotEquals(a.fingerprint(), ClassRegistry.empty().fingerprint());
  }
}
