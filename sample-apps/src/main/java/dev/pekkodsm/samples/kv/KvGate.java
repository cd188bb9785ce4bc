package dev.pekkodsm.samples.kv;

import java.util.ArrayList;
import java.util.List;

/**
 * The conditions a KV run must meet before its figures mean anything: no system may fail an
 * operation or return bytes that are no value of the key, and no system that promises linearizable
 * GETs may return a stale value. A system that does not promise it (Hazelcast's near cache) may
 * serve stale values; they are reported, not failed.
 */
public final class KvGate {

  private KvGate() {}

  /** One line per broken condition, naming the system and the counts; empty if the run passed. */
  public static List<String> violations(List<KvResult> results) {
    List<String> violations = new ArrayList<>();
    for (KvResult r : results) {
      String run =
          String.format(
              java.util.Locale.ROOT,
              "%s (%s, %d nodes, %.0f %% GETs)",
              r.system(),
              r.transport(),
              r.nodes(),
              r.readRatio() * 100);
      if (r.errors() > 0) {
        violations.add(run + ": " + r.errors() + " failed operations, first: " + r.firstError());
      }
      if (r.malformedReads() > 0) {
        violations.add(
            run + ": " + r.malformedReads() + " GETs returned bytes that are no value of the key");
      }
      if (r.linearizable() && r.staleReads() > 0) {
        violations.add(
            run
                + ": "
                + r.staleReads()
                + " stale reads of "
                + r.reads()
                + ", but the system promises linearizable GETs");
      }
    }
    return violations;
  }
}
