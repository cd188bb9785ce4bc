package dev.pekkodsm.samples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * What {@code ./dsm} leaves behind when it is stopped from outside, through its real main in a JVM
 * of its own: SIGTERM of a tour removes its nodes' arenas; kill -9 of {@code bench kv} takes its
 * child JVM and the child's result file and arenas with it.
 */
@Timeout(value = 240, unit = TimeUnit.SECONDS)
class LeftoversTest {

  /** Where arenas go by default (pekko.dsm.arena.directory = ""). */
  private static final Path ARENAS =
      Files.isDirectory(Path.of("/dev/shm")) && Files.isWritable(Path.of("/dev/shm"))
          ? Path.of("/dev/shm")
          : Path.of(System.getProperty("java.io.tmpdir"));

  /** Starts {@code ./dsm args} as {@code java -cp <this classpath> Main}, output merged. */
  private static Process dsm(Path tmp, String... args) throws IOException {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.addAll(List.of("-Xmx512m", "-Djava.io.tmpdir=" + tmp));
    command.addAll(List.of("-cp", System.getProperty("java.class.path"), Main.class.getName()));
    command.addAll(List.of(args));
    return new ProcessBuilder(command).redirectErrorStream(true).start();
  }

  /**
   * Completes with the first line of {@code p}'s output containing {@code marker}; keeps reading.
   */
  private static CompletableFuture<String> lineWith(Process p, String marker, StringBuilder all) {
    CompletableFuture<String> seen = new CompletableFuture<>();
    Thread pump =
        new Thread(
            () -> {
              try (BufferedReader in =
                  new BufferedReader(
                      new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line; (line = in.readLine()) != null; ) {
                  synchronized (all) {
                    all.append(line).append('\n');
                  }
                  if (line.contains(marker)) {
                    seen.complete(line);
                  }
                }
              } catch (IOException e) {
                // the process is gone
              }
              seen.completeExceptionally(new IllegalStateException("no line with " + marker));
            });
    pump.setDaemon(true);
    pump.start();
    return seen;
  }

  /** Arena folders whose owner file names process {@code pid}. */
  private static List<Path> arenasOf(long pid) throws IOException {
    List<Path> found = new ArrayList<>();
    try (DirectoryStream<Path> folders = Files.newDirectoryStream(ARENAS, "pekko-dsm-*")) {
      for (Path folder : folders) {
        try {
          if (Files.readString(folder.resolve("owner")).contains("pid=" + pid + "\n")) {
            found.add(folder);
          }
        } catch (IOException e) {
          // not an arena, or being deleted
        }
      }
    }
    return found;
  }

  private static void await(String what, long timeoutMs, BooleanSupplier condition)
      throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
    while (!condition.getAsBoolean()) {
      assertTrue(System.nanoTime() < deadline, "timed out waiting for " + what);
      Thread.sleep(100);
    }
  }

  @Test
  void shouldRemoveTheToursArenasOnSigterm(@TempDir Path tmp) throws Exception {
    Process tour = dsm(tmp, "tour");
    StringBuilder said = new StringBuilder();
    try {
      lineWith(tour, "Node 1 = ", said).get(120, TimeUnit.SECONDS);
      assertEquals(3, arenasOf(tour.pid()).size(), "three nodes, three arenas");
      tour.destroy(); // SIGTERM
      assertTrue(tour.waitFor(60, TimeUnit.SECONDS), "the tour stopped:\n" + said);
      assertEquals(List.of(), arenasOf(tour.pid()), "no arena left behind:\n" + said);
    } finally {
      tour.destroyForcibly();
    }
  }

  @Test
  void shouldTakeTheChildJvmAndItsFilesWhenBenchKvIsKilled(@TempDir Path tmp) throws Exception {
    Process bench =
        dsm(
            tmp,
            "bench",
            "kv",
            "--systems=dsm",
            "--nodes=1",
            "--keys=1000",
            "--value-bytes=64",
            "--threads=1",
            "--warmup=1s",
            "--duration=120s",
            "--no-progress",
            "--results=" + tmp.resolve("results"));
    StringBuilder said = new StringBuilder();
    lineWith(bench, "\u0000", said);
    try {
      await("the child JVM", 60_000, () -> bench.descendants().findAny().isPresent());
      ProcessHandle child = bench.descendants().findFirst().orElseThrow();
      await(
          "the child's DSM node",
          120_000,
          () -> {
            try {
              return !arenasOf(child.pid()).isEmpty();
            } catch (IOException e) {
              return false;
            }
          });
      bench.destroyForcibly(); // kill -9: no hook of the parent runs
      Optional<ProcessHandle> gone =
          child.onExit().thenApply(Optional::of).get(60, TimeUnit.SECONDS);
      assertTrue(gone.isPresent() && !child.isAlive(), "the child died with its parent:\n" + said);
      assertEquals(List.of(), arenasOf(child.pid()), "the child's arena is gone:\n" + said);
      try (var files = Files.list(tmp)) {
        List<Path> left =
            files.filter(f -> f.getFileName().toString().startsWith("kv-result-")).toList();
        assertEquals(List.of(), left, "no result file left behind");
      }
    } finally {
      bench.destroyForcibly();
      bench.descendants().forEach(ProcessHandle::destroyForcibly);
    }
  }
}
