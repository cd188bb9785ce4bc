package dev.pekkodsm.coherence;

/**
 * The clock and the timer the coherence core runs on. Production uses {@link SystemTiming}; tests
 * drive a manual one so that deadlines fire exactly when a test says.
 */
public interface Timing {

  /** The current time, as {@link System#nanoTime()} measures it. */
  long nanoTime();

  /** Runs {@code task} once, about {@code delayNs} from now, on the timer's thread. */
  Cancellable schedule(long delayNs, Runnable task);

  /** A scheduled task that may be cancelled. */
  interface Cancellable {
    /** Prevents the task from running if it has not started. Idempotent. */
    void cancel();
  }
}
