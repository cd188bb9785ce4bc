package dev.pekkodsm.internal;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigValue;
import dev.pekkodsm.memory.ArenaSettings;
import dev.pekkodsm.memory.SyncRegion;
import dev.pekkodsm.memory.TcpSettings;
import dev.pekkodsm.serialization.ClassRegistry;
import dev.pekkodsm.serialization.SerializationSettings;
import dev.pekkodsm.serialization.internal.SnapshotCodec;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;

/**
 * The {@code pekko.dsm} configuration, read and validated once per node. Every error names the key
 * and the value.
 */
public final class DsmSettings {

  /** The one-sided read transports this build can use. */
  public enum Transport {
    AUTO,
    SHM,
    TCP,
    RDMA
  }

  public final Duration askTimeout;
  public final Duration borrowTimeout;
  public final Transport transport;
  public final ArenaSettings arena;
  public final TcpSettings tcp;
  public final String tcpPublicHost;
  public final String rdmaBindHost;
  public final int rdmaPort;
  public final Duration rdmaConnectTimeout;
  public final boolean rdmaCpuCoherentAtomics;
  public final long readCacheBytes;
  public final SerializationSettings serialization;
  public final ClassRegistry registry;
  public final long tombstoneEntries;
  public final Duration tombstoneTtl;
  public final Duration passivateAfter;
  public final int moveInlineBytes;
  public final boolean detectSharedMutation;
  public final int taskThreads;
  public final int taskMaxThreads;
  public final int taskQueueLimit;
  public final Duration taskTimeout;
  public final int syncCells;
  public final boolean jmxEnabled;
  public final int replicationFactor;
  public final Duration replicationAckTimeout;
  public final Duration replicationResendAfter;

  /** True: the replication stream goes over the backup's tcp read server; false: over Artery. */
  public final boolean replicationOverTcp;

  /** Writers over shm write a replicated home's backup themselves (replication.direct-commits). */
  public final boolean replicationDirectCommits;

  private DsmSettings(Config root, ClassRegistry extra, ClassLoader loader) {
    Config c = root.getConfig("pekko.dsm");
    this.askTimeout = positive(c, "ask-timeout");
    this.borrowTimeout = positive(c, "borrow-timeout");
    String t = c.getString("transport").toUpperCase(Locale.ROOT);
    try {
      this.transport = Transport.valueOf(t);
    } catch (IllegalArgumentException e) {
      throw new ConfigException.BadValue(
          c.origin(),
          "pekko.dsm.transport",
          "transport=" + c.getString("transport") + " is not one of auto, shm, tcp, rdma");
    }
    Config s = c.getConfig("serialization");
    long maxSnapshot = s.getBytes("max-snapshot-size");
    if (maxSnapshot > SerializationSettings.MAX_SNAPSHOT_BYTES_LIMIT) {
      throw new ConfigException.BadValue(
          s.origin(),
          "pekko.dsm.serialization.max-snapshot-size",
          "max-snapshot-size="
              + maxSnapshot
              + " exceeds "
              + SerializationSettings.MAX_SNAPSHOT_BYTES_LIMIT);
    }
    this.serialization =
        new SerializationSettings(
            (int) maxSnapshot,
            s.getInt("max-depth"),
            s.getBoolean("references"),
            s.getInt("pool-size"));
    this.registry = registry(s.getConfig("classes"), extra, loader);

    Config a = c.getConfig("arena");
    String dir = a.getString("directory");
    Path directory = dir.isEmpty() ? defaultArenaDirectory() : Path.of(dir);
    long segment = a.getBytes("segment-size");
    if (segment > Integer.MAX_VALUE) {
      throw new ConfigException.BadValue(
          a.origin(), "pekko.dsm.arena.segment-size", "segment-size=" + segment + " exceeds 1 GiB");
    }
    try {
      this.arena =
          new ArenaSettings(
              directory,
              (int) segment,
              a.getInt("max-segments"),
              serialization.maxSnapshotBytes() + SnapshotCodec.HEADER_BYTES,
              a.getBoolean("clean-stale"));
    } catch (IllegalArgumentException e) {
      throw new ConfigException.BadValue(a.origin(), "pekko.dsm.arena", e.getMessage());
    }
    Config tc = c.getConfig("tcp");
    try {
      this.tcp =
          new TcpSettings(
              tc.getString("bind-host"),
              tc.getInt("port"),
              tc.getInt("server-threads"),
              tc.getInt("max-connections"),
              tc.getInt("connections-per-peer"),
              tc.getDuration("connect-timeout"),
              tc.getDuration("handshake-timeout"),
              tc.getDuration("write-stall-timeout"),
              tc.getString("secret"),
              tc.getDuration("idle-timeout"),
              tc.getInt("max-connections-per-address"),
              tc.getBoolean("allow-without-secret"));
    } catch (IllegalArgumentException e) {
      throw new ConfigException.BadValue(tc.origin(), "pekko.dsm.tcp", e.getMessage());
    }
    this.tcpPublicHost = tc.getString("public-host");
    Config rc = c.getConfig("rdma");
    this.rdmaBindHost = rc.getString("bind-host");
    this.rdmaPort = rc.getInt("port");
    if (rdmaPort < 0 || rdmaPort > 65535) {
      throw new ConfigException.BadValue(
          rc.origin(), "pekko.dsm.rdma.port", "port=" + rdmaPort + " must be in [0, 65535]");
    }
    this.rdmaConnectTimeout = positive(c, "rdma.connect-timeout");
    this.rdmaCpuCoherentAtomics = rc.getBoolean("cpu-coherent-atomics");
    this.readCacheBytes = c.getBytes("read-cache.max-unpinned-size");
    this.tombstoneEntries = c.getLong("tombstones.max-entries");
    this.tombstoneTtl = positive(c, "tombstones.ttl");
    this.passivateAfter = positive(c, "entity.passivate-after");
    long inline = c.getBytes("move.inline-limit");
    if (inline < 0 || inline > 8 * 1024 * 1024) {
      throw new ConfigException.BadValue(
          c.origin(),
          "pekko.dsm.move.inline-limit",
          "inline-limit=" + inline + " must be in [0, 8 MiB]");
    }
    this.moveInlineBytes = (int) inline;
    this.detectSharedMutation = c.getBoolean("debug.detect-shared-mutation");
    this.taskThreads = atLeastOne(c, "tasks.threads");
    this.taskMaxThreads = atLeastOne(c, "tasks.max-threads");
    this.taskQueueLimit = atLeastOne(c, "tasks.queue-limit");
    this.taskTimeout = positive(c, "tasks.timeout");
    int cells = c.getInt("sync.max-cells");
    if (cells < 1 || cells > SyncRegion.maxCells()) {
      throw new ConfigException.BadValue(
          c.origin(),
          "pekko.dsm.sync.max-cells",
          "max-cells=" + cells + " must be in [1, " + SyncRegion.maxCells() + "]");
    }
    this.syncCells = cells;
    this.jmxEnabled = c.getBoolean("jmx.enabled");
    int factor = c.getInt("replication.factor");
    if (factor < 0 || factor > 1) {
      throw new ConfigException.BadValue(
          c.origin(),
          "pekko.dsm.replication.factor",
          "factor=" + factor + " must be 0 (no backup) or 1 (one backup of each node)");
    }
    this.replicationFactor = factor;
    this.replicationAckTimeout = positive(c, "replication.ack-timeout");
    this.replicationResendAfter = positive(c, "replication.resend-after");
    String channel = c.getString("replication.channel");
    if (!channel.equals("tcp") && !channel.equals("artery")) {
      throw new ConfigException.BadValue(
          c.origin(),
          "pekko.dsm.replication.channel",
          "channel=" + channel + " is not one of tcp, artery");
    }
    this.replicationOverTcp = channel.equals("tcp");
    this.replicationDirectCommits = c.getBoolean("replication.direct-commits");
  }

  /**
   * Reads the settings from a system's configuration, with user classes from configuration and from
   * a {@code DsmSetup}.
   */
  public static DsmSettings from(Config root, ClassRegistry extra, ClassLoader loader) {
    return new DsmSettings(root, extra, loader);
  }

  private static Duration positive(Config c, String key) {
    Duration d = c.getDuration(key);
    if (d.isNegative() || d.isZero()) {
      throw new ConfigException.BadValue(
          c.origin(), "pekko.dsm." + key, key + "=" + d + " must be positive");
    }
    return d;
  }

  private static int atLeastOne(Config c, String key) {
    int n = c.getInt(key);
    if (n < 1) {
      throw new ConfigException.BadValue(
          c.origin(), "pekko.dsm." + key, key + "=" + n + " must be at least 1");
    }
    return n;
  }

  private static ClassRegistry registry(Config classes, ClassRegistry extra, ClassLoader loader) {
    ClassRegistry.Builder b = ClassRegistry.builder().registerAll(extra);
    for (Map.Entry<String, ConfigValue> e : classes.root().entrySet()) {
      String name = e.getKey();
      Object raw = e.getValue().unwrapped();
      if (!(raw instanceof Number n)) {
        throw new ConfigException.BadValue(
            e.getValue().origin(),
            "pekko.dsm.serialization.classes",
            "\"" + name + "\" = " + raw + " must be an id");
      }
      Class<?> type;
      try {
        type = Class.forName(name, false, loader);
      } catch (ClassNotFoundException ex) {
        throw new ConfigException.BadValue(
            e.getValue().origin(),
            "pekko.dsm.serialization.classes",
            "class " + name + " not found",
            ex);
      }
      try {
        b.register(type, n.intValue());
      } catch (IllegalArgumentException ex) {
        throw new ConfigException.BadValue(
            e.getValue().origin(), "pekko.dsm.serialization.classes", ex.getMessage(), ex);
      }
    }
    return b.build();
  }

  private static Path defaultArenaDirectory() {
    Path shm = Path.of("/dev/shm");
    return Files.isDirectory(shm) && Files.isWritable(shm)
        ? shm
        : Path.of(System.getProperty("java.io.tmpdir"));
  }

  /**
   * How long a blocking call waits for its future: more than the sum of the deadlines inside it (a
   * local borrow wait, a borrow wait at the home, a request, a retry, an endpoint fetch).
   */
  public Duration blockingBudget() {
    return borrowTimeout.multipliedBy(2).plus(askTimeout.multipliedBy(3)).plusSeconds(1);
  }
}
