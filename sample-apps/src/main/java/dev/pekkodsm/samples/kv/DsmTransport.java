package dev.pekkodsm.samples.kv;

import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * How the embedded pekko-dsm nodes of a KV run read each other's snapshots: the value of their
 * {@code pekko.dsm.transport}. Writes travel as Pekko messages over Artery's loopback TCP under
 * either.
 */
public enum DsmTransport {

  /** A memory copy out of the peer's arena, mapped read-only: no message, no peer CPU. */
  SHM,

  /** A request to the peer's tcp read server over loopback, answered with the slot's bytes. */
  TCP;

  /** The name in {@code pekko.dsm.transport} and on the command line: {@code shm}, {@code tcp}. */
  public String configName() {
    return name().toLowerCase(Locale.ROOT);
  }

  /**
   * The transport named {@code name} ({@code shm} or {@code tcp}, any case).
   *
   * @throws IllegalArgumentException naming the known transports, for any other name
   */
  public static DsmTransport of(String name) {
    for (DsmTransport t : values()) {
      if (t.configName().equalsIgnoreCase(name.trim())) {
        return t;
      }
    }
    throw new IllegalArgumentException(
        "unknown transport '"
            + name
            + "'; known: "
            + Arrays.stream(values())
                .map(DsmTransport::configName)
                .collect(Collectors.joining(", ")));
  }
}
