package dev.pekkodsm.samples;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * The options every {@code ./dsm bench} command shares, as a picocli {@code @Mixin}: where the
 * report goes ({@code --results}), whether the systems run in this JVM ({@code --in-process}) or
 * each in a fresh one ({@link ForkedJvm}), and the hidden {@code --result-file} that makes a JVM
 * the child of a forked run. With them, what every command does with them: its options' check, the
 * child's side of a forked run, and the report's folder.
 *
 * <p>Options whose text or effect differs between the commands stay in each: {@code --smoke} (each
 * says what its quick check shrinks), {@code --seed}, {@code --systems}, {@code --nodes}, and
 * {@code --no-progress} (socialnet has no progress bar). Set by picocli, then used by the command's
 * thread only.
 */
public final class BenchOptions {

  private static final DateTimeFormatter FOLDER_TIME =
      DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss");

  @Spec(Spec.Target.MIXEE)
  private CommandSpec command;

  @Option(
      names = "--results",
      defaultValue = "results",
      description = "folder for the run's files (default ${DEFAULT-VALUE})")
  private Path results;

  @Option(
      names = "--in-process",
      description =
          "run every system in this JVM instead of a fresh JVM each (faster to start, but the"
              + " systems that run later find the JIT warmed by the earlier ones)")
  private boolean inProcess;

  /** Set on the child JVM of a forked run: write the one result here and stop. */
  @Option(names = "--result-file", hidden = true)
  private Path resultFile;

  /** True with {@code --in-process}: every system runs in this JVM, none in a fresh one. */
  public boolean inProcess() {
    return inProcess;
  }

  /** True in the child JVM of a forked run, which runs one system and writes its result. */
  public boolean forkedChild() {
    return resultFile != null;
  }

  /** True when the systems run in this JVM: with {@code --in-process}, or in a forked child. */
  public boolean inThisJvm() {
    return inProcess || forkedChild();
  }

  /**
   * Runs the command's check of its options and returns what it built from them: an {@code
   * IllegalArgumentException} it throws becomes a usage error, its message on one line and exit
   * code 2 ({@link Cli#usageError}), before anything starts.
   *
   * @throws ParameterException if {@code validation} throws {@code IllegalArgumentException}
   * @throws Exception what else {@code validation} throws, as it is
   */
  public <T> T validate(Callable<T> validation) throws Exception {
    try {
      return validation.call();
    } catch (IllegalArgumentException e) {
      throw Cli.usageError(command, e);
    }
  }

  /**
   * In the child JVM of a forked run, stops this JVM, deleting the result file, if the parent dies
   * ({@link ForkedJvm#leaveWithParent}); does nothing otherwise.
   */
  public void leaveWithParent() {
    if (forkedChild()) {
      ForkedJvm.leaveWithParent(resultFile, Cli.name(command));
    }
  }

  /**
   * In the child JVM of a forked run, writes {@code result} as JSON for the parent to read.
   *
   * @throws IllegalStateException if this JVM is not a forked child
   */
  public void writeResult(Object result) throws IOException {
    if (!forkedChild()) {
      throw new IllegalStateException("no --result-file: this JVM is not a forked run's child");
    }
    ForkedJvm.writeResult(resultFile, result);
  }

  /**
   * Prints {@code report}'s table to {@code System.out}, writes its files into {@code
   * <--results>/<kind>-<yyyyMMdd-HHmmss of at>}, and lists them.
   *
   * @return the folder written
   */
  public Path publish(BenchReport report, String kind, LocalDateTime at) throws IOException {
    PrintStream out = System.out;
    out.println();
    report.print(out);
    Path dir = folder(results, kind, at);
    List<Path> files = report.write(dir);
    out.println();
    out.println("Wrote " + files.size() + " files to " + dir + ":");
    files.forEach(f -> out.println("  " + f.getFileName()));
    return dir;
  }

  /** The folder of a run of {@code kind} at {@code at}: {@code results/kv-20250131-235959}. */
  static Path folder(Path results, String kind, LocalDateTime at) {
    return results.resolve(kind + "-" + at.format(FOLDER_TIME));
  }
}
