package dev.pekkodsm.samples.chaos;

import dev.pekkodsm.coherence.NodeId;
import java.io.PrintStream;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.Member;
import org.apache.pekko.cluster.typed.Cluster;

/**
 * Watches, from the driver, when the victim of a fault is marked unreachable and when it is removed
 * from the cluster, on a thread of its own polling the driver's view of membership every {@value
 * #POLL_MS} ms. Times are on the {@link History}'s clock; {@code -1} until seen.
 */
final class VictimWatch implements AutoCloseable {

  static final long POLL_MS = 20;

  private final Cluster cluster;
  private final long uid;
  private final History clock;
  private final long startNs;
  private final PrintStream log;
  private final Thread thread;
  private volatile long unreachableNs = -1;
  private volatile long removedNs = -1;
  private volatile boolean stopped;

  /** Starts watching {@code victim}; events go to {@code log} in seconds since {@code startNs}. */
  VictimWatch(ActorSystem<?> driver, NodeId victim, History clock, long startNs, PrintStream log) {
    this.cluster = Cluster.get(driver);
    this.uid = victim.value();
    this.clock = clock;
    this.startNs = startNs;
    this.log = log;
    this.thread = new Thread(this::poll, "chaos-victim-watch");
    thread.setDaemon(true);
    thread.start();
  }

  private void poll() {
    while (!stopped) {
      var state = cluster.state();
      boolean member = false;
      for (Member m : state.getMembers()) {
        member |= m.uniqueAddress().longUid() == uid;
      }
      boolean unreachable = false;
      for (Member m : state.getUnreachable()) {
        unreachable |= m.uniqueAddress().longUid() == uid;
      }
      long now = clock.nowNs();
      if (unreachable && unreachableNs < 0) {
        unreachableNs = now;
        say(now, "the driver sees the victim unreachable");
      }
      if (!member && removedNs < 0) {
        removedNs = now;
        say(now, "the driver sees the victim removed from the cluster");
      }
      try {
        Thread.sleep(POLL_MS);
      } catch (InterruptedException e) {
        return;
      }
    }
  }

  private void say(long ns, String what) {
    log.printf(Locale.ROOT, "%+8.3f s: %s%n", (ns - startNs) / 1e9, what);
  }

  /** When the driver first saw the victim unreachable, or -1. */
  long unreachableNs() {
    return unreachableNs;
  }

  /** When the driver saw the victim removed, or -1. */
  long removedNs() {
    return removedNs;
  }

  /** Whether the victim is unreachable now, and not removed. */
  boolean unreachableNow() {
    for (Member m : cluster.state().getUnreachable()) {
      if (m.uniqueAddress().longUid() == uid) {
        return true;
      }
    }
    return false;
  }

  /** Waits up to {@code timeout} for the victim's removal; returns whether it was removed. */
  boolean awaitRemoval(Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (removedNs < 0 && System.nanoTime() < deadline) {
      TimeUnit.MILLISECONDS.sleep(POLL_MS);
    }
    return removedNs >= 0;
  }

  @Override
  public void close() {
    stopped = true;
    thread.interrupt();
  }
}
