package dev.pekkodsm.samples.dataframe;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The harness on every system over a small generated table: answers checked, report written. */
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class DataFrameSmokeTest {

  @Test
  void shouldAnswerEveryQuestionOnEverySystemLikeDuckDbAndWriteTheReport(@TempDir Path dir)
      throws Exception {
    GroupByShape shape = new GroupByShape(20_000, 10);
    Path file = GroupByTable.ensure(dir, shape, 108);
    DfBench bench = new DfBench(file, shape, List.of(Question.values()), 1, System.out, false);
    List<DfResult> results = new ArrayList<>();
    for (String system : DfBench.SYSTEMS.keySet()) {
      results.add(bench.run(system, 3));
    }
    List<DfResult> checked = DfBench.check(results);
    for (DfResult r : checked) {
      assertEquals(Question.values().length, r.questions().size(), r.system());
      for (DfResult.QuestionResult q : r.questions()) {
        String expected = r.system().equals(DfBench.ORACLE) ? "oracle" : "ok";
        assertEquals(expected, q.check(), r.system() + " " + q.question());
        assertTrue(q.answerRows() > 0, r.system() + " " + q.question());
      }
      assertTrue(r.heapMiB() > 0 && r.loadSeconds() > 0, r.toString());
    }
    assertEquals(20_000, checked.get(0).question("q10").answerRows(), "q10: every row a group");
    DfReport report = new DfReport(checked, Map.of("test", true));
    assertTrue(report.allAnswersMatch());
    assertTrue(report.dsmOverTotal("hazelcast") > 0);
    report.print(System.out);
    Path out = dir.resolve("report");
    List<Path> files = report.write(out);
    assertEquals(4, files.size(), files.toString());
    List<String> csv = Files.readAllLines(out.resolve("results.csv"));
    assertEquals(1 + 4 * 11, csv.size(), "a row per system and question, and a total each");
    assertTrue(Files.size(out.resolve("time-per-question.png")) > 1000);
  }

  @Test
  void shouldReportADigestMismatch() throws Exception {
    GroupByShape shape = new GroupByShape(30, 3);
    Answer.Digest right =
        new Answer.Builder(Question.Q1).string(0, "id001").integer(1, 5).endRow().build().digest();
    Answer.Digest wrong =
        new Answer.Builder(Question.Q1).string(0, "id001").integer(1, 6).endRow().build().digest();
    Answer.Digest otherKey =
        new Answer.Builder(Question.Q1).string(0, "id002").integer(1, 5).endRow().build().digest();
    DfResult.QuestionResult good = new DfResult.QuestionResult("q1", List.of(1.0), 1, right, "");
    DfResult.QuestionResult bad = new DfResult.QuestionResult("q1", List.of(1.0), 1, wrong, "");
    List<DfResult> checked =
        DfBench.check(
            List.of(
                new DfResult("duckdb", 1, shape.rows(), 3, 1, 1, 0, 1, List.of(good)),
                new DfResult("dsm", 3, shape.rows(), 3, 1, 1, 0, 1, List.of(bad))));
    assertTrue(checked.get(1).questions().get(0).check().startsWith("MISMATCH"));
    assertTrue(!new DfReport(checked, Map.of()).allAnswersMatch());
    assertEquals("the keys differ", right.mismatch(otherKey));
  }
}
