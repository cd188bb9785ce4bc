package dev.pekkodsm.testkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigValue;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** One builder for every node's configuration, and the fast-failover preset in conf/. */
class NodeConfigTest {

  private static final Path CONF = Path.of("..", "conf");

  private static Set<String> clusterKeys(Config c) {
    Set<String> keys = new TreeSet<>();
    for (Map.Entry<String, ConfigValue> e : c.entrySet()) {
      if (e.getKey().startsWith("pekko.cluster.")) {
        keys.add(e.getKey());
      }
    }
    return keys;
  }

  @Test
  void shouldKeepConfFastFailoverEqualToTheBuildersPreset() {
    Config preset = NodeConfig.Failover.FAST.toConfig();
    Config file = ConfigFactory.parseFile(CONF.resolve("fast-failover.conf").toFile()).resolve();
    assertEquals(clusterKeys(preset), clusterKeys(file), "the same keys");
    for (String key : clusterKeys(preset)) {
      assertEquals(preset.getDuration(key), file.getDuration(key), key);
    }
    Config embedded = ConfigFactory.parseFile(CONF.resolve("embedded.conf").toFile()).resolve();
    for (String key : clusterKeys(preset)) {
      assertEquals(preset.getDuration(key), embedded.getDuration(key), "embedded.conf: " + key);
    }
  }

  @Test
  void shouldReadTheFailoverSettingsBackFromANodesConfig() {
    NodeConfig.Failover custom =
        NodeConfig.Failover.FAST
            .withAcceptableHeartbeatPause(Duration.ofSeconds(4))
            .withStableAfter(Duration.ofSeconds(6));
    Config built = NodeConfig.builder().failover(custom).build();
    assertEquals(custom, NodeConfig.Failover.from(built));
    assertEquals(Duration.ofMillis(4000 + 200 + 6000), custom.downedAfter());
    Config broken =
        ConfigFactory.parseString("pekko.cluster.failure-detector.heartbeat-interval = 0s")
            .withFallback(built);
    assertThrows(IllegalArgumentException.class, () -> NodeConfig.Failover.from(broken));
  }

  @Test
  void shouldGiveEveryLauncherTheSameBasicsAndPreset(@TempDir Path dir) throws Exception {
    try (LocalCluster cluster = LocalCluster.withNodes(1).start()) {
      Config local = cluster.system(0).settings().config();
      Config fast = NodeConfig.Failover.FAST.toConfig();
      for (String key : clusterKeys(fast)) {
        assertEquals(fast.getDuration(key), local.getDuration(key), "LocalCluster: " + key);
      }
      assertEquals(
          "keep-majority", local.getString("pekko.cluster.split-brain-resolver.active-strategy"));
    }
    Path file = dir.resolve("node.conf");
    Files.writeString(file, "pekko.cluster.split-brain-resolver.stable-after = 7s\n");
    Config node =
        NodeConfig.builder()
            .failover(NodeConfig.Failover.FAST)
            .configFile(file)
            .host("127.0.0.1")
            .port(25999)
            .seeds(List.of("127.0.0.1:25998"))
            .build();
    assertEquals(
        Duration.ofSeconds(7),
        node.getDuration("pekko.cluster.split-brain-resolver.stable-after"),
        "a file wins over the preset");
    assertEquals(
        Duration.ofSeconds(1),
        node.getDuration("pekko.cluster.failure-detector.acceptable-heartbeat-pause"));
    assertEquals(25999, node.getInt("pekko.remote.artery.canonical.port"));
    assertEquals(
        List.of("pekko://pekko-dsm@127.0.0.1:25998"),
        node.getStringList("pekko.cluster.seed-nodes"));
    assertEquals("cluster", node.getString("pekko.actor.provider"));
  }

  @Test
  void shouldNameWhatIsWrongBeforeAnythingStarts() {
    Map<String, NodeConfig.Builder> bad =
        Map.of(
            "no such config file",
            NodeConfig.builder().configFile(Path.of("/nonexistent.conf")),
            "port 70000 is not a port",
            NodeConfig.builder().port(70000),
            "'localhost' is not HOST:PORT",
            NodeConfig.builder().seeds(List.of("localhost")),
            "system name 'a b'",
            NodeConfig.builder().name("a b"),
            "transport=carrier-pigeon",
            NodeConfig.builder().config("pekko.dsm.transport = carrier-pigeon"),
            "the secret is all zeros",
            NodeConfig.builder().config("pekko.dsm.tcp.secret = \"0000\""));
    bad.forEach(
        (what, builder) -> {
          var e = assertThrows(IllegalArgumentException.class, builder::build, what);
          assertTrue(e.getMessage().contains(what), what + " -> " + e.getMessage());
        });
  }

  @Test
  void shouldRefuseToStartATcpReadServerOpenToOtherHostsWithoutASecret() {
    var e =
        assertThrows(
            IllegalStateException.class,
            () ->
                LocalCluster.withNodes(1)
                    .startTimeout(Duration.ofSeconds(20))
                    .config("pekko.dsm.tcp.bind-host = \"0.0.0.0\"")
                    .start());
    assertTrue(e.getMessage().contains("pekko.dsm.tcp.secret"), e.getMessage());
  }
}
