package dev.pekkodsm.coherence;

import java.util.PriorityQueue;

/** A clock that moves only when a test says, and a timer that fires on {@link #advance}. */
public final class ManualTiming implements Timing {
  private long now = 1_000_000_000L;
  private long sequence;
  private final PriorityQueue<Task> tasks =
      new PriorityQueue<>(
          (a, b) -> a.at != b.at ? Long.compare(a.at, b.at) : Long.compare(a.seq, b.seq));

  private final class Task implements Cancellable {
    final long at;
    final long seq = sequence++;
    final Runnable run;
    boolean cancelled;

    Task(long at, Runnable run) {
      this.at = at;
      this.run = run;
    }

    @Override
    public void cancel() {
      cancelled = true;
    }
  }

  @Override
  public synchronized long nanoTime() {
    return now;
  }

  @Override
  public synchronized Cancellable schedule(long delayNs, Runnable task) {
    Task t = new Task(now + delayNs, task);
    tasks.add(t);
    return t;
  }

  /** Moves time forward, running every task that falls due, in order. */
  public void advance(long ns) {
    long target;
    synchronized (this) {
      target = now + ns;
    }
    while (true) {
      Task next;
      synchronized (this) {
        next = tasks.peek();
        if (next == null || next.at > target) {
          now = target;
          return;
        }
        tasks.poll();
        now = next.at;
      }
      if (!next.cancelled) {
        next.run.run();
      }
    }
  }

  public synchronized int pending() {
    return (int) tasks.stream().filter(t -> !t.cancelled).count();
  }
}
