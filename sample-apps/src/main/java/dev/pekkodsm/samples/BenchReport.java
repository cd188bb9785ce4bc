package dev.pekkodsm.samples;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;

/**
 * The report of one {@code ./dsm bench} comparison: a table for the console and files for a folder
 * of their own, which {@link BenchOptions#publish} names and lists. Not thread-safe.
 */
public interface BenchReport {

  /** Prints the table to {@code out}. */
  void print(PrintStream out);

  /**
   * Writes the report's files (JSON, CSV, PNG charts) into {@code dir}, creating it.
   *
   * @return the files written
   * @throws IOException if a file cannot be written
   */
  List<Path> write(Path dir) throws IOException;
}
