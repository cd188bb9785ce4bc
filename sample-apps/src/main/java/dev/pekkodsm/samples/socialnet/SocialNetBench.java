package dev.pekkodsm.samples.socialnet;

import java.io.PrintStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.HdrHistogram.Histogram;

/**
 * Runs the SocialNet benchmark on one variant in this JVM: starts the cluster, composes posts until
 * post-storage is full (so that timelines have something to show), then either sweeps request rates
 * to find where the variant saturates or runs the given rates; then reads a sample of timelines
 * with nothing else running and checks them exactly, deletes every post and checks that the DSM's
 * objects and arena slots (or Hazelcast's map entries) are back to what they were before the first
 * post. Every answer of every phase is checked ({@link SnChecker}).
 */
public final class SocialNetBench {

  /** Multiples of the probed capacity a sweep offers, in order, until one is not kept up with. */
  static final double[] SWEEP_STEPS = {0.5, 0.75, 1.0, 1.25, 1.5};

  /** A step keeps up when it completes at least this share of what it was offered. */
  static final double KEPT_UP = 0.9;

  /** Clips the uploads are copied from. */
  static final int CLIPS = 4;

  /**
   * How a run is set up.
   *
   * @param nodes nodes of the cluster
   * @param media every post's media
   * @param retainedPosts posts each post-storage shard keeps
   * @param page posts a timeline read asks for
   * @param maxInFlight requests outstanding at most
   * @param warmup warm-up of every measured window
   * @param duration length of every measured window
   * @param probe length of the closed-loop window that estimates capacity before a sweep
   * @param seed the seed of the graph, the clips and the requests
   * @param verifyEvery one answer in this many has its media's pixels checked
   * @param quietUsers users whose timelines are checked exactly at the end
   * @param askTimeout the deadline of every call between services
   */
  public record Spec(
      int nodes,
      MediaShape media,
      int retainedPosts,
      int page,
      int maxInFlight,
      Duration warmup,
      Duration duration,
      Duration probe,
      long seed,
      int verifyEvery,
      int quietUsers,
      Duration askTimeout) {

    /** Checks the values. */
    public Spec {
      if (page < 1 || page > 100) {
        throw new IllegalArgumentException("page=" + page + " must be in [1, 100]");
      }
      if (maxInFlight < 1 || maxInFlight > 4096) {
        throw new IllegalArgumentException("maxInFlight=" + maxInFlight + " must be in [1, 4096]");
      }
      if (verifyEvery < 1) {
        throw new IllegalArgumentException("verifyEvery=" + verifyEvery + " must be >= 1");
      }
      if (duration.isNegative() || duration.isZero() || warmup.isNegative()) {
        throw new IllegalArgumentException(
            "duration=" + duration + " must be > 0 and warmup=" + warmup + " >= 0");
      }
    }
  }

  private final Spec spec;
  private final SocialGraph graph;
  private final List<Media> clips;
  private final PrintStream log;

  /** A bench of {@code spec}; {@code log} gets a line per phase. */
  public SocialNetBench(Spec spec, PrintStream log) {
    this.spec = spec;
    this.graph = SocialGraph.generate(spec.seed());
    List<Media> c = new ArrayList<>();
    for (int i = 0; i < CLIPS; i++) {
      c.add(Media.clip(spec.media(), spec.seed() * 31 + i));
    }
    this.clips = List.copyOf(c);
    this.log = log;
  }

  /**
   * Sweeps the rates of {@code workload} on {@code variant}: the probe's row, then a row a step.
   */
  public List<SnResult> sweep(String variant, Workload workload) throws InterruptedException {
    return run(variant, workload, null, "sweep");
  }

  /** Runs {@code workload} on {@code variant} at each of {@code rates}, a row each. */
  public List<SnResult> fixed(String variant, Workload workload, List<Double> rates, String phase)
      throws InterruptedException {
    if (rates.isEmpty() || rates.stream().anyMatch(r -> !(r > 0))) {
      throw new IllegalArgumentException("rates " + rates + " must be > 0");
    }
    return run(variant, workload, rates, phase);
  }

  private List<SnResult> run(String variant, Workload workload, List<Double> rates, String phase)
      throws InterruptedException {
    log.printf(
        "%s, %s, media %s: starting %d nodes%n",
        variant, workload.label(), spec.media(), spec.nodes());
    SocialNet.Settings settings =
        new SocialNet.Settings(
            spec.nodes(), graph, spec.media(), spec.retainedPosts(), spec.askTimeout());
    try (SocialNet net = SocialNet.start(variant, settings)) {
      long[] objectsAtStart = net.dsmObjects();
      SnChecker checker = new SnChecker(graph, clips, spec.verifyEvery());
      OpenLoop loop =
          new OpenLoop(net, checker, clips, spec.page(), spec.maxInFlight(), spec.askTimeout());
      prefill(net, checker);
      Workload.Source source = workload.source(spec.seed(), graph.users(), CLIPS);
      List<Step> steps = new ArrayList<>();
      if (rates == null) {
        OpenLoop.Outcome probe = loop.run(source, 0, spec.warmup(), spec.probe());
        steps.add(new Step("probe", probe));
        double capacity = probe.completed() / probe.seconds();
        log.printf(
            "%s: closed loop of %d: %.1f requests/s%n", variant, spec.maxInFlight(), capacity);
        for (double multiple : SWEEP_STEPS) {
          OpenLoop.Outcome o = step(loop, source, variant, Math.max(1, capacity * multiple));
          steps.add(new Step(phase, o));
          if (o.completed() / o.seconds() < KEPT_UP * o.offeredPerSec()) {
            break;
          }
        }
      } else {
        for (double rate : rates) {
          steps.add(new Step(phase, step(loop, source, variant, rate)));
        }
      }
      verifyQuietly(net, checker);
      checker.finish();
      int deleted = net.deleteAll();
      long[] leaked = awaitReleased(net, objectsAtStart);
      log.printf(
          "%s: %,d answers checked (%,d media), %d violations%s; %d posts deleted, %d objects and"
              + " %d arena slots left over%n",
          variant,
          checker.checked(),
          checker.mediaVerified(),
          checker.violations(),
          checker.firstViolation() == null ? "" : " (" + checker.firstViolation() + ")",
          deleted,
          leaked[0],
          leaked[1]);
      List<SnResult> results = new ArrayList<>();
      for (Step s : steps) {
        results.add(result(variant, workload, s, checker, leaked));
      }
      return results;
    }
  }

  private record Step(String phase, OpenLoop.Outcome outcome) {}

  private OpenLoop.Outcome step(OpenLoop loop, Workload.Source source, String variant, double rate)
      throws InterruptedException {
    OpenLoop.Outcome o = loop.run(source, rate, spec.warmup(), spec.duration());
    log.printf(
        "%s: offered %.1f/s, completed %.1f/s, p50 %.0f us, p99 %.0f us%s%s%s%n",
        variant,
        rate,
        o.completed() / o.seconds(),
        micros(o.all(), 50),
        micros(o.all(), 99),
        o.unsent() > 0 ? ", " + o.unsent() + " not sent in time" : "",
        o.traffic().readRetries() > 0
            ? ", " + o.traffic().readRetries() + " reads retried for handle weight"
            : "",
        o.errors() > 0 ? ", " + o.errors() + " errors (" + o.firstError() + ")" : "");
    return o;
  }

  /**
   * Composes posts until every post-storage shard is full, {@code maxInFlight} at a time, so that
   * the timelines read by the measured phases are as full as retention lets them be.
   */
  private void prefill(SocialNet net, SnChecker checker) throws InterruptedException {
    int posts = spec.retainedPosts() * spec.nodes();
    long started = System.nanoTime();
    Workload.Source source = Workload.COMPOSE.source(spec.seed() + 1, graph.users(), CLIPS);
    Semaphore slots = new Semaphore(Math.min(16, spec.maxInFlight()));
    AtomicReference<Throwable> failure = new AtomicReference<>();
    for (int i = 0; i < posts && failure.get() == null; i++) {
      slots.acquire();
      Workload.Request r = source.next();
      long sentNs = System.nanoTime();
      net.client(i % net.nodes())
          .compose(r.userId(), r.text(), clips.get(r.clip()))
          .whenComplete(
              (composed, e) -> {
                if (e == null) {
                  checker.composed(r, composed, sentNs);
                } else {
                  failure.compareAndSet(null, e);
                }
                slots.release();
              });
    }
    int all = Math.min(16, spec.maxInFlight());
    if (!slots.tryAcquire(all, spec.askTimeout().toMillis() + 5_000, TimeUnit.MILLISECONDS)) {
      throw new IllegalStateException("composing the first posts did not finish in time");
    }
    if (failure.get() != null) {
      throw new IllegalStateException(
          "composing the first posts failed: " + failure.get(), failure.get());
    }
    log.printf(
        "%s: composed %d posts in %d ms%n",
        net.variant(), posts, TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started));
  }

  /** Reads some users' timelines with nothing else running and checks them exactly. */
  private void verifyQuietly(SocialNet net, SnChecker checker) {
    SplittableRandom random = new SplittableRandom(spec.seed() + 2);
    for (int i = 0; i < spec.quietUsers(); i++) {
      int user = random.nextInt(graph.users());
      SnClient client = net.client(i % net.nodes());
      for (Workload.Type type : List.of(Workload.Type.HOME, Workload.Type.USER)) {
        try {
          SnClient.Timeline page =
              (type == Workload.Type.HOME
                      ? client.readHomeTimeline(user, 0, spec.page())
                      : client.readUserTimeline(user, 0, spec.page()))
                  .toCompletableFuture()
                  .get(spec.askTimeout().toMillis() + 5_000, TimeUnit.MILLISECONDS);
          checker.quiet(type, user, spec.page(), page);
        } catch (Exception e) {
          checker.failed("the quiet " + type.label() + " timeline of " + user + " failed: " + e);
        }
      }
    }
  }

  /**
   * Waits until the DSM objects and arena slots are back to {@code atStart} (drops reach the homes
   * asynchronously), for up to ten seconds; returns what is left over, plus Hazelcast's entries.
   */
  private static long[] awaitReleased(SocialNet net, long[] atStart) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    long[] now = net.dsmObjects();
    while (!Arrays.equals(now, atStart) && System.nanoTime() < deadline) {
      TimeUnit.MILLISECONDS.sleep(50);
      now = net.dsmObjects();
    }
    return new long[] {now[0] - atStart[0] + net.hazelcastEntries(), now[1] - atStart[1]};
  }

  private SnResult result(
      String variant, Workload workload, Step step, SnChecker checker, long[] leaked) {
    OpenLoop.Outcome o = step.outcome();
    Map<Workload.Type, Histogram> l = o.latencies();
    double done = Math.max(1, o.completed());
    SocialNet.Traffic t = o.traffic();
    return new SnResult(
        variant,
        workload.label(),
        spec.media().toString(),
        spec.media().bytes(),
        spec.nodes(),
        step.phase(),
        o.offeredPerSec(),
        o.completed() / o.seconds(),
        o.seconds(),
        o.completed(),
        micros(o.all(), 50),
        micros(o.all(), 99),
        micros(o.all(), 99.9),
        micros(l.get(Workload.Type.COMPOSE), 50),
        micros(l.get(Workload.Type.COMPOSE), 99),
        micros(l.get(Workload.Type.COMPOSE), 99.9),
        micros(l.get(Workload.Type.HOME), 50),
        micros(l.get(Workload.Type.HOME), 99),
        micros(l.get(Workload.Type.HOME), 99.9),
        micros(l.get(Workload.Type.USER), 50),
        micros(l.get(Workload.Type.USER), 99),
        micros(l.get(Workload.Type.USER), 99.9),
        o.errors(),
        o.firstError(),
        o.unsent(),
        t.wireBytes() / done,
        t.arteryMessages() / done,
        t.dsmMessages() / done,
        t.oneSidedBytes() / done,
        t.readRetries(),
        checker.checked(),
        checker.mediaVerified(),
        checker.violations(),
        checker.firstViolation(),
        leaked[0],
        leaked[1]);
  }

  static double micros(Histogram h, double percentile) {
    return h == null || h.getTotalCount() == 0
        ? Double.NaN
        : h.getValueAtPercentile(percentile) / 1000.0;
  }
}
