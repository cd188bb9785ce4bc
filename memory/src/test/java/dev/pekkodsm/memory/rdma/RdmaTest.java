package dev.pekkodsm.memory.rdma;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import java.io.IOException;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** The availability probe: what it reports here, and how it judges each failure. */
class RdmaTest {

  @Test
  void shouldReportWhyRdmaIsUnavailableWithoutThrowing() {
    assumeFalse(Rdma.isAvailable(), "RDMA is available on this machine");
    Throwable cause = Rdma.unavailabilityCause();
    assertNotNull(cause);
    String message = cause.getMessage();
    assertNotNull(message);
    // Whatever is missing, the message names it and says what to do.
    assertTrue(
        message.contains("libdisni")
            || message.contains("RDMA device")
            || message.contains("--add-exports")
            || message.contains(Rdma.DISABLED_PROPERTY)
            || message.contains("slf4j"),
        message);
    if (cause.getCause() instanceof UnsatisfiedLinkError) { // this project's CI machines
      assertTrue(message.contains("java.library.path"), message);
      assertTrue(message.contains("LD_LIBRARY_PATH"), message);
      assertTrue(message.contains("--with-jdk"), message);
    }
  }

  @Test
  void shouldThrowTheCauseFromEnsureAvailability() {
    assumeFalse(Rdma.isAvailable(), "RDMA is available on this machine");
    IllegalStateException e = assertThrows(IllegalStateException.class, Rdma::ensureAvailability);
    assertSame(Rdma.unavailabilityCause(), e.getCause());
    assertTrue(e.getMessage().contains(Rdma.unavailabilityCause().getMessage()), e.getMessage());
  }

  @Test
  void shouldBeDisabledByTheSystemPropertyWithoutRunningTheProbe() {
    AtomicInteger runs = new AtomicInteger();
    for (String value : new String[] {"true", "TRUE", " true "}) {
      Throwable cause = Rdma.evaluate(value, runs::incrementAndGet);
      assertInstanceOf(UnsupportedOperationException.class, cause);
      assertTrue(cause.getMessage().contains("-D" + Rdma.DISABLED_PROPERTY + "="), value);
    }
    assertEquals(0, runs.get());
  }

  @Test
  void shouldRunTheProbeUnlessDisabled() {
    AtomicInteger runs = new AtomicInteger();
    assertNull(Rdma.evaluate(null, runs::incrementAndGet, runs::incrementAndGet));
    assertNull(Rdma.evaluate("false", runs::incrementAndGet));
    assertNull(Rdma.evaluate("", runs::incrementAndGet));
    assertEquals(4, runs.get());
  }

  @Test
  void shouldExplainAMissingNativeLibrary() {
    UnsatisfiedLinkError missing =
        new UnsatisfiedLinkError("no disni in java.library.path: /usr/lib");
    Throwable cause =
        Rdma.evaluate(
            null,
            () -> {
              throw missing;
            });
    assertSame(missing, cause.getCause());
    assertTrue(cause.getMessage().contains("libdisni"), cause.getMessage());
    assertTrue(cause.getMessage().contains("no disni in java.library.path"), cause.getMessage());
    assertTrue(cause.getMessage().contains("make install"), cause.getMessage());
  }

  @Test
  void shouldExplainAHostWithoutAnRdmaDevice() {
    Throwable cause =
        Rdma.evaluate(
            null,
            () -> {
              throw new IOException(
                  "j2c::createEventChannel: rdma_create_event_channel failed: No such device\n");
            });
    assertTrue(cause.getMessage().startsWith("no RDMA device is usable"), cause.getMessage());
    assertTrue(cause.getMessage().contains("ibv_devices"), cause.getMessage());
  }

  @Test
  void shouldExplainTheMissingModuleExport() {
    Throwable cause =
        Rdma.evaluate(
            null,
            () -> {
              throw new IllegalAccessError(
                  "class com.ibm.disni.util.MemoryUtils cannot access class"
                      + " sun.nio.ch.DirectBuffer (in module java.base)");
            });
    assertTrue(
        cause.getMessage().contains("--add-exports java.base/sun.nio.ch=ALL-UNNAMED"),
        cause.getMessage());
  }

  @Test
  void shouldExplainMissingClasses() {
    Throwable slf4j =
        Rdma.evaluate(
            null,
            () -> {
              throw new NoClassDefFoundError("org/slf4j/LoggerFactory");
            });
    assertTrue(slf4j.getMessage().contains("slf4j-api"), slf4j.getMessage());
    Throwable again =
        Rdma.evaluate(
            null,
            () -> {
              throw new NoClassDefFoundError(
                  "Could not initialize class com.ibm.disni.verbs.impl.NativeDispatcher");
            });
    assertTrue(again.getMessage().contains("libdisni"), again.getMessage());
  }

  @Test
  void shouldReportEveryFailedStep() {
    Throwable cause =
        Rdma.evaluate(
            null,
            () -> {
              throw new UnsatisfiedLinkError("no disni");
            },
            () -> {
              throw new IllegalAccessError("cannot access class sun.nio.ch.DirectBuffer");
            });
    assertInstanceOf(UnsatisfiedLinkError.class, cause.getCause());
    assertEquals(1, cause.getSuppressed().length);
    assertTrue(cause.getMessage().contains("libdisni"), cause.getMessage());
    assertTrue(cause.getMessage().contains("; also: "), cause.getMessage());
    assertTrue(cause.getMessage().contains("--add-exports"), cause.getMessage());
  }

  @Test
  void shouldNeverThrowOutOfTheProbe() {
    Throwable cause =
        Rdma.evaluate(
            null,
            () -> {
              throw new Error("anything at all");
            });
    assertNotNull(cause);
    assertTrue(cause.getMessage().contains("anything at all"), cause.getMessage());
  }

  @Test
  void shouldAgreeWithItselfAcrossCalls() {
    assertEquals(Rdma.isAvailable(), Rdma.unavailabilityCause() == null);
    assertSame(Rdma.unavailabilityCause(), Rdma.unavailabilityCause());
    if (!Rdma.isAvailable()) {
      assertFalse(Rdma.unavailabilityCause().getMessage().isBlank());
    }
  }
}
