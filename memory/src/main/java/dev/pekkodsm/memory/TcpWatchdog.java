package dev.pekkodsm.memory;

import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * Enforces the deadlines of the tcp transport's blocking socket calls: a thread that blocks in a
 * connect, read or write arms its connection's {@link Guard} with its deadline, and if the call is
 * still blocked when the deadline passes, this watchdog expires the guard, which closes the
 * connection and so ends the call. Socket timeouts would do the same per call, but make the JDK
 * read a non-blocking socket: two more system calls on every read (a read that finds nothing, then
 * a poll).
 *
 * <p>Arming and disarming are a field write each, with no system call: the watchdog thread sleeps
 * until the earliest armed deadline, or for at most {@value #IDLE_MS} ms, and is woken only by a
 * deadline earlier than the one it sleeps towards.
 *
 * <p>Thread-safe. The thread starts when a guard is first armed and ends at {@link #close()}.
 */
final class TcpWatchdog implements AutoCloseable {

  private static final long IDLE_MS = 1000;
  private static final long IDLE_NS = IDLE_MS * 1_000_000L;

  private final String threadName;
  private final CopyOnWriteArrayList<Guard> guards = new CopyOnWriteArrayList<>();
  private volatile long wakeAtNs = Long.MIN_VALUE; // the thread is not started yet
  private volatile Thread thread;
  private volatile boolean closed;

  TcpWatchdog(String threadName) {
    this.threadName = threadName;
  }

  /** A deadline slot for one connection's blocking calls of one direction. */
  static final class Guard {
    private static final long DISARMED = 0;

    private final TcpWatchdog watchdog;
    private final Runnable onExpiry;
    private final AtomicLong armedNs = new AtomicLong(DISARMED);

    private Guard(TcpWatchdog watchdog, Runnable onExpiry) {
      this.watchdog = watchdog;
      this.onExpiry = onExpiry;
    }

    /** Arms the guard before a blocking call that must end by {@code deadlineNs}. */
    void arm(long deadlineNs) {
      long armed = deadlineNs == DISARMED ? 1 : deadlineNs;
      // Volatile write, then volatile read: either the watchdog's next scan sees this deadline, or
      // this thread sees the watchdog's new plan and wakes it if the deadline comes earlier.
      armedNs.set(armed);
      long wakeAt = watchdog.wakeAtNs;
      if (armed - wakeAt < 0 || wakeAt == Long.MIN_VALUE || watchdog.closed) {
        watchdog.wake();
      }
    }

    /** Disarms the guard once the blocking call returned. */
    void disarm() {
      armedNs.setRelease(DISARMED);
    }

    /** Stops watching this guard. */
    void remove() {
      armedNs.set(DISARMED);
      watchdog.guards.remove(this);
    }
  }

  /** A new guard that runs {@code onExpiry} (on the watchdog's thread) when a deadline passes. */
  Guard guard(Runnable onExpiry) {
    Guard guard = new Guard(this, onExpiry);
    guards.add(guard);
    return guard;
  }

  private void wake() {
    if (closed) {
      for (Guard guard : guards) {
        if (guard.armedNs.getAndSet(Guard.DISARMED) != Guard.DISARMED) {
          guard.onExpiry.run();
        }
      }
      return;
    }
    Thread current = thread;
    if (current == null) {
      synchronized (this) {
        if (thread == null && !closed) {
          Thread started = new Thread(this::run, threadName);
          started.setDaemon(true);
          thread = started;
          started.start();
        }
      }
      return;
    }
    LockSupport.unpark(current);
  }

  private void run() {
    long now = System.nanoTime();
    while (!closed) {
      long next = expireAndPlan(now);
      wakeAtNs = next;
      // Volatile write, then volatile reads (the mirror of Guard.arm): a deadline armed before the
      // plan above was visible is seen by this second scan.
      if (expireAndPlan(System.nanoTime()) - next < 0) {
        now = System.nanoTime();
        continue;
      }
      LockSupport.parkNanos(this, next - System.nanoTime());
      now = System.nanoTime();
    }
  }

  /** Expires the guards whose deadline passed; returns when the next deadline falls. */
  private long expireAndPlan(long now) {
    long next = now + IDLE_NS;
    for (Guard guard : guards) {
      long armed = guard.armedNs.get();
      if (armed == Guard.DISARMED) {
        continue;
      }
      if (armed - now <= 0) {
        // Only the call that armed this deadline is ended: if it returned meanwhile, nothing is.
        if (guard.armedNs.compareAndSet(armed, Guard.DISARMED)) {
          guard.onExpiry.run();
        }
      } else if (armed - next < 0) {
        next = armed;
      }
    }
    return next;
  }

  /**
   * Stops the thread and expires every guard, closing every connection watched. Guards made later
   * are expired at once when armed.
   */
  @Override
  public void close() {
    closed = true;
    for (Guard guard : guards) {
      guard.armedNs.set(Guard.DISARMED);
      guard.onExpiry.run();
    }
    Thread current = thread;
    if (current != null) {
      LockSupport.unpark(current);
    }
  }
}
