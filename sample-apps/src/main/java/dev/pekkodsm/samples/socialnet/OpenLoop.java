package dev.pekkodsm.samples.socialnet;

import java.time.Duration;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

/**
 * The load generator: requests at a fixed rate, whatever the services do, with latency measured
 * from when each request was due rather than from when it was sent, as wrk2 does (Gil Tene's
 * correction for coordinated omission: a stalled system cannot hide the requests it delayed).
 *
 * <p>One thread sends request {@code i} at {@code start + i / rate} to the front end of node {@code
 * i mod n}, without waiting for answers. At most {@code maxInFlight} requests are outstanding (the
 * connections of wrk2); when all are taken the sender waits and falls behind schedule, and the
 * requests it sends late are still timed from when they were due. Requests due during the warm-up
 * are checked but not timed. When the measured window ends, requests due in it but not sent yet are
 * counted as {@code unsent} and timed until the window's end (a lower bound of what they would have
 * waited); those in flight are waited for, up to the deadline, and timed.
 *
 * <p>A rate of {@code 0} means a closed loop: every request is due when a slot frees up (used to
 * estimate capacity before a sweep).
 */
final class OpenLoop {

  private static final long HIGHEST_NS = TimeUnit.SECONDS.toNanos(120);

  private final SocialNet net;
  private final SnChecker checker;
  private final List<Media> clips;
  private final int page;
  private final int maxInFlight;
  private final Duration deadline;

  OpenLoop(
      SocialNet net,
      SnChecker checker,
      List<Media> clips,
      int page,
      int maxInFlight,
      Duration deadline) {
    this.net = net;
    this.checker = checker;
    this.clips = clips;
    this.page = page;
    this.maxInFlight = maxInFlight;
    this.deadline = deadline;
  }

  /** What one measured window saw. */
  record Outcome(
      double offeredPerSec,
      double seconds,
      long completed,
      long errors,
      String firstError,
      long unsent,
      Map<Workload.Type, Histogram> latencies,
      Histogram all,
      SocialNet.Traffic traffic) {}

  /**
   * Sends {@code source}'s requests at {@code ratePerSec} (0: closed loop) for {@code warmup} and
   * then {@code measured}, and returns what the measured window saw.
   */
  Outcome run(Workload.Source source, double ratePerSec, Duration warmup, Duration measured)
      throws InterruptedException {
    Map<Workload.Type, Recorder> recorders = new EnumMap<>(Workload.Type.class);
    for (Workload.Type t : Workload.Type.values()) {
      recorders.put(t, new Recorder(HIGHEST_NS, 3));
    }
    Semaphore slots = new Semaphore(maxInFlight);
    LongAdder completed = new LongAdder();
    LongAdder errors = new LongAdder();
    AtomicReference<String> firstError = new AtomicReference<>();
    long periodNs = ratePerSec <= 0 ? 0 : Math.round(1e9 / ratePerSec);
    long startNs = System.nanoTime();
    long windowStartNs = startNs + warmup.toNanos();
    long windowEndNs = windowStartNs + measured.toNanos();
    SocialNet.Traffic before = null;
    long completedBefore = 0;
    long unsent = 0;
    for (long i = 0; ; i++) {
      long dueNs = periodNs == 0 ? System.nanoTime() : startNs + i * periodNs;
      if (before == null && dueNs >= windowStartNs) {
        before = net.traffic();
        completedBefore = completed.sum();
        recorders.values().forEach(Recorder::reset);
      }
      if (dueNs >= windowEndNs) {
        break;
      }
      waitUntil(dueNs);
      if (!acquire(slots, windowEndNs)) {
        // Behind schedule until the end: what was due and not sent waited at least this long.
        for (long due = dueNs; periodNs > 0 && due < windowEndNs; due += periodNs) {
          Workload.Type type = source.next().type();
          if (due >= windowStartNs) {
            recorders.get(type).recordValue(Math.min(HIGHEST_NS, windowEndNs - due));
            unsent++;
          }
        }
        break;
      }
      if (periodNs == 0) {
        dueNs = System.nanoTime();
      }
      Workload.Request request = source.next();
      long due = dueNs;
      boolean timed = dueNs >= windowStartNs;
      long sentNs = System.nanoTime();
      send(request, (int) (i % net.nodes()), sentNs)
          .whenComplete(
              (ok, failure) -> {
                long endNs = System.nanoTime();
                if (failure == null) {
                  completed.increment();
                  if (timed) {
                    recorders.get(request.type()).recordValue(Math.min(HIGHEST_NS, endNs - due));
                  }
                } else {
                  errors.increment();
                  firstError.compareAndSet(null, request.type().label() + ": " + failure);
                }
                slots.release();
              });
    }
    long endOfWindow = Math.max(windowEndNs, System.nanoTime());
    long doneInWindow = completed.sum() - completedBefore;
    // Wait for the requests in flight; the services' own deadlines end them at the latest.
    if (!slots.tryAcquire(maxInFlight, deadline.toMillis() + 5_000, TimeUnit.MILLISECONDS)) {
      errors.add(maxInFlight - slots.availablePermits());
      firstError.compareAndSet(null, "requests still in flight after the deadline " + deadline);
    } else {
      slots.release(maxInFlight);
    }
    SocialNet.Traffic traffic = net.traffic().minus(before == null ? net.traffic() : before);
    Map<Workload.Type, Histogram> latencies = new EnumMap<>(Workload.Type.class);
    Histogram all = new Histogram(HIGHEST_NS, 3);
    for (Map.Entry<Workload.Type, Recorder> e : recorders.entrySet()) {
      Histogram h = e.getValue().getIntervalHistogram();
      latencies.put(e.getKey(), h);
      all.add(h);
    }
    double seconds = (endOfWindow - windowStartNs) / 1e9;
    return new Outcome(
        ratePerSec,
        seconds,
        doneInWindow,
        errors.sum(),
        firstError.get(),
        unsent,
        latencies,
        all,
        traffic);
  }

  private CompletionStage<?> send(Workload.Request request, int node, long sentNs) {
    SnClient client = net.client(node);
    try {
      return switch (request.type()) {
        case COMPOSE ->
            client
                .compose(request.userId(), request.text(), clips.get(request.clip()))
                .thenApply(
                    composed -> {
                      checker.composed(request, composed, sentNs);
                      return composed;
                    });
        case HOME, USER ->
            (request.type() == Workload.Type.HOME
                    ? client.readHomeTimeline(request.userId(), 0, page)
                    : client.readUserTimeline(request.userId(), 0, page))
                .thenApply(
                    timeline -> {
                      checker.read(request.type(), request.userId(), page, timeline, sentNs);
                      return timeline;
                    });
      };
    } catch (RuntimeException e) {
      return java.util.concurrent.CompletableFuture.failedFuture(e);
    }
  }

  private static void waitUntil(long dueNs) {
    long left;
    while ((left = dueNs - System.nanoTime()) > 0) {
      LockSupport.parkNanos(Math.min(left, TimeUnit.MILLISECONDS.toNanos(50)));
    }
  }

  /** Takes a slot; false if none frees up before {@code untilNs}. */
  private static boolean acquire(Semaphore slots, long untilNs) throws InterruptedException {
    long left = untilNs - System.nanoTime();
    return left > 0 && slots.tryAcquire(left, TimeUnit.NANOSECONDS);
  }
}
