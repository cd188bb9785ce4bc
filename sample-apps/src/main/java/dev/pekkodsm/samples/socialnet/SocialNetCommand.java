package dev.pekkodsm.samples.socialnet;

import dev.pekkodsm.samples.BenchOptions;
import dev.pekkodsm.samples.ForkedJvm;
import java.io.IOException;
import java.time.Duration;
import java.time.LocalDateTime;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code ./dsm bench socialnet}: DeathStarBench's social network in three variants. */
@Command(
    name = "socialnet",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    description = {
      "Run DeathStarBench's social network as Pekko actors on an embedded cluster, in three"
          + " variants of the same services: dsm (passing pekko-dsm references), values (passing"
          + " posts and media in messages) and hazelcast (posts and media in IMaps, passing keys)."
          + " Each variant runs in a JVM of its own. Without --rates, each sweeps request rates to"
          + " find its saturation throughput, then all run at half the slowest one's. Prints a"
          + " table and writes JSON, CSV and PNG charts under --results; exits with 1 if any"
          + " answer failed its checks or a deleted post left anything behind.",
      "Example: ./dsm bench socialnet --workloads compose --variants dsm,values"
          + " --media 1x64x64,1x480x270,5x480x270"
    })
public final class SocialNetCommand implements Callable<Integer> {

  @Option(
      names = "--variants",
      split = ",",
      defaultValue = "dsm,values,hazelcast",
      description = "variants to run, in order (default ${DEFAULT-VALUE})")
  List<String> variants;

  @Option(
      names = "--workloads",
      split = ",",
      defaultValue = "mixed,compose",
      description =
          "request mixes: mixed (60 % home timeline, 30 % user timeline, 10 % compose), compose,"
              + " home, user (default ${DEFAULT-VALUE})")
  List<String> workloads;

  @Option(
      names = "--media",
      split = ",",
      defaultValue = "5x480x270",
      description =
          "each post's media, FRAMESxWIDTHxHEIGHT RGB; several sizes sweep the media size"
              + " (default ${DEFAULT-VALUE}, DRust's)")
  List<String> media;

  @Option(names = "--nodes", defaultValue = "3", description = "nodes (default ${DEFAULT-VALUE})")
  int nodes;

  @Option(
      names = "--rates",
      split = ",",
      description = "requests per second to run at, instead of the sweep")
  List<Double> rates;

  @Option(
      names = "--warmup",
      defaultValue = "3s",
      description =
          "warm-up before every measured window, e.g. 3s, 500ms (default ${DEFAULT-VALUE})")
  String warmup;

  @Option(
      names = "--duration",
      defaultValue = "10s",
      description = "length of every measured window (default ${DEFAULT-VALUE})")
  String duration;

  @Option(
      names = "--probe",
      defaultValue = "5s",
      description =
          "closed-loop window that estimates capacity before a sweep (default ${DEFAULT-VALUE})")
  String probe;

  @Option(
      names = "--max-in-flight",
      defaultValue = "32",
      description = "requests outstanding at most, wrk2's connections (default ${DEFAULT-VALUE})")
  int maxInFlight;

  @Option(
      names = "--retained-posts",
      defaultValue = "100",
      description =
          "posts each post-storage shard keeps; older ones are deleted (default ${DEFAULT-VALUE})")
  int retainedPosts;

  @Option(
      names = "--page",
      defaultValue = "10",
      description = "posts a timeline read asks for (default ${DEFAULT-VALUE})")
  int page;

  @Option(
      names = "--verify-every",
      defaultValue = "64",
      description =
          "one answer in this many has its media's pixels checked (default ${DEFAULT-VALUE})")
  int verifyEvery;

  @Option(
      names = "--quiet-users",
      defaultValue = "32",
      description =
          "users whose timelines are checked exactly after the load (default ${DEFAULT-VALUE})")
  int quietUsers;

  @Option(
      names = "--ask-timeout",
      defaultValue = "30s",
      description = "deadline of every call between services (default ${DEFAULT-VALUE})")
  String askTimeout;

  @Option(names = "--seed", defaultValue = "42", description = "seed (default ${DEFAULT-VALUE})")
  long seed;

  @Mixin BenchOptions common;

  @Option(
      names = "--smoke",
      description =
          "a quick check of every variant: media 1x64x48, the mixed workload at 25 requests/s,"
              + " 1 s + 2 s, every answer's media checked")
  boolean smoke;

  /** Set on the child JVM of a forked run: the phase label of fixed rates. */
  @Option(names = "--phase", hidden = true, defaultValue = "fixed")
  String phase;

  private static final Pattern DURATION = Pattern.compile("(\\d+)(ms|s|m)");

  @Override
  public Integer call() throws Exception {
    if (smoke) {
      media = List.of("1x64x48");
      workloads = List.of("mixed");
      rates = List.of(25.0);
      warmup = "1s";
      duration = "2s";
      retainedPosts = 8;
      verifyEvery = 1;
      quietUsers = 16;
      maxInFlight = 16;
    }
    List<MediaShape> shapes = new ArrayList<>();
    List<Workload> mixes = new ArrayList<>();
    SocialNetBench.Spec spec = common.validate(() -> validate(shapes, mixes));
    common.leaveWithParent();
    if (common.forkedChild()) {
      SocialNetBench bench = new SocialNetBench(spec, System.out);
      common.writeResult(
          rates == null
              ? bench.sweep(variants.get(0), mixes.get(0))
              : bench.fixed(variants.get(0), mixes.get(0), rates, phase));
      return 0;
    }
    List<SnResult> all = new ArrayList<>();
    List<String> failed = new ArrayList<>();
    for (MediaShape shape : shapes) {
      SocialNetBench.Spec s = withMedia(spec, shape);
      for (Workload w : mixes) {
        if (rates != null) {
          for (String v : variants) {
            all.addAll(runOne(s, v, w, rates, "fixed", failed));
          }
          continue;
        }
        double slowest = Double.MAX_VALUE;
        for (String v : variants) {
          List<SnResult> swept = runOne(s, v, w, null, "sweep", failed);
          all.addAll(swept);
          slowest =
              Math.min(
                  slowest,
                  swept.stream()
                      .filter(r -> r.phase().equals("sweep"))
                      .mapToDouble(SnResult::achievedPerSec)
                      .max()
                      .orElse(Double.MAX_VALUE));
        }
        if (slowest < Double.MAX_VALUE) {
          double half = Math.max(0.5, slowest / 2);
          for (String v : variants) {
            all.addAll(runOne(s, v, w, List.of(half), "half", failed));
          }
        }
      }
    }
    common.publish(new SnReport(all, describe(shapes)), "socialnet", LocalDateTime.now());
    failed.forEach(f -> System.out.println("FAILED: " + f));
    return failed.isEmpty() && all.stream().allMatch(SnResult::correct) ? 0 : 1;
  }

  /**
   * Checks every option before anything starts, parsing the media sizes into {@code shapes} and the
   * workloads into {@code mixes}.
   *
   * @return the run's spec, with the first media size
   * @throws IllegalArgumentException saying what is wrong
   */
  private SocialNetBench.Spec validate(List<MediaShape> shapes, List<Workload> mixes) {
    for (String v : variants) {
      if (!SocialNet.VARIANTS.contains(v)) {
        throw new IllegalArgumentException(
            "unknown variant " + v + "; known: " + String.join(", ", SocialNet.VARIANTS));
      }
    }
    media.forEach(m -> shapes.add(MediaShape.parse(m)));
    workloads.forEach(w -> mixes.add(Workload.parse(w)));
    if (nodes < 1 || nodes > 16) {
      throw new IllegalArgumentException("--nodes=" + nodes + " must be in [1, 16]");
    }
    if (rates != null && rates.stream().anyMatch(r -> !(r > 0) || r > 1_000_000)) {
      throw new IllegalArgumentException("--rates " + rates + " must be in (0, 1000000]");
    }
    if (retainedPosts < 1) {
      throw new IllegalArgumentException("--retained-posts=" + retainedPosts + " must be >= 1");
    }
    if (quietUsers < 0) {
      throw new IllegalArgumentException("--quiet-users=" + quietUsers + " must be >= 0");
    }
    return new SocialNetBench.Spec(
        nodes,
        shapes.get(0),
        retainedPosts,
        page,
        maxInFlight,
        duration("--warmup", warmup, true),
        duration("--duration", duration, false),
        duration("--probe", probe, false),
        seed,
        verifyEvery,
        quietUsers,
        duration("--ask-timeout", askTimeout, false));
  }

  private static SocialNetBench.Spec withMedia(SocialNetBench.Spec s, MediaShape shape) {
    return new SocialNetBench.Spec(
        s.nodes(),
        shape,
        s.retainedPosts(),
        s.page(),
        s.maxInFlight(),
        s.warmup(),
        s.duration(),
        s.probe(),
        s.seed(),
        s.verifyEvery(),
        s.quietUsers(),
        s.askTimeout());
  }

  /** One run; a run that fails is reported in {@code failed}, and the others go on. */
  private List<SnResult> runOne(
      SocialNetBench.Spec s,
      String variant,
      Workload w,
      List<Double> at,
      String label,
      List<String> failed)
      throws Exception {
    try {
      if (common.inProcess()) {
        SocialNetBench bench = new SocialNetBench(s, System.out);
        return at == null ? bench.sweep(variant, w) : bench.fixed(variant, w, at, label);
      }
      return forked(s, variant, w, at, label);
    } catch (IllegalStateException e) {
      failed.add(variant + ", " + w.label() + ", media " + s.media() + ", " + label + ": " + e);
      System.out.println("FAILED: " + failed.get(failed.size() - 1));
      return List.of();
    }
  }

  /** Runs one variant in a fresh JVM of its own ({@link ForkedJvm}) and reads its rows back. */
  private List<SnResult> forked(
      SocialNetBench.Spec s, String variant, Workload w, List<Double> at, String label)
      throws IOException, InterruptedException {
    List<String> args =
        new ArrayList<>(
            List.of(
                "bench",
                "socialnet",
                "--variants=" + variant,
                "--workloads=" + w.label(),
                "--media=" + s.media(),
                "--nodes=" + s.nodes(),
                "--warmup=" + s.warmup().toMillis() + "ms",
                "--duration=" + s.duration().toMillis() + "ms",
                "--probe=" + s.probe().toMillis() + "ms",
                "--max-in-flight=" + s.maxInFlight(),
                "--retained-posts=" + s.retainedPosts(),
                "--page=" + s.page(),
                "--verify-every=" + s.verifyEvery(),
                "--quiet-users=" + s.quietUsers(),
                "--ask-timeout=" + s.askTimeout().toMillis() + "ms",
                "--seed=" + s.seed(),
                "--phase=" + label));
    if (at != null) {
      args.add(
          "--rates="
              + String.join(
                  ",", at.stream().map(r -> String.format(Locale.ROOT, "%.3f", r)).toList()));
    }
    long windows = at == null ? 1 + SocialNetBench.SWEEP_STEPS.length : at.size();
    long limitMs =
        180_000
            + windows * (s.warmup().toMillis() + s.duration().toMillis() + s.probe().toMillis())
            + 2 * s.askTimeout().toMillis();
    return Arrays.asList(
        ForkedJvm.run(variant, args, SnResult[].class, Duration.ofMillis(limitMs)));
  }

  /** Parses {@code 20s}, {@code 500ms} or {@code 2m}. */
  static Duration duration(String option, String value, boolean zeroAllowed) {
    Matcher m = DURATION.matcher(value.trim().toLowerCase(Locale.ROOT));
    if (!m.matches()) {
      throw new IllegalArgumentException(
          option + "=" + value + " is not a duration; use e.g. 10s, 500ms, 2m");
    }
    long n = Long.parseLong(m.group(1));
    Duration d =
        switch (m.group(2)) {
          case "ms" -> Duration.ofMillis(n);
          case "s" -> Duration.ofSeconds(n);
          default -> Duration.ofMinutes(n);
        };
    if (d.isZero() && !zeroAllowed) {
      throw new IllegalArgumentException(option + "=" + value + " must be longer than 0");
    }
    return d;
  }

  private Map<String, Object> describe(List<MediaShape> shapes) {
    SocialGraph.DegreeStats g = SocialGraph.generate(seed).degreeStats();
    Map<String, Object> run = new LinkedHashMap<>();
    run.put("started", LocalDateTime.now().toString());
    run.put("variants", variants);
    run.put("workloads", workloads);
    run.put("media", shapes.stream().map(MediaShape::toString).toList());
    run.put("nodes", nodes);
    run.put("rates", rates);
    run.put("warmup", warmup);
    run.put("duration", duration);
    run.put("probe", probe);
    run.put("maxInFlight", maxInFlight);
    run.put("retainedPostsPerShard", retainedPosts);
    run.put("page", page);
    run.put("verifyEvery", verifyEvery);
    run.put("seed", seed);
    run.put(
        "graph",
        Map.of(
            "users", SocialGraph.USERS,
            "edges", SocialGraph.EDGES,
            "degreeMedian", g.median(),
            "degreeMean", g.mean(),
            "degreeMax", g.max()));
    run.put("jvmPerVariant", !common.inProcess());
    run.put("java", System.getProperty("java.vm.name") + " " + System.getProperty("java.version"));
    run.put("cpus", Runtime.getRuntime().availableProcessors());
    run.put("maxHeapMiB", Runtime.getRuntime().maxMemory() >> 20);
    return run;
  }
}
