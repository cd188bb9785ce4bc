package dev.pekkodsm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import dev.pekkodsm.internal.DsmSettings;
import dev.pekkodsm.serialization.ClassRegistry;
import java.io.File;
import java.time.Duration;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/** The configuration examples in conf/ parse, and settings are validated with clear errors. */
class ConfExamplesTest {

  static Config load(String hocon) {
    return ConfigFactory.parseString(hocon).withFallback(ConfigFactory.load()).resolve();
  }

  @Test
  void shouldParseEveryExampleInConf() {
    File[] examples = new File("../conf").listFiles((dir, name) -> name.endsWith(".conf"));
    assertTrue(examples != null && examples.length >= 2, "conf/ has examples");
    for (File f : examples) {
      Config c = ConfigFactory.parseFile(f).withFallback(ConfigFactory.load()).resolve();
      DsmSettings s = DsmSettings.from(c, ClassRegistry.empty(), getClass().getClassLoader());
      assertEquals("cluster", c.getString("pekko.actor.provider"), f.getName());
      assertTrue(s.borrowTimeout.compareTo(Duration.ZERO) > 0, f.getName());
    }
  }

  @Test
  void shouldReadTheDefaultsFromReferenceConf() {
    DsmSettings s =
        DsmSettings.from(ConfigFactory.load(), ClassRegistry.empty(), getClass().getClassLoader());
    assertEquals(Duration.ofSeconds(5), s.borrowTimeout);
    assertEquals(DsmSettings.Transport.AUTO, s.transport);
    assertFalse(
        s.rdmaCpuCoherentAtomics, "RDMA atomics only where the operator says they are safe");
    DsmSettings on =
        DsmSettings.from(
            load("pekko.dsm.rdma.cpu-coherent-atomics = on"),
            ClassRegistry.empty(),
            getClass().getClassLoader());
    assertTrue(on.rdmaCpuCoherentAtomics);
  }

  @Test
  void shouldRejectBadSettingsNamingTheKeyAndValue() {
    ClassLoader cl = getClass().getClassLoader();
    for (String bad :
        Arrays.asList(
            "pekko.dsm.borrow-timeout = 0s",
            "pekko.dsm.transport = carrier-pigeon",
            "pekko.dsm.serialization.max-snapshot-size = 4GiB",
            "pekko.dsm.arena.segment-size = 1MiB",
            "pekko.dsm.serialization.classes { \"no.such.Clazz\" = 100 }",
            "pekko.dsm.serialization.classes { \"java.lang.Thread\" = 7 }",
            "pekko.dsm.serialization.classes { \"java.lang.Thread\" = nope }",
            "pekko.dsm.move.inline-limit = 100MiB",
            "pekko.dsm.tcp.port = 70000",
            "pekko.dsm.tcp.server-threads = 0",
            "pekko.dsm.tcp.connections-per-peer = 0",
            "pekko.dsm.tcp.handshake-timeout = 0s",
            "pekko.dsm.rdma.port = -1",
            "pekko.dsm.rdma.connect-timeout = 0s")) {
      var e =
          assertThrows(
              ConfigException.class,
              () -> DsmSettings.from(load(bad), ClassRegistry.empty(), cl),
              bad);
      assertTrue(e.getMessage().contains("pekko.dsm"), bad + " -> " + e.getMessage());
    }
  }
}
