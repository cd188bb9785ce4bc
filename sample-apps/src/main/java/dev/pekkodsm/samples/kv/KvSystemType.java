package dev.pekkodsm.samples.kv;

import java.util.Objects;

/**
 * A system the harness compares: its name, whether it promises linearizable GETs (then the run
 * fails on any stale read), whether it is pekko-dsm (then it runs once per {@link DsmTransport}
 * asked for), and how to start it.
 *
 * @param name the name on the command line and in the results
 * @param linearizable whether a GET always returns the last completed SET's value
 * @param dsm whether the system runs pekko-dsm, whose read transport is chosen per run
 * @param factory starts the system
 */
public record KvSystemType(
    String name, boolean linearizable, boolean dsm, KvSystem.Factory factory) {

  /** Checks the values. */
  public KvSystemType {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(factory, "factory");
  }
}
