package dev.pekkodsm.samples;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

class TourTest {

  /** What every run of the tour says, wherever its nodes are. */
  static final String[] EVERY_STEP = {
    "1. Allocate",
    "one-sided reads +1",
    "cache hits +1",
    "UseAfterMoveException",
    "node 2 put 1 message on the wire, the hand-over request",
    "moves out +1",
    "0 messages sent",
    "StaleReferenceException",
    "BorrowConflictException",
    "8. Drop",
    "counter.read(v -> v) = 300",
    "9. A counter",
    "it did not move: still on node 1",
    "one one-sided read per chunk that lives elsewhere",
    "12. Tasks placed by load",
    "Tour complete."
  };

  static void assertEveryStep(String out) {
    for (String expected : EVERY_STEP) {
      assertTrue(out.contains(expected), () -> "missing \"" + expected + "\" in:\n" + out);
    }
  }

  @Test
  @Timeout(value = 120, unit = TimeUnit.SECONDS)
  void shouldRunEveryStepOfTheTour() {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    new Tour(new PrintStream(bytes, true, StandardCharsets.UTF_8)).run();
    String out = bytes.toString(StandardCharsets.UTF_8);
    assertEveryStep(out);
    assertTrue(out.contains("4/4/4 on nodes 1/2/3"), out);
  }
}
