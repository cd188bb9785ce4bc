package dev.pekkodsm.memory.rdma;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

class RdmaSettingsTest {

  private static final RdmaSettings DEFAULTS = RdmaSettings.defaults("10.0.0.1");

  @Test
  void shouldAcceptTheDefaults() {
    assertEquals("10.0.0.1", DEFAULTS.bindHost());
    assertEquals(0, DEFAULTS.port());
    assertEquals(100, DEFAULTS.eventPollMillis());
    assertEquals(7471, DEFAULTS.withPort(7471).port());
    assertEquals("10.0.0.2", DEFAULTS.withBindHost("10.0.0.2").bindHost());
    assertEquals(4, DEFAULTS.withReadBuffers(4, 4096, 64).queueDepth());
  }

  @Test
  void shouldNameTheValuesItRefuses() {
    refused("port=65536", () -> DEFAULTS.withPort(65536));
    refused("port=-1", () -> DEFAULTS.withPort(-1));
    refused("queueDepth=0", () -> DEFAULTS.withReadBuffers(0, 4096, 64));
    refused("queueDepth=1025", () -> DEFAULTS.withReadBuffers(1025, 4096, 64));
    refused("firstReadBytes=39", () -> DEFAULTS.withReadBuffers(4, 4096, 39));
    refused(
        "readBufferBytes=100 < firstReadBytes=512", () -> DEFAULTS.withReadBuffers(4, 100, 512));
    refused(
        "queueDepth=1024 x readBufferBytes=2097152",
        () -> DEFAULTS.withReadBuffers(1024, 2 << 20, 512));
    refused("backlog=0", () -> settings(0, 1, Duration.ofSeconds(1), Duration.ofMillis(100)));
    refused(
        "maxConnections=0", () -> settings(1, 0, Duration.ofSeconds(1), Duration.ofMillis(100)));
    refused("connectTimeout=PT0S", () -> settings(1, 1, Duration.ZERO, Duration.ofMillis(100)));
    refused(
        "connectTimeout=PT-1S",
        () -> settings(1, 1, Duration.ofSeconds(-1), Duration.ofMillis(100)));
    refused(
        "eventPollInterval=PT0.0005S",
        () -> settings(1, 1, Duration.ofSeconds(1), Duration.ofNanos(500_000)));
    assertThrows(NullPointerException.class, () -> DEFAULTS.withBindHost(null));
  }

  private static RdmaSettings settings(
      int backlog, int maxConnections, Duration connectTimeout, Duration eventPollInterval) {
    return new RdmaSettings(
        "10.0.0.1",
        0,
        backlog,
        maxConnections,
        connectTimeout,
        Duration.ofSeconds(1),
        16,
        65536,
        512,
        eventPollInterval);
  }

  private static void refused(String expected, Executable build) {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, build);
    assertTrue(e.getMessage().contains(expected), e.getMessage());
  }
}
