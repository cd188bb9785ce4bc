package dev.pekkodsm.memory.rdma;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Whether the {@code rdma} transport can run in this JVM, probed once (in the style of Netty's
 * {@code Epoll.isAvailable()}): the first use of this class loads DiSNI and its native library
 * {@code libdisni}, opens an RDMA CM event channel (which fails with "No such device" when the host
 * has no RDMA device, and when the kernel has no RDMA support at all), and checks that DiSNI can
 * read the address of a direct buffer (it needs {@code --add-exports
 * java.base/sun.nio.ch=ALL-UNNAMED} on Java 9 and later). The outcome, and the reason when RDMA
 * cannot be used, is cached for the life of the JVM.
 *
 * <p>The probe never throws: every failure, {@link Error}s included ({@link UnsatisfiedLinkError}
 * when {@code libdisni} is missing, {@link NoClassDefFoundError} afterwards), is caught and kept as
 * {@link #unavailabilityCause()}. Loading this class needs neither DiSNI's native library nor its
 * jar. Setting the system property {@value #DISABLED_PROPERTY} to {@code true} skips the probe and
 * reports RDMA as unavailable.
 *
 * <p>Thread-safe: the state is computed in the static initializer and immutable afterwards.
 */
public final class Rdma {

  /** The system property that disables the rdma transport when {@code true}. */
  public static final String DISABLED_PROPERTY = "pekko.dsm.rdma.disabled";

  /** The DiSNI release this module is built and tested against (its jar and {@code libdisni}). */
  public static final String DISNI_VERSION = "2.1";

  private static final String ADD_EXPORTS = "--add-exports java.base/sun.nio.ch=ALL-UNNAMED";

  private static final Throwable UNAVAILABILITY_CAUSE =
      evaluate(
          disabledProperty(),
          // Lambdas, not method references: DisniProbe (and DiSNI) are only resolved when run.
          () -> DisniProbe.openEventChannel(),
          () -> DisniProbe.readDirectBufferAddress());

  private Rdma() {}

  /** True if DiSNI, {@code libdisni} and an RDMA device are all usable in this JVM. */
  public static boolean isAvailable() {
    return UNAVAILABILITY_CAUSE == null;
  }

  /**
   * Why RDMA cannot be used, or null if it can. The message says what is missing and how to install
   * it; the cause is what DiSNI threw.
   */
  public static Throwable unavailabilityCause() {
    return UNAVAILABILITY_CAUSE;
  }

  /**
   * Does nothing if RDMA is available.
   *
   * @throws IllegalStateException whose cause is {@link #unavailabilityCause()} otherwise
   */
  public static void ensureAvailability() {
    if (UNAVAILABILITY_CAUSE != null) {
      throw new IllegalStateException(
          "the rdma transport is unavailable: " + UNAVAILABILITY_CAUSE.getMessage(),
          UNAVAILABILITY_CAUSE);
    }
  }

  /** One step of the probe; any throwable it throws makes RDMA unavailable. */
  @FunctionalInterface
  interface Probe {
    void run() throws Throwable;
  }

  private static String disabledProperty() {
    try {
      return System.getProperty(DISABLED_PROPERTY);
    } catch (RuntimeException e) { // a SecurityException from a restrictive security manager
      return null;
    }
  }

  /**
   * The probe itself, independent of this JVM's state so that tests can drive it: null when {@code
   * disabled} is not {@code "true"} and every step succeeds, otherwise an {@link
   * RdmaUnavailableException} that explains the first failure (later failures are appended to its
   * message and attached as suppressed exceptions). Never throws.
   *
   * @param disabled the value of {@value #DISABLED_PROPERTY}, or null if unset
   */
  static Throwable evaluate(String disabled, Probe... steps) {
    try {
      if (disabled != null && disabled.trim().equalsIgnoreCase("true")) {
        return new RdmaUnavailableException(
            "RDMA was disabled with -D" + DISABLED_PROPERTY + "=" + disabled.trim());
      }
      List<Throwable> failures = new ArrayList<>(steps.length);
      for (Probe step : steps) {
        try {
          step.run();
        } catch (Throwable t) {
          failures.add(t);
        }
      }
      if (failures.isEmpty()) {
        return null;
      }
      StringBuilder message = new StringBuilder(explain(failures.get(0)));
      for (int i = 1; i < failures.size(); i++) {
        message.append("; also: ").append(explain(failures.get(i)));
      }
      RdmaUnavailableException cause =
          new RdmaUnavailableException(message.toString(), failures.get(0));
      for (int i = 1; i < failures.size(); i++) {
        cause.addSuppressed(failures.get(i));
      }
      return cause;
    } catch (Throwable unexpected) { // e.g. OutOfMemoryError while building the message
      return unexpected;
    }
  }

  /** What a probe failure means and what to do about it. */
  static String explain(Throwable t) {
    String detail = String.valueOf(t.getMessage()).trim();
    String lower = detail.toLowerCase(Locale.ROOT);
    if (t instanceof UnsatisfiedLinkError) {
      return "DiSNI's native library libdisni could not be loaded ("
          + detail
          + "). Build libdisni "
          + DISNI_VERSION
          + " from DiSNI's sources against rdma-core (cd libdisni; ./autoprepare.sh;"
          + " ./configure --with-jdk=$JAVA_HOME; make install) and put its directory on"
          + " -Djava.library.path or LD_LIBRARY_PATH";
    }
    if (t instanceof IllegalAccessError && lower.contains("sun.nio.ch")) {
      return "DiSNI reads direct-buffer addresses through sun.nio.ch.DirectBuffer, which Java 17"
          + " hides: start the JVM with "
          + ADD_EXPORTS
          + " ("
          + detail
          + ")";
    }
    if (t instanceof NoClassDefFoundError) {
      if (lower.contains("org/slf4j")) {
        return "DiSNI logs through slf4j-api, which is not on the class path (" + detail + ")";
      }
      if (lower.contains("could not initialize class")) {
        return "DiSNI failed to initialize earlier in this JVM, most likely because libdisni is"
            + " missing ("
            + detail
            + "); put libdisni on -Djava.library.path or LD_LIBRARY_PATH";
      }
      return "a class DiSNI needs is missing: is com.ibm.disni:disni:"
          + DISNI_VERSION
          + " on the class path? ("
          + detail
          + ")";
    }
    if (t instanceof IOException) {
      if (lower.contains("no such device") || lower.contains("no rdma device")) {
        return "no RDMA device is usable ("
            + detail
            + "): check `ibv_devices`, the NIC's driver, and that the kernel has InfiniBand"
            + " support with the rdma_cm, rdma_ucm and ib_uverbs modules loaded";
      }
      if (lower.contains("operation not permitted") || lower.contains("permission denied")) {
        return "the RDMA connection manager refused this process ("
            + detail
            + "): is rdma_ucm loaded, is /dev/infiniband/rdma_cm readable, and is the memlock"
            + " limit (ulimit -l) high enough?";
      }
      if (lower.contains("jverbs outdated")) {
        return "libdisni does not match the DiSNI jar ("
            + detail
            + "): rebuild libdisni from the sources of DiSNI "
            + DISNI_VERSION;
      }
      return "the RDMA device probe failed: " + detail;
    }
    return "the RDMA probe failed: " + t;
  }
}
