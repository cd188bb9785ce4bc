package dev.pekkodsm.metrics;

import dev.pekkodsm.Dsm;
import dev.pekkodsm.DsmCounters;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import javax.management.Attribute;
import javax.management.AttributeList;
import javax.management.AttributeNotFoundException;
import javax.management.DynamicMBean;
import javax.management.InstanceAlreadyExistsException;
import javax.management.InstanceNotFoundException;
import javax.management.JMException;
import javax.management.MBeanAttributeInfo;
import javax.management.MBeanInfo;
import javax.management.MBeanServer;
import javax.management.ObjectName;
import javax.management.ReflectionException;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One node's counters and read latencies as a JMX MBean in the platform MBean server, named {@code
 * dev.pekkodsm:type=Dsm,system=<actor system>,node=<node id>} ({@link #objectName}). Every {@link
 * DsmCounters} component is a {@code long} attribute of the same name; for each transport ({@code
 * shm}, {@code tcp}, {@code rdma}) the attributes {@code <transport>ReadSamples}, {@code
 * <transport>ReadP50Micros}, {@code ...P99Micros}, {@code ...P999Micros} and {@code ...MaxMicros}
 * give the percentiles of {@link ReadLatencies}. Attributes are read when asked: the MBean costs
 * nothing between reads.
 *
 * <p>The DSM registers it when it starts, unless {@code pekko.dsm.jmx.enabled = off}, and removes
 * it when the actor system terminates.
 */
public final class DsmJmx {

  private static final Logger log = LoggerFactory.getLogger(DsmJmx.class);
  private static final String[] LATENCY = {
    "Samples", "P50Micros", "P99Micros", "P999Micros", "MaxMicros"
  };

  private DsmJmx() {}

  /** The name of the MBean of {@code dsm}'s node in {@code system}. */
  public static ObjectName objectName(ActorSystem<?> system, Dsm dsm) {
    try {
      return new ObjectName(
          "dev.pekkodsm:type=Dsm,system="
              + ObjectName.quote(system.name())
              + ",node="
              + dsm.self().hex());
    } catch (JMException e) {
      throw new IllegalStateException("cannot name the DSM's MBean", e);
    }
  }

  /**
   * Registers the MBean of {@code dsm} (if {@code pekko.dsm.jmx.enabled}) and removes it when
   * {@code system} terminates. A failure to register is logged, never thrown: metrics must not stop
   * a node.
   */
  public static void register(ActorSystem<?> system, Dsm dsm) {
    if (!dsm.internalNode().settings().jmxEnabled) {
      return;
    }
    MBeanServer server = ManagementFactory.getPlatformMBeanServer();
    ObjectName name = objectName(system, dsm);
    try {
      server.registerMBean(new Bean(dsm), name);
    } catch (InstanceAlreadyExistsException e) {
      log.warn("the DSM MBean {} is registered already; not registering it again", name);
      return;
    } catch (JMException | RuntimeException e) {
      log.warn("cannot register the DSM MBean {}: {}", name, e.toString());
      return;
    }
    Adapter.toClassic(system)
        .registerOnTermination(
            () -> {
              try {
                server.unregisterMBean(name);
              } catch (InstanceNotFoundException e) {
                // gone already
              } catch (JMException e) {
                log.debug("unregistering {}: {}", name, e.toString());
              }
            });
  }

  /** Reads the counters and latencies of one node. */
  private static final class Bean implements DynamicMBean {
    private final Dsm dsm;
    private final MBeanInfo info;

    Bean(Dsm dsm) {
      this.dsm = dsm;
      List<MBeanAttributeInfo> attributes = new ArrayList<>();
      for (CounterTable.Counter c : CounterTable.COUNTERS) {
        attributes.add(
            new MBeanAttributeInfo(
                c.name(),
                "long",
                (c.gauge() ? "now: " : "since the node started: ") + c.name(),
                true,
                false,
                false));
      }
      for (String transport : ReadLatencies.TRANSPORTS) {
        for (String part : LATENCY) {
          attributes.add(
              new MBeanAttributeInfo(
                  transport + "Read" + part,
                  "long",
                  "one-sided reads over " + transport + ": " + part,
                  true,
                  false,
                  false));
        }
      }
      this.info =
          new MBeanInfo(
              DsmJmx.class.getName(),
              "pekko-dsm counters and read latencies of node " + dsm.self().hex(),
              attributes.toArray(new MBeanAttributeInfo[0]),
              null,
              null,
              null);
    }

    @Override
    public Object getAttribute(String attribute) throws AttributeNotFoundException {
      DsmCounters counters = dsm.counters();
      for (CounterTable.Counter c : CounterTable.COUNTERS) {
        if (c.name().equals(attribute)) {
          return c.read(counters);
        }
      }
      for (String transport : ReadLatencies.TRANSPORTS) {
        if (attribute.startsWith(transport + "Read")) {
          ReadLatencies.Percentiles p = dsm.internalNode().readLatencies().percentiles(transport);
          switch (attribute.substring(transport.length() + 4)) {
            case "Samples":
              return p.samples();
            case "P50Micros":
              return p.p50Ns() / 1000;
            case "P99Micros":
              return p.p99Ns() / 1000;
            case "P999Micros":
              return p.p999Ns() / 1000;
            case "MaxMicros":
              return p.maxNs() / 1000;
            default:
              break;
          }
        }
      }
      throw new AttributeNotFoundException(
          "no attribute " + attribute + " (see " + DsmJmx.class.getName() + ")");
    }

    @Override
    public AttributeList getAttributes(String[] attributes) {
      AttributeList list = new AttributeList();
      for (String a : attributes) {
        try {
          list.add(new Attribute(a, getAttribute(a)));
        } catch (AttributeNotFoundException e) {
          // JMX leaves unknown attributes out of the list
        }
      }
      return list;
    }

    @Override
    public void setAttribute(Attribute attribute) throws AttributeNotFoundException {
      throw new AttributeNotFoundException(
          attribute.getName().toLowerCase(Locale.ROOT) + " is read-only");
    }

    @Override
    public AttributeList setAttributes(AttributeList attributes) {
      return new AttributeList();
    }

    @Override
    public Object invoke(String action, Object[] params, String[] signature)
        throws ReflectionException {
      // The MBean is read-only (its info lists no operation); JMX's answer to an unknown one.
      throw new ReflectionException(
          new NoSuchMethodException(action), "the DSM MBean has no operation " + action);
    }

    @Override
    public MBeanInfo getMBeanInfo() {
      return info;
    }
  }
}
