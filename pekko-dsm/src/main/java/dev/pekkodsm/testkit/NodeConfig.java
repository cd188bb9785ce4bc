package dev.pekkodsm.testkit;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigParseOptions;
import com.typesafe.config.ConfigValueFactory;
import dev.pekkodsm.internal.DsmSettings;
import dev.pekkodsm.serialization.ClassRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * The configuration of one pekko-dsm node, built in one place for {@link LocalCluster}, {@link
 * ProcessCluster}, {@code ./dsm node} and {@code ./dsm tour}, so that they cannot drift apart.
 *
 * <pre>{@code
 * Config config = NodeConfig.builder()
 *     .configFile(Path.of("conf/multi-jvm.conf"))
 *     .port(25521)
 *     .seeds(List.of("127.0.0.1:25521"))
 *     .failover(NodeConfig.Failover.FAST)
 *     .build();
 * }</pre>
 *
 * <p>Layers, each over the ones after it: the Artery host, port and seed nodes; HOCON given with
 * {@link Builder#config} (later calls over earlier ones); the config files (later over earlier);
 * the failover preset; the cluster basics every pekko-dsm node shares ({@link #BASICS}: the cluster
 * provider, Artery TCP on 127.0.0.1 unless told otherwise, the Split Brain Resolver, which members
 * compare when a node joins); and last the fallback, {@code ConfigFactory.load()} by default.
 *
 * <p>{@link Builder#build()} checks what a user can get wrong before anything starts, with messages
 * that name the value: a missing or unparsable file, a port out of range, a seed that is not {@code
 * HOST:PORT}, an illegal system name, and every {@code pekko.dsm} setting.
 */
public final class NodeConfig {

  private NodeConfig() {}

  /** A builder with no file, no preset and no overrides. */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * What every pekko-dsm node runs with unless a layer above says otherwise. Members refuse a
   * joining node whose downing provider differs, so the Split Brain Resolver is here for all.
   */
  public static final String BASICS =
      String.join(
          "\n",
          "pekko.actor.provider = cluster",
          "pekko.remote.artery.transport = tcp",
          "pekko.remote.artery.canonical.hostname = \"127.0.0.1\"",
          "pekko.cluster.downing-provider-class = "
              + "\"org.apache.pekko.cluster.sbr.SplitBrainResolverProvider\"",
          "pekko.cluster.split-brain-resolver.active-strategy = keep-majority");

  /**
   * Cluster Sharding re-homes a removed member's shard, and its coordinator moves off a removed
   * member, 200 ms after the removal instead of after the downing provider's removal margin (with
   * the split brain resolver, its stable-after: seconds). Until then a removed node's objects wait,
   * although its backup promoted them at the removal.
   *
   * <p>The margin lets a removed member stop what it ran before the survivors start it again.
   * pekko-dsm does not need it: the backup promotes at the removal whatever the margin, every
   * member quarantines the removed one at the removal, reads of its memory are fenced by the
   * census, and its backup refuses its changes. An application that runs persistent sharded
   * entities or singletons of its own in the same actor system may want the margin back. Positive,
   * because 0 means "the downing provider's".
   */
  public static final String PROMPT_REHOMING = "pekko.cluster.down-removal-margin = 200ms";

  /**
   * Settings that keep the logs of test and tool nodes to what matters: no cluster JMX beans, no
   * INFO chatter from the cluster, no dead-letter logging.
   */
  static final String QUIET =
      String.join(
          "\n",
          "pekko.cluster.jmx.enabled = off",
          "pekko.cluster.log-info = off",
          "pekko.loglevel = WARNING",
          "pekko.log-dead-letters = off",
          "pekko.log-dead-letters-during-shutdown = off");

  /**
   * How fast a crashed member is noticed and removed. A member is marked unreachable about {@code
   * acceptableHeartbeatPause} after its last heartbeat (heartbeats every {@code
   * heartbeatInterval}); the Split Brain Resolver downs the unreachable side once membership has
   * been stable for {@code stableAfter}; the DSM then fails what waited on it. The shorter these
   * are, the sooner work fails over, and the more likely a node that only paused (a long GC, a
   * starved CPU, a slow network) is downed; a downed node must restart, and pekko-dsm keeps no
   * replicas, so the objects it held are lost. {@code conf/fast-failover.conf} is {@link #FAST}
   * written out with this trade-off.
   *
   * @param heartbeatInterval how often members send heartbeats to the members they watch
   * @param acceptableHeartbeatPause how long a silence is tolerated before a member is unreachable
   * @param stableAfter how long membership must stay unchanged before the resolver decides
   */
  public record Failover(
      Duration heartbeatInterval, Duration acceptableHeartbeatPause, Duration stableAfter) {

    /**
     * A crashed member is removed about four seconds after it stops (one second of silence, two of
     * stable membership, gossip), instead of Pekko's defaults of heartbeats every second, a three
     * second pause and twenty seconds of stability. Suits nodes on one host or a quiet LAN whose
     * pauses stay well under a second.
     */
    public static final Failover FAST =
        new Failover(Duration.ofMillis(200), Duration.ofSeconds(1), Duration.ofSeconds(2));

    /** Checks the values. */
    public Failover {
      positive("heartbeatInterval", heartbeatInterval);
      positive("acceptableHeartbeatPause", acceptableHeartbeatPause);
      positive("stableAfter", stableAfter);
    }

    /**
     * The failure detection and downing {@code config} (a node's resolved configuration) runs with:
     * {@code pekko.cluster.failure-detector.heartbeat-interval}, {@code
     * ...acceptable-heartbeat-pause} and {@code pekko.cluster.split-brain-resolver.stable-after}.
     *
     * @throws IllegalArgumentException if a value is missing or not a positive duration
     */
    public static Failover from(Config config) {
      try {
        return new Failover(
            config.getDuration("pekko.cluster.failure-detector.heartbeat-interval"),
            config.getDuration("pekko.cluster.failure-detector.acceptable-heartbeat-pause"),
            config.getDuration("pekko.cluster.split-brain-resolver.stable-after"));
      } catch (ConfigException e) {
        throw new IllegalArgumentException(e.getMessage(), e);
      }
    }

    /**
     * How long after a member stops it is downed at the latest, as far as these settings go: the
     * tolerated pause, a heartbeat interval for the detector to notice, and the resolver's
     * stable-after. Gossip and the removal add to it; a pause meant to get a member downed must be
     * well past it.
     */
    public Duration downedAfter() {
      return acceptableHeartbeatPause.plus(heartbeatInterval).plus(stableAfter);
    }

    /** A copy with another acceptable heartbeat pause. */
    public Failover withAcceptableHeartbeatPause(Duration pause) {
      return new Failover(heartbeatInterval, pause, stableAfter);
    }

    /** A copy with another stable-after. */
    public Failover withStableAfter(Duration stable) {
      return new Failover(heartbeatInterval, acceptableHeartbeatPause, stable);
    }

    /**
     * The settings under {@code pekko.cluster}: the failure detector, the resolver's stable-after,
     * and gossip, leader actions, the unreachable reaper and sharding's retries at the pace of the
     * heartbeats, so that a decision is acted on as soon as it is taken.
     */
    public Config toConfig() {
      String pace = millis(heartbeatInterval);
      return ConfigFactory.parseString(
          String.join(
              "\n",
              "pekko.cluster.gossip-interval = " + pace,
              "pekko.cluster.leader-actions-interval = " + pace,
              "pekko.cluster.unreachable-nodes-reaper-interval = " + pace,
              "pekko.cluster.failure-detector.heartbeat-interval = " + pace,
              "pekko.cluster.failure-detector.acceptable-heartbeat-pause = "
                  + millis(acceptableHeartbeatPause),
              "pekko.cluster.failure-detector.expected-response-after = " + pace,
              "pekko.cluster.split-brain-resolver.stable-after = " + millis(stableAfter),
              "pekko.cluster.sharding.retry-interval = " + pace));
    }

    private static String millis(Duration d) {
      return d.toMillis() + "ms";
    }

    private static void positive(String name, Duration d) {
      Objects.requireNonNull(d, name);
      if (d.isNegative() || d.isZero()) {
        throw new IllegalArgumentException(name + "=" + d + " must be positive");
      }
    }
  }

  /** Builds a node's {@link Config}. Not thread-safe. */
  public static final class Builder {
    private static final Pattern SYSTEM_NAME = Pattern.compile("[a-zA-Z0-9][a-zA-Z0-9_-]*");

    private String name = "pekko-dsm";
    private final List<Path> files = new ArrayList<>();
    private Config extra = ConfigFactory.empty();
    private Failover failover;
    private String host;
    private Integer port;
    private final List<String> seeds = new ArrayList<>();
    private Config fallback;
    private boolean checkDsm = true;

    private Builder() {}

    /** The actor system name; seed nodes are addressed with it (default {@code pekko-dsm}). */
    public Builder name(String systemName) {
      this.name = Objects.requireNonNull(systemName, "systemName");
      return this;
    }

    /** A HOCON file layered over the earlier ones and the preset. */
    public Builder configFile(Path file) {
      files.add(Objects.requireNonNull(file, "file"));
      return this;
    }

    /** HOCON files, each over the ones before it. */
    public Builder configFiles(List<Path> more) {
      more.forEach(this::configFile);
      return this;
    }

    /** Extra HOCON over the files; later calls take precedence. */
    public Builder config(String hocon) {
      return config(ConfigFactory.parseString(hocon));
    }

    /** Extra configuration over the files; later calls take precedence. */
    public Builder config(Config more) {
      extra = more.withFallback(extra);
      return this;
    }

    /** Settings that keep test and tool nodes' logs to what matters (see {@link #QUIET}). */
    public Builder quiet() {
      return config(QUIET);
    }

    /** The failover preset, under the files (null for Pekko's defaults). */
    public Builder failover(Failover preset) {
      this.failover = preset;
      return this;
    }

    /** The address Artery binds and advertises (null to leave it to the layers below). */
    public Builder host(String artery) {
      this.host = artery;
      return this;
    }

    /** Artery's port, 0 for any free one (null to leave it to the layers below). */
    public Builder port(Integer artery) {
      this.port = artery;
      return this;
    }

    /** Seed nodes as {@code HOST:PORT} of this system name; none leaves the layers' seeds. */
    public Builder seeds(List<String> hostPorts) {
      seeds.clear();
      seeds.addAll(hostPorts);
      return this;
    }

    /** What lies under everything (default {@code ConfigFactory.load()}). */
    public Builder fallback(Config under) {
      this.fallback = Objects.requireNonNull(under, "under");
      return this;
    }

    /**
     * Leaves the {@code pekko.dsm} settings unchecked by {@link #build()}, for callers that add
     * classes the settings name (a {@code DsmSetup}) only when the node starts.
     */
    public Builder skipDsmCheck() {
      this.checkDsm = false;
      return this;
    }

    /**
     * Every layer but the fallback, unresolved: what a launcher writes into a node's config file.
     *
     * @throws IllegalArgumentException if a value is wrong, naming it
     */
    public Config overlay() {
      if (!SYSTEM_NAME.matcher(name).matches()) {
        throw new IllegalArgumentException(
            "system name '"
                + name
                + "' may contain only letters, digits, '-' and '_', and must start with a letter"
                + " or digit");
      }
      Config layered = ConfigFactory.parseString(BASICS);
      if (failover != null) {
        layered = failover.toConfig().withFallback(layered);
      }
      for (Path file : files) {
        layered = parse(file).withFallback(layered);
      }
      layered = extra.withFallback(layered);
      Config overrides = ConfigFactory.empty();
      if (host != null) {
        if (host.isBlank()) {
          throw new IllegalArgumentException("host is empty; give a name or an address");
        }
        overrides =
            overrides.withValue(
                "pekko.remote.artery.canonical.hostname", ConfigValueFactory.fromAnyRef(host));
      }
      if (port != null) {
        overrides =
            overrides.withValue(
                "pekko.remote.artery.canonical.port",
                ConfigValueFactory.fromAnyRef(NodeConfig.checkPort(port, "port")));
      }
      if (!seeds.isEmpty()) {
        List<String> addresses = new ArrayList<>();
        for (String seed : seeds) {
          addresses.add("pekko://" + name + "@" + checkHostPort(seed));
        }
        overrides =
            overrides.withValue(
                "pekko.cluster.seed-nodes", ConfigValueFactory.fromIterable(addresses));
      }
      return overrides.withFallback(layered);
    }

    /**
     * The node's configuration, resolved.
     *
     * @throws IllegalArgumentException if a value is wrong (a missing or unparsable file, a port
     *     out of range, a seed that is not {@code HOST:PORT}, an illegal system name, a bad {@code
     *     pekko.dsm} setting), with a message that names it
     */
    public Config build() {
      Config base = fallback != null ? fallback : ConfigFactory.load();
      Config config;
      try {
        config = overlay().withFallback(base).resolve();
      } catch (ConfigException e) {
        throw new IllegalArgumentException(e.getMessage(), e);
      }
      checkConfiguredPort(config, "pekko.remote.artery.canonical.port");
      if (checkDsm) {
        try {
          DsmSettings.from(config, ClassRegistry.empty(), NodeConfig.class.getClassLoader());
        } catch (ConfigException e) {
          throw new IllegalArgumentException(e.getMessage(), e);
        }
      }
      return config;
    }

    private static Config parse(Path file) {
      if (!Files.isRegularFile(file)) {
        throw new IllegalArgumentException("no such config file: " + file.toAbsolutePath());
      }
      try {
        return ConfigFactory.parseFile(
            file.toFile(), ConfigParseOptions.defaults().setAllowMissing(false));
      } catch (ConfigException e) {
        throw new IllegalArgumentException(
            "cannot read config file " + file + ": " + e.getMessage(), e);
      }
    }

    private static void checkConfiguredPort(Config config, String path) {
      if (config.hasPath(path)) {
        try {
          NodeConfig.checkPort(config.getInt(path), path);
        } catch (ConfigException e) {
          throw new IllegalArgumentException(e.getMessage(), e);
        }
      }
    }
  }

  /**
   * Returns {@code port} if it is a TCP port or 0.
   *
   * @throws IllegalArgumentException naming {@code what} otherwise
   */
  public static int checkPort(int port, String what) {
    if (port < 0 || port > 65535) {
      throw new IllegalArgumentException(
          what + " " + port + " is not a port: use 1 to 65535, or 0 for any free one");
    }
    return port;
  }

  /**
   * Returns {@code hostPort} if it is {@code HOST:PORT} with a port of 1 to 65535.
   *
   * @throws IllegalArgumentException saying what is wrong otherwise
   */
  public static String checkHostPort(String hostPort) {
    int colon = hostPort.lastIndexOf(':');
    String example = " (e.g. 127.0.0.1:25521)";
    if (colon <= 0 || colon == hostPort.length() - 1) {
      throw new IllegalArgumentException("'" + hostPort + "' is not HOST:PORT" + example);
    }
    int port;
    try {
      port = Integer.parseInt(hostPort.substring(colon + 1));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(
          "'" + hostPort + "' is not HOST:PORT: the port is not a number" + example, e);
    }
    if (port < 1 || port > 65535) {
      throw new IllegalArgumentException(
          "'" + hostPort + "' is not HOST:PORT: the port must be 1 to 65535" + example);
    }
    return hostPort;
  }
}
