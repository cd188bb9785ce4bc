package dev.pekkodsm.samples.gemm;

import dev.pekkodsm.samples.BenchOptions;
import dev.pekkodsm.samples.ForkedJvm;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.time.LocalDateTime;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code ./dsm bench gemm}: dense matrix product on every system, side by side. */
@Command(
    name = "gemm",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    description = {
      "Multiply two dense n x n matrices of doubles, split into tiles placed round-robin over the"
          + " nodes, on each system in turn (same shape, inputs and nodes; each system in a JVM of"
          + " its own), check every product (Freivalds' check and exact cells), print a table,"
          + " and write JSON, CSV and PNG charts under --results.",
      "Systems: dsm (blocked, each C tile computed where it lives, A and B read one-sided),"
          + " dsm-strassen (DRust's divide and conquer: Strassen's seven products as tasks with"
          + " their operands moved), local (one JVM, EJML's multithreaded product: the floor),"
          + " delegation (tiles as sharded entities, every tile fetched with an ask), messages"
          + " (actors sending tiles by value).",
      "Example: ./dsm bench gemm --nodes 3 --size 4096 --tile 512"
    })
public final class GemmCommand implements Callable<Integer> {

  @Option(
      names = "--systems",
      split = ",",
      defaultValue = "dsm,dsm-strassen,local,delegation,messages",
      description = "systems to run, in order (default ${DEFAULT-VALUE})")
  List<String> systems;

  @Option(
      names = "--nodes",
      split = ",",
      defaultValue = "3",
      description = "node counts, one run each (default ${DEFAULT-VALUE})")
  List<Integer> nodes;

  @Option(
      names = "--size",
      defaultValue = "4096",
      description =
          "rows and columns of each matrix, a multiple of --tile (default ${DEFAULT-VALUE})")
  int size;

  @Option(
      names = "--tile",
      defaultValue = "512",
      description = "rows and columns of each tile (default ${DEFAULT-VALUE})")
  int tile;

  @Option(
      names = "--leaf",
      defaultValue = "1",
      description =
          "side, in tiles, at which dsm-strassen stops recursing and multiplies the tiles"
              + " (default ${DEFAULT-VALUE})")
  int leaf;

  @Option(
      names = "--inputs",
      defaultValue = "random",
      description =
          "random (integers in [-2, 2], one exact cell checked per tile) or ones (every cell of C"
              + " must be n) (default ${DEFAULT-VALUE})")
  String inputs;

  @Option(names = "--seed", defaultValue = "42", description = "seed (default ${DEFAULT-VALUE})")
  long seed;

  @Mixin BenchOptions common;

  @Option(names = "--smoke", description = "a quick check of every system: n = 256, tiles of 64")
  boolean smoke;

  @Option(names = "--no-progress", description = "no progress bar")
  boolean noProgress;

  @Override
  public Integer call() throws Exception {
    GemmSpec spec = common.validate(this::validate);
    common.leaveWithParent();
    GemmBench bench = new GemmBench(spec, System.out, !noProgress);
    List<GemmResult> all = new ArrayList<>();
    for (int n : nodes) {
      for (String system : systems) {
        all.add(common.inThisJvm() ? bench.run(system, n) : forked(system, n, spec));
      }
    }
    if (common.forkedChild()) {
      common.writeResult(all.get(0));
      return 0;
    }
    common.publish(new GemmReport(all, describe(spec)), "gemm", LocalDateTime.now());
    return all.stream().allMatch(GemmResult::correct) ? 0 : 3;
  }

  /**
   * Checks every argument before anything starts.
   *
   * @throws IllegalArgumentException saying what is wrong and what to use instead
   */
  GemmSpec validate() {
    if (smoke) {
      size = 256;
      tile = 64;
    }
    GemmSpec.Inputs kind;
    try {
      kind = GemmSpec.Inputs.valueOf(inputs.trim().toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("--inputs " + inputs + " is unknown; use random or ones");
    }
    GemmSpec spec = new GemmSpec(size, tile, kind, seed, leaf);
    for (String s : systems) {
      if (!GemmBench.SYSTEMS.containsKey(s)) {
        throw new IllegalArgumentException(
            "unknown system " + s + "; known: " + String.join(", ", GemmBench.SYSTEMS.keySet()));
      }
    }
    for (int n : nodes) {
      if (n < 1 || n > 16) {
        throw new IllegalArgumentException("--nodes " + n + " is out of range; use 1 to 16");
      }
    }
    // Inputs, product, and a node's cached copies of A and B, with room to spare.
    long needed = 6 * spec.matrixBytes() + (256L << 20);
    long max = Runtime.getRuntime().maxMemory();
    if (needed > max) {
      throw new IllegalArgumentException(
          String.format(
              Locale.ROOT,
              "--size %d needs about %d MiB of heap and this JVM has %d MiB; use a smaller size,"
                  + " or a larger heap (JAVA_OPTS=-Xmx...)",
              size,
              needed >> 20,
              max >> 20));
    }
    return spec;
  }

  /** Runs one system in a fresh JVM of its own ({@link ForkedJvm}). */
  private GemmResult forked(String system, int n, GemmSpec spec)
      throws IOException, InterruptedException {
    List<String> args =
        new ArrayList<>(
            List.of(
                "bench",
                "gemm",
                "--systems=" + system,
                "--nodes=" + n,
                "--size=" + spec.size(),
                "--tile=" + spec.tile(),
                "--leaf=" + spec.leafTiles(),
                "--inputs=" + spec.inputs().name().toLowerCase(Locale.ROOT),
                "--seed=" + spec.seed()));
    if (noProgress) {
      args.add("--no-progress");
    }
    // Two minutes to start and check, and the product at no less than 0.05 GFLOP/s.
    Duration limit = Duration.ofMillis(120_000 + (long) (spec.flops() / 5e7));
    return ForkedJvm.run(system, args, GemmResult.class, limit);
  }

  private Map<String, Object> describe(GemmSpec spec) {
    Map<String, Object> run = new LinkedHashMap<>();
    run.put("started", LocalDateTime.now().toString());
    run.put("systems", systems);
    run.put("nodes", nodes);
    run.put("size", spec.size());
    run.put("tile", spec.tile());
    run.put("leafTiles", spec.leafTiles());
    run.put("inputs", spec.inputs().name().toLowerCase(Locale.ROOT));
    run.put("seed", spec.seed());
    run.put("jvmPerSystem", !common.inProcess());
    run.put("java", System.getProperty("java.vm.name") + " " + System.getProperty("java.version"));
    run.put("cpus", Runtime.getRuntime().availableProcessors());
    run.put("maxHeapMiB", Runtime.getRuntime().maxMemory() >> 20);
    run.put("loadAverage", ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage());
    return run;
  }
}
