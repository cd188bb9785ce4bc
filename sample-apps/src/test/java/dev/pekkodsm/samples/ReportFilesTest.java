package dev.pekkodsm.samples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The shared pieces of the bench reports' files. */
class ReportFilesTest {

  record Sample(String system, int nodes, double p99Us) {}

  @Test
  void shouldQuoteOnlyTheCellsThatHoldACommaOrAQuote() {
    assertEquals(
        "dsm,3,\"a, b\",\"say \"\"hi\"\"\",\n",
        ReportFiles.csvLine(Arrays.asList("dsm", 3, "a, b", "say \"hi\"", null)));
  }

  @Test
  void shouldReadARecordsFieldsInDeclarationOrderAndDropNaNOnlyWhenAsked() {
    Sample s = new Sample("dsm", 3, Double.NaN);
    assertEquals(List.of("system", "nodes", "p99Us"), ReportFiles.fieldNames(Sample.class));
    Map<String, Object> raw = ReportFiles.fields(s);
    assertEquals(List.of("system", "nodes", "p99Us"), List.copyOf(raw.keySet()));
    assertEquals(Double.NaN, raw.get("p99Us"));
    Map<String, Object> clean = ReportFiles.fieldsWithoutNaN(s);
    assertTrue(clean.containsKey("p99Us"), clean.toString());
    assertNull(clean.get("p99Us"));
    assertEquals(3, clean.get("nodes"));
  }

  @Test
  void shouldPutTheLogAxisMinimumAtThePowerOfTenAtOrBelow() {
    assertEquals(0.01, ReportFiles.logAxisMin(0.05), 1e-12);
    assertEquals(1000, ReportFiles.logAxisMin(1234), 1e-9);
    assertEquals(100, ReportFiles.logAxisMin(100), 1e-9);
  }

  @Test
  void shouldWriteTheJsonAndCsvUnderTheirFixedNames(@TempDir Path dir) throws Exception {
    Path json = ReportFiles.writeJson(dir, Map.of("run", Map.of("nodes", 3)));
    Path csv = ReportFiles.writeCsv(dir, "a,b\n1,2\n");
    assertEquals(dir.resolve("results.json"), json);
    assertEquals(dir.resolve("results.csv"), csv);
    assertTrue(Files.readString(json).contains("\"nodes\" : 3"), Files.readString(json));
    assertEquals("a,b\n1,2\n", Files.readString(csv));
  }
}
