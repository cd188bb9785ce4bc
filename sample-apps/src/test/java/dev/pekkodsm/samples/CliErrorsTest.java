package dev.pekkodsm.samples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every user error of {@code ./dsm} is one or two plain lines and exit code 2, found before
 * anything starts: through {@link Main#run}, what {@code main} exits with.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class CliErrorsTest {

  /** What a run printed on each stream, and its exit code. */
  record Outcome(int code, String out, String err) {
    List<String> errLines() {
      return err.lines().filter(l -> !l.isBlank()).toList();
    }
  }

  static Outcome run(String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    StringWriter err = new StringWriter();
    PrintStream stdout = System.out;
    System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
    int code;
    try {
      code = Main.run(new PrintWriter(err, true), args);
    } finally {
      System.setOut(stdout);
    }
    return new Outcome(code, out.toString(StandardCharsets.UTF_8), err.toString());
  }

  /** Exit 2, at most two lines on stderr, the first naming the command and saying {@code what}. */
  static void assertUsageError(String command, String what, String... args) {
    Outcome o = run(args);
    String all = "exit " + o.code() + "\nstderr:\n" + o.err() + "\nstdout:\n" + o.out();
    assertEquals(2, o.code(), all);
    List<String> lines = o.errLines();
    assertTrue(lines.size() >= 1 && lines.size() <= 2, "one or two lines: " + all);
    assertTrue(lines.get(0).startsWith("./dsm " + command + ": "), all);
    assertTrue(lines.get(0).contains(what), "says \"" + what + "\": " + all);
    assertFalse(o.err().contains("Exception") || o.err().contains("\tat "), "no trace: " + all);
    assertTrue(o.out().isBlank(), "nothing started: " + all);
  }

  @Test
  void shouldRejectAReadRatioAboveOne() {
    assertUsageError(
        "bench kv",
        "--read-ratio 1.5: must be within [0, 1]",
        "bench",
        "kv",
        "--read-ratio",
        "1.5");
  }

  @Test
  void shouldRejectZeroKeys() {
    assertUsageError("bench kv", "--keys 0: must be at least 1", "bench", "kv", "--keys", "0");
  }

  @Test
  void shouldRejectANegativeDuration() {
    assertUsageError(
        "bench kv", "--duration -5000 ms: must be more than 0", "bench", "kv", "--duration", "-5s");
  }

  @Test
  void shouldRejectValuesTooSmallForTheVersion() {
    assertUsageError(
        "bench kv", "--value-bytes 4: must be at least 8", "bench", "kv", "--value-bytes", "4");
  }

  @Test
  void shouldRejectZeroThreads() {
    assertUsageError(
        "bench kv", "--threads 0: must be at least 1", "bench", "kv", "--threads", "0");
  }

  @Test
  void shouldRejectANegativeZipfConstant() {
    assertUsageError(
        "bench kv", "--zipf -1.0: must be within [0, 1)", "bench", "kv", "--zipf", "-1");
  }

  @Test
  void shouldRejectZeroNodesBeforeStartingAChildJvm() {
    long childrenBefore = ProcessHandle.current().children().count();
    assertUsageError("bench kv", "--nodes 0: must be 1 to 64", "bench", "kv", "--nodes", "0");
    assertEquals(childrenBefore, ProcessHandle.current().children().count(), "no child JVM");
  }

  @Test
  void shouldRejectAnUnknownSystemAndAnUnparsableDuration() {
    assertUsageError("bench kv", "unknown system redis", "bench", "kv", "--systems=redis");
    assertUsageError("bench kv", "'soon' is not a duration", "bench", "kv", "--duration=soon");
  }

  @Test
  void shouldRejectAMissingConfigFile() {
    assertUsageError(
        "node", "no such config file: /nonexistent.conf", "node", "--config", "/nonexistent.conf");
    assertUsageError(
        "tour", "no such config file: /nonexistent.conf", "tour", "--config", "/nonexistent.conf");
  }

  @Test
  void shouldRejectAPortOutOfRange() {
    assertUsageError("node", "port 99999 is not a port", "node", "--port", "99999");
  }

  @Test
  void shouldRejectAPortInUse() throws Exception {
    try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      int port = taken.getLocalPort();
      assertUsageError(
          "node",
          "port " + port + " on 127.0.0.1 is in use",
          "node",
          "--host",
          "127.0.0.1",
          "--port",
          String.valueOf(port));
      assertUsageError(
          "tour",
          "port " + port + " on 127.0.0.1 is in use",
          "tour",
          "--join",
          "127.0.0.1:25521",
          "--port",
          String.valueOf(port));
    }
  }

  @Test
  void shouldRejectAnUnknownTransportInTheConfig(@TempDir Path dir) throws Exception {
    Path conf = dir.resolve("pigeon.conf");
    Files.writeString(conf, "pekko.dsm.transport = carrier-pigeon\n");
    assertUsageError(
        "node",
        "transport=carrier-pigeon is not one of auto, shm, tcp, rdma",
        "node",
        "--config",
        conf.toString());
  }

  @Test
  void shouldRejectASeedThatIsNotHostAndPort() {
    assertUsageError("tour", "--join: 'foo' is not HOST:PORT", "tour", "--join", "foo");
    assertUsageError("node", "--seed: 'foo' is not HOST:PORT", "node", "--seed", "foo");
  }

  @Test
  void shouldRejectANegativeWait() {
    assertUsageError(
        "tour",
        "--wait -1: must be at least 1",
        "tour",
        "--join",
        "127.0.0.1:25521",
        "--wait",
        "-1");
  }

  @Test
  void shouldPrintTheTraceOnlyWithVerbose() {
    Outcome o = run("bench", "kv", "--keys", "0", "--verbose");
    assertEquals(2, o.code());
    assertTrue(o.err().contains("\tat "), o.err());
  }
}
