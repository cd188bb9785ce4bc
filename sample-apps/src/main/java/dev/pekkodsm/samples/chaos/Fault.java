package dev.pekkodsm.samples.chaos;

import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/** The fault a chaos run injects into one node process, mid-run. */
public enum Fault {

  /** None: the run measures the workload and checks its history undisturbed. */
  NONE,

  /** {@code kill -9}: the process dies at once, as in a crash or a power cut. */
  KILL,

  /**
   * {@code kill -STOP}, then {@code kill -CONT}: the process freezes, as in a long GC pause or on a
   * starved CPU, past the failure detector, so that the others down and remove it, then runs again.
   */
  PAUSE;

  /** The name on the command line: {@code none}, {@code kill}, {@code pause}. */
  public String optionName() {
    return name().toLowerCase(Locale.ROOT);
  }

  /**
   * The fault named {@code name} (any case).
   *
   * @throws IllegalArgumentException naming the known faults, for any other name
   */
  public static Fault of(String name) {
    for (Fault f : values()) {
      if (f.optionName().equalsIgnoreCase(name.trim())) {
        return f;
      }
    }
    throw new IllegalArgumentException(
        "unknown fault '"
            + name
            + "'; known: "
            + Arrays.stream(values()).map(Fault::optionName).collect(Collectors.joining(", ")));
  }
}
