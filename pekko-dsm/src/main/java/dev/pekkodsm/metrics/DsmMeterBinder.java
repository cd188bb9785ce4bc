package dev.pekkodsm.metrics;

import dev.pekkodsm.Dsm;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.binder.MeterBinder;
import java.util.function.ToDoubleFunction;

/**
 * One node's counters and read latencies for Micrometer. Needs {@code
 * io.micrometer:micrometer-core} on the classpath (pekko-dsm declares it optional).
 *
 * <pre>{@code
 * new DsmMeterBinder(Dsm.get(system)).bindTo(registry);
 * }</pre>
 *
 * <p>Every running total of {@link dev.pekkodsm.DsmCounters} becomes a function counter named
 * {@code pekko.dsm.} and its name dotted ({@code oneSidedReads}: {@code
 * pekko.dsm.one.sided.reads}), the levels ({@code liveObjects}, {@code arenaSlots}) gauges; read
 * latencies are gauges {@code pekko.dsm.read.latency} in seconds with tags {@code transport} and
 * {@code quantile} (0.5, 0.99, 0.999, from {@link ReadLatencies}), and {@code
 * pekko.dsm.read.latency.samples} counts the timed reads. Every meter carries the tags {@code
 * system} and {@code node}. Values are read when the registry polls.
 */
public final class DsmMeterBinder implements MeterBinder {

  private final Dsm dsm;
  private final Tags tags;

  /** A binder of {@code dsm}'s meters. */
  public DsmMeterBinder(Dsm dsm) {
    this.dsm = dsm;
    this.tags =
        Tags.of(
            Tag.of("system", dsm.internalNode().system().name()), Tag.of("node", dsm.self().hex()));
  }

  @Override
  public void bindTo(MeterRegistry registry) {
    for (CounterTable.Counter c : CounterTable.COUNTERS) {
      String name = "pekko.dsm." + CounterTable.dotted(c.name());
      ToDoubleFunction<Dsm> value = d -> c.read(d.counters());
      if (c.gauge()) {
        Gauge.builder(name, dsm, value).tags(tags).register(registry);
      } else {
        FunctionCounter.builder(name, dsm, value).tags(tags).register(registry);
      }
    }
    ReadLatencies latencies = dsm.internalNode().readLatencies();
    for (String transport : ReadLatencies.TRANSPORTS) {
      Tags own = tags.and("transport", transport);
      FunctionCounter.builder(
              "pekko.dsm.read.latency.samples", latencies, l -> l.percentiles(transport).samples())
          .tags(own)
          .register(registry);
      quantile(registry, own, latencies, transport, "0.5", p -> p.p50Ns());
      quantile(registry, own, latencies, transport, "0.99", p -> p.p99Ns());
      quantile(registry, own, latencies, transport, "0.999", p -> p.p999Ns());
    }
  }

  private static void quantile(
      MeterRegistry registry,
      Tags tags,
      ReadLatencies latencies,
      String transport,
      String quantile,
      java.util.function.ToLongFunction<ReadLatencies.Percentiles> ns) {
    Gauge.builder(
            "pekko.dsm.read.latency",
            latencies,
            l -> ns.applyAsLong(l.percentiles(transport)) / 1e9)
        .baseUnit("seconds")
        .tags(tags.and("quantile", quantile))
        .register(registry);
  }
}
