package dev.pekkodsm.samples;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

class TourTest {

  @Test
  @Timeout(value = 120, unit = TimeUnit.SECONDS)
  void shouldRunEveryStepOfTheTour() {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    new Tour(new PrintStream(bytes, true, StandardCharsets.UTF_8)).run();
    String out = bytes.toString(StandardCharsets.UTF_8);
    for (String expected :
        new String[] {
          "1. Allocate",
          "one-sided reads +1",
          "cache hits +1",
          "UseAfterMoveException",
          "2 messages on the wire",
          "StaleReferenceException",
          "BorrowConflictException",
          "8. Drop",
          "counter.read(v -> v) = 300",
          "9. A counter",
          "12. Tasks placed by load",
          "Tour complete."
        }) {
      assertTrue(out.contains(expected), () -> "missing \"" + expected + "\" in:\n" + out);
    }
  }
}
