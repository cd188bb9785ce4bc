package dev.pekkodsm.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pekkodsm.DMutex;
import dev.pekkodsm.Dsm;
import dev.pekkodsm.testkit.LocalCluster;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.lang.management.ManagementFactory;
import java.util.concurrent.TimeUnit;
import javax.management.MBeanServer;
import javax.management.ObjectName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The JMX MBean and the Micrometer binder show a node's counters and read latencies moving. */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class DsmMetricsTest {

  private static final MBeanServer JMX = ManagementFactory.getPlatformMBeanServer();

  /** Node 0 updates a mutex, node 1 reads each version one-sided: {@code rounds} reads. */
  private static void workload(DMutex<Long> there, DMutex<Long> home, int rounds) {
    for (int i = 0; i < rounds; i++) {
      long expected = home.replace(v -> v + 1);
      assertEquals(expected, (long) there.read(v -> v), "a read sees the last unlock");
    }
  }

  @Test
  void shouldShowCountersAndLatenciesMovingInTheMBeanAndTheBinder() throws Exception {
    ObjectName name;
    try (LocalCluster cluster = LocalCluster.withNodes(2).start()) {
      Dsm reader = cluster.dsm(1);
      name = DsmJmx.objectName(cluster.system(1), reader);
      assertTrue(JMX.isRegistered(name), name + " registered when the DSM started");
      SimpleMeterRegistry registry = new SimpleMeterRegistry();
      new DsmMeterBinder(reader).bindTo(registry);

      DMutex<Long> home = cluster.dsm(0).mutex(0L);
      DMutex<Long> there = cluster.send(0, 1, home.clone());
      javax.management.ObjectName mbean = name;
      org.junit.jupiter.api.Assertions.assertThrows(
          javax.management.ReflectionException.class,
          () -> JMX.invoke(mbean, "reset", new Object[0], new String[0]),
          "the MBean is read-only: an operation is JMX's unknown-operation error");
      long jmxBefore = (Long) JMX.getAttribute(name, "oneSidedReads");
      double meterBefore = registry.get("pekko.dsm.one.sided.reads").functionCounter().count();

      workload(there, home, 400);

      long jmxAfter = (Long) JMX.getAttribute(name, "oneSidedReads");
      double meterAfter = registry.get("pekko.dsm.one.sided.reads").functionCounter().count();
      assertTrue(jmxAfter - jmxBefore >= 400, jmxBefore + " -> " + jmxAfter);
      assertEquals(jmxAfter, (long) meterAfter, "both read the same counters");
      assertTrue(meterAfter - meterBefore >= 400, meterBefore + " -> " + meterAfter);
      assertEquals(jmxAfter, reader.counters().oneSidedReads());

      // One read in eight is timed: 400 reads give about 50 samples, and never none.
      long samples = (Long) JMX.getAttribute(name, "shmReadSamples");
      assertTrue(samples > 10, "timed shm reads: " + samples);
      assertTrue((Long) JMX.getAttribute(name, "shmReadP99Micros") >= 0);
      assertTrue(
          (Long) JMX.getAttribute(name, "shmReadMaxMicros")
              >= (Long) JMX.getAttribute(name, "shmReadP50Micros"));
      double p50Seconds =
          registry
              .get("pekko.dsm.read.latency")
              .tags("transport", "shm", "quantile", "0.5")
              .gauge()
              .value();
      assertTrue(p50Seconds > 0 && p50Seconds < 1, "p50 of an shm read: " + p50Seconds + " s");
      assertTrue(
          registry
                  .get("pekko.dsm.read.latency.samples")
                  .tags("transport", "shm")
                  .functionCounter()
                  .count()
              >= samples);
      assertEquals(0L, JMX.getAttribute(name, "tcpReadSamples"), "nothing read over tcp");
      assertTrue(
          registry.get("pekko.dsm.live.objects").tag("node", reader.self().hex()).gauge().value()
              >= 0);
      there.drop();
      home.drop();
    }
    assertFalse(JMX.isRegistered(name), "removed when the node stopped");
  }

  @Test
  void shouldRegisterNothingWhenJmxIsOff() {
    try (LocalCluster cluster =
        LocalCluster.withNodes(1).config("pekko.dsm.jmx.enabled = off").start()) {
      assertFalse(JMX.isRegistered(DsmJmx.objectName(cluster.system(0), cluster.dsm(0))));
    }
  }
}
