package dev.pekkodsm.samples.dataframe;

import java.util.List;

/**
 * What one system did: its load, memory, and every question's times and answer.
 *
 * @param system the system's name
 * @param nodes its node count (1 for DuckDB)
 * @param rows the table's rows
 * @param k the table's k
 * @param loadSeconds starting the system and loading the table
 * @param heapMiB Java heap in use after loading and a full GC (all nodes of the JVM together)
 * @param offHeapMiB memory the system reports outside the heap (DuckDB), else 0
 * @param rssMiB the JVM's resident set after loading
 * @param questions one entry per question asked, in order
 */
public record DfResult(
    String system,
    int nodes,
    int rows,
    int k,
    double loadSeconds,
    double heapMiB,
    double offHeapMiB,
    double rssMiB,
    List<QuestionResult> questions) {

  /**
   * One question on one system.
   *
   * @param question {@code q1} .. {@code q10}
   * @param seconds the time of each run
   * @param answerRows rows of the answer
   * @param digest the answer's digest (of the last run)
   * @param check {@code oracle} for DuckDB, {@code ok} when the answer matches DuckDB's, {@code
   *     unchecked} when DuckDB was not run, else {@code MISMATCH: ...}
   */
  public record QuestionResult(
      String question, List<Double> seconds, int answerRows, Answer.Digest digest, String check) {

    /** The fastest run. */
    public double bestSeconds() {
      return seconds.stream().mapToDouble(Double::doubleValue).min().orElse(Double.NaN);
    }

    QuestionResult withCheck(String value) {
      return new QuestionResult(question, seconds, answerRows, digest, value);
    }
  }

  /** The sum over the questions of each one's fastest run. */
  public double totalSeconds() {
    return questions.stream().mapToDouble(QuestionResult::bestSeconds).sum();
  }

  /** The result of {@code question}, or null. */
  public QuestionResult question(String question) {
    return questions.stream().filter(q -> q.question().equals(question)).findFirst().orElse(null);
  }

  DfResult withQuestions(List<QuestionResult> checked) {
    return new DfResult(
        system, nodes, rows, k, loadSeconds, heapMiB, offHeapMiB, rssMiB, List.copyOf(checked));
  }
}
