package dev.pekkodsm.samples.gemm;

import java.io.PrintStream;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/**
 * Runs C = A x B on each system in turn, with the same shape, inputs and node count: start the
 * system, build the inputs where they live, time the product, count what crossed between nodes,
 * check the product (Freivalds' check and exact cells, {@link GemmCheck}), tear the system down.
 */
public final class GemmBench {

  /** The systems by name, in the order they are usually compared. */
  public static final Map<String, GemmSystem.Factory> SYSTEMS = systems();

  private final GemmSpec spec;
  private final PrintStream log;
  private final boolean progress;

  /**
   * A bench of {@code spec}'s matrices; {@code log} gets one line per phase, and a progress bar is
   * drawn on standard error when {@code progress}.
   */
  public GemmBench(GemmSpec spec, PrintStream log, boolean progress) {
    this.spec = spec;
    this.log = log;
    this.progress = progress;
  }

  private static Map<String, GemmSystem.Factory> systems() {
    Map<String, GemmSystem.Factory> systems = new LinkedHashMap<>();
    systems.put("dsm", DsmGemm::startBlocked);
    systems.put("dsm-strassen", DsmGemm::startStrassen);
    systems.put("local", LocalGemm::start);
    systems.put("delegation", DelegationGemm::start);
    systems.put("messages", MessagesGemm::start);
    return Collections.unmodifiableMap(systems);
  }

  /** Runs {@code systemName} on {@code nodes} nodes; everything is torn down when this returns. */
  public GemmResult run(String systemName, int nodes) throws Exception {
    GemmSystem.Factory factory = SYSTEMS.get(systemName);
    if (factory == null) {
      throw new IllegalArgumentException(
          "unknown system " + systemName + "; known: " + String.join(", ", SYSTEMS.keySet()));
    }
    log.printf("%s on %d node(s): starting%n", systemName, nodes);
    try (GemmSystem system = factory.start(nodes, spec)) {
      long loadStart = System.nanoTime();
      system.load();
      log.printf(
          "%s: made A and B (%d x %d, tiles of %d x %d) in %d ms; multiplying%n",
          systemName,
          spec.size(),
          spec.size(),
          spec.tile(),
          spec.tile(),
          TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - loadStart));
      GemmSystem.Traffic before = system.traffic();
      double seconds = timed(systemName, system);
      GemmSystem.Traffic moved = system.traffic().minus(before);
      GemmCheck.Outcome check = new GemmCheck(spec).check(system::resultTile);
      GemmResult result =
          new GemmResult(
              systemName,
              system.nodes(),
              spec.size(),
              spec.tile(),
              spec.inputs().name().toLowerCase(java.util.Locale.ROOT),
              seconds,
              spec.flops() / seconds / 1e9,
              moved.bytes(),
              moved.messages(),
              check.freivaldsMaxError(),
              check.exactCellsChecked(),
              check.wrongCells(),
              check.correct());
      log.printf(
          "%s: %.2f s, %.2f GFLOP/s, %s moved between nodes, %s messages; check %s%n",
          systemName,
          seconds,
          result.gflops(),
          result.bytesMoved() < 0 ? "n/a" : String.format("%,d bytes", result.bytesMoved()),
          result.messages() < 0 ? "n/a" : String.format("%,d", result.messages()),
          result.correct()
              ? "passed"
              : String.format(
                  "FAILED (Freivalds' error %s, %d of %d exact cells wrong)",
                  result.freivaldsMaxError(), result.wrongCells(), result.exactCellsChecked()));
      return result;
    }
  }

  /** Times the product, on a thread of its own while this one draws the progress bar. */
  private double timed(String systemName, GemmSystem system) throws Exception {
    AtomicLong done = new AtomicLong();
    long started = System.nanoTime();
    long[] ended = {0};
    CompletableFuture<Void> product = new CompletableFuture<>();
    Thread thread =
        new Thread(
            () -> {
              try {
                system.multiply(done);
                ended[0] = System.nanoTime();
                product.complete(null);
              } catch (Throwable e) {
                product.completeExceptionally(e);
              }
            },
            "gemm-driver");
    thread.setDaemon(true);
    thread.start();
    long work = system.work();
    if (progress) {
      try (ProgressBar bar =
          new ProgressBarBuilder()
              .setTaskName(systemName)
              .setInitialMax(work)
              .setUnit(work > 0 ? " tiles" : "", 1)
              .setStyle(ProgressBarStyle.ASCII)
              .setConsumer(new ConsoleProgressBarConsumer(System.err))
              .setUpdateIntervalMillis(250)
              .build()) {
        while (!product.isDone()) {
          sleepUntilDone(product);
          bar.stepTo(done.get());
        }
      }
    }
    try {
      product.get();
    } catch (ExecutionException e) {
      Throwable cause = e.getCause();
      if (cause instanceof Exception ex) {
        throw ex;
      }
      throw new IllegalStateException(cause);
    }
    return (ended[0] - started) / 1e9;
  }

  private static void sleepUntilDone(CompletableFuture<Void> product) throws InterruptedException {
    try {
      product.get(250, TimeUnit.MILLISECONDS);
    } catch (ExecutionException | java.util.concurrent.TimeoutException e) {
      // done with a failure (reported by the caller), or still running
    }
  }
}
