package dev.pekkodsm.coherence;

import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * {@link Timing} on {@link System#nanoTime()} and one daemon timer thread per node. Timer tasks
 * must be short: they complete futures, they do not run user code.
 */
public final class SystemTiming implements Timing, AutoCloseable {
  private final ScheduledThreadPoolExecutor timer;

  /**
   * @param threadName the timer thread's name, so thread dumps say which node it serves
   */
  public SystemTiming(String threadName) {
    this.timer =
        new ScheduledThreadPoolExecutor(
            1,
            r -> {
              Thread t = new Thread(r, threadName);
              t.setDaemon(true);
              return t;
            });
    this.timer.setRemoveOnCancelPolicy(true);
  }

  @Override
  public long nanoTime() {
    return System.nanoTime();
  }

  @Override
  public Cancellable schedule(long delayNs, Runnable task) {
    var future = timer.schedule(task, Math.max(0, delayNs), TimeUnit.NANOSECONDS);
    return () -> future.cancel(false);
  }

  /** Stops the timer thread; pending tasks are dropped. */
  @Override
  public void close() {
    timer.shutdownNow();
  }
}
