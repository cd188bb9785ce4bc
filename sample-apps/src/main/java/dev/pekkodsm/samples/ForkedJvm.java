package dev.pekkodsm.samples;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.pekkodsm.samples.kv.HazelcastKv;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Runs one system of a {@code ./dsm bench} comparison in a fresh JVM, so that no system finds the
 * JIT warmed, or the heap littered, by another: this JVM's classpath and flags, plus the flags
 * Hazelcast asks for (the jar's manifest gives them to {@code java -jar} only), then {@code ./dsm}
 * with the given arguments and {@code --result-file}; the child's output goes to this console and
 * its one result comes back as JSON.
 *
 * <p>Nothing outlives the command: this JVM stops the child if it is asked to exit, and the child
 * ({@link #leaveWithParent}) stops, deleting its result file, if this JVM dies, even by SIGKILL.
 */
public final class ForkedJvm {

  private ForkedJvm() {}

  /**
   * Runs {@code ./dsm <args> --result-file=<tmp>} in a child JVM and reads its result.
   *
   * @param system the system's name, for errors
   * @param limit how long the child may run before it is killed
   * @throws IllegalStateException if the child fails or overruns {@code limit}
   */
  public static <T> T run(String system, List<String> args, Class<T> resultType, Duration limit)
      throws IOException, InterruptedException {
    Path result = Files.createTempFile("bench-result-", ".json");
    Thread stopChild = null;
    try {
      List<String> command = new ArrayList<>();
      command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
      command.addAll(ManagementFactory.getRuntimeMXBean().getInputArguments());
      command.addAll(HazelcastKv.JVM_FLAGS);
      command.addAll(List.of("-cp", System.getProperty("java.class.path"), Main.class.getName()));
      command.addAll(args);
      command.add("--result-file=" + result);
      Process child = new ProcessBuilder(command).inheritIO().start();
      stopChild = new Thread(child::destroy, "bench-stop-child");
      Runtime.getRuntime().addShutdownHook(stopChild);
      long limitMs = limit.toMillis();
      if (!child.waitFor(limitMs, TimeUnit.MILLISECONDS)) {
        child.destroyForcibly();
        throw new IllegalStateException(system + " did not finish within " + limitMs + " ms");
      }
      if (child.exitValue() != 0) {
        throw new IllegalStateException(system + "'s JVM failed (exit " + child.exitValue() + ")");
      }
      return new ObjectMapper().readValue(result.toFile(), resultType);
    } finally {
      if (stopChild != null) {
        try {
          Runtime.getRuntime().removeShutdownHook(stopChild);
        } catch (IllegalStateException e) {
          // exiting: the hook stops the child
        }
      }
      Files.deleteIfExists(result);
    }
  }

  /**
   * In the child JVM of a forked run: writes its result as JSON to {@code resultFile}, where {@link
   * #run} reads it.
   */
  static void writeResult(Path resultFile, Object result) throws IOException {
    new ObjectMapper().writeValue(resultFile.toFile(), result);
  }

  /**
   * In the child JVM of a forked run: if the parent dies (even by SIGKILL), delete the result file
   * and exit with {@link Cli#EXIT_FAILED}, so that nothing outlives the command.
   *
   * @param command how the user typed the command, e.g. {@code ./dsm bench kv}, for the message
   */
  static void leaveWithParent(Path resultFile, String command) {
    ProcessHandle.current()
        .parent()
        .ifPresent(
            parent ->
                parent
                    .onExit()
                    .thenRun(
                        () -> {
                          try {
                            Files.deleteIfExists(resultFile);
                          } catch (IOException e) {
                            // nothing more to do: the JVM is leaving
                          }
                          System.err.println(command + ": the parent JVM is gone; stopping");
                          System.exit(Cli.EXIT_FAILED);
                        }));
  }
}
