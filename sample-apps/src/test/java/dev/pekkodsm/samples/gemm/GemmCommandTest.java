package dev.pekkodsm.samples.gemm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pekkodsm.samples.Main;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code ./dsm bench gemm}: bad arguments refused before anything starts, and a forked run. */
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class GemmCommandTest {

  private static String refused(String... args) {
    CommandLine cli = new CommandLine(new Main());
    StringWriter err = new StringWriter();
    cli.setErr(new PrintWriter(err));
    String[] all =
        Stream.concat(Stream.of("bench", "gemm"), Stream.of(args)).toArray(String[]::new);
    assertEquals(2, cli.execute(all), "exit code for " + List.of(args));
    return err.toString();
  }

  @Test
  void shouldRefuseBadArgumentsWithAClearMessage() {
    assertTrue(
        refused("--size=1000", "--tile=512")
            .contains("--size 1000 is not a multiple of --tile 512; use 512 or 1024"));
    assertTrue(refused("--tile=0").contains("--tile 0 is out of range"));
    assertTrue(refused("--tile=2048").contains("use 1 to 1024"));
    assertTrue(refused("--size=256", "--tile=512").contains("is smaller than --tile 512"));
    assertTrue(refused("--systems=dsm,spark").contains("unknown system spark; known: dsm"));
    assertTrue(refused("--inputs=zeros").contains("--inputs zeros is unknown; use random or ones"));
    assertTrue(refused("--nodes=0").contains("--nodes 0 is out of range"));
    assertTrue(refused("--leaf=0").contains("--leaf 0 must be at least 1"));
    assertTrue(refused("--size=65536", "--tile=1024").contains("of heap"));
    assertTrue(refused("--size=big").contains("big"));
  }

  @Test
  void shouldRunEachSystemInItsOwnJvmAndWriteTheReport(@TempDir Path dir) throws Exception {
    int code =
        new CommandLine(new Main())
            .execute(
                "bench",
                "gemm",
                "--smoke",
                "--no-progress",
                "--systems=local,dsm",
                "--nodes=2",
                "--results=" + dir);
    assertEquals(0, code, "exit code: 0 when every product is correct");
    Path run;
    try (Stream<Path> runs = Files.list(dir)) {
      run = runs.filter(p -> p.getFileName().toString().startsWith("gemm-")).findFirst().get();
    }
    List<String> rows = Files.readAllLines(run.resolve("results.csv"));
    assertEquals(3, rows.size(), "a header and one row per system: " + rows);
    assertTrue(rows.get(1).startsWith("local,2,256,64,random,"), rows.get(1));
    assertTrue(rows.get(2).startsWith("dsm,2,256,64,random,"), rows.get(2));
    assertTrue(
        rows.get(2).contains(",true,1.0"), "correct, and the ratio to itself: " + rows.get(2));
    assertTrue(Files.readString(run.resolve("results.json")).contains("\"jvmPerSystem\" : true"));
  }
}
