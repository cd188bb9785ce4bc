package dev.pekkodsm.samples.kv;

import com.hazelcast.cluster.Address;
import com.hazelcast.config.Config;
import com.hazelcast.config.EvictionConfig;
import com.hazelcast.config.EvictionPolicy;
import com.hazelcast.config.InMemoryFormat;
import com.hazelcast.config.JoinConfig;
import com.hazelcast.config.MapConfig;
import com.hazelcast.config.MaxSizePolicy;
import com.hazelcast.config.NearCacheConfig;
import com.hazelcast.config.NetworkConfig;
import com.hazelcast.core.Hazelcast;
import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.instance.EndpointQualifier;
import com.hazelcast.instance.impl.HazelcastInstanceProxy;
import com.hazelcast.internal.networking.nio.NioChannel;
import com.hazelcast.internal.networking.nio.NioOutboundPipeline;
import com.hazelcast.internal.server.ServerConnection;
import com.hazelcast.internal.server.ServerConnectionManager;
import com.hazelcast.internal.server.tcp.TcpServerConnection;
import com.hazelcast.internal.util.counters.SwCounter;
import com.hazelcast.map.IMap;
import com.hazelcast.spi.properties.ClusterProperty;
import java.lang.reflect.Field;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * Hazelcast {@code IMap} as the invalidation-based peer of the KV comparison (DESIGN §8): {@code N}
 * embedded members in this JVM, one per node, forming one cluster; node {@code i}'s client uses
 * member {@code i}'s {@code IMap<Long, byte[]>} named {@value #MAP_NAME}. Three variants:
 *
 * <ul>
 *   <li>{@value #NAME} ({@link #factory()}): the plain map. A {@code get} of a key another member
 *       owns is a remote call; every {@code get} deserializes, so it returns a fresh array.
 *   <li>{@value #NO_BACKUP_NAME} ({@link #noBackupFactory()}): the plain map with {@code
 *       backup-count} 0, so each entry lives on one member only, as each of pekko-dsm's objects
 *       does while it has no replication; a {@code set} waits for no backup.
 *   <li>{@value #NEAR_CACHE_NAME} ({@link #nearCacheFactory()}): the plain map with a member-side
 *       near cache, set up as Hazelcast's Near Cache page recommends for a read-mostly {@code IMap}
 *       on members ("Near Cache example for IMap": map {@code BINARY}, near cache {@code OBJECT},
 *       {@code cache-local-entries} true). {@code invalidate-on-change} is true, so a write
 *       invalidates the other members' copies; there is no time-to-live or max-idle expiry, which
 *       would hide staleness and add misses; the entry-count limit is {@link KvSpec#keys()}, so the
 *       whole key set fits and nothing is evicted. In-memory format {@code OBJECT}: a hit returns
 *       the cached {@code byte[]} itself instead of deserializing a copy, which is what the docs
 *       list as the near cache's benefit ("avoids the network and deserialization costs"); the
 *       returned array is therefore shared by every reader on that node and must not be modified.
 *       {@code cache-local-entries} true: without it a member never caches the keys it owns itself
 *       and reads them from its {@code BINARY} record store, deserializing each time; the docs
 *       describe the option as useful exactly when the near cache's format differs from the map's.
 * </ul>
 *
 * <p>Coherence of the near cache is Hazelcast's, unchanged: the writing member drops its own copy
 * before {@code set} returns; the other members are told asynchronously, with Hazelcast's default
 * invalidation batching ({@code hazelcast.map.invalidation.batch.enabled} true, batch size 100,
 * flushed at the latest every 10 s), which the docs advise when there are many mutating operations,
 * as in a 10 % SET workload. Under load a batch fills within milliseconds; a lone write can stay
 * invisible to other members' near caches for up to 10 s. Misses are cached too: a member that read
 * a key while it was absent goes on reading {@code null} until the invalidation of the write
 * arrives. Reads from the near cache are therefore only eventually consistent, unlike the DSM's.
 *
 * <p>Cluster layout, as the docs recommend for embedded members: the default 271 partitions ({@link
 * KvSpec#buckets()} is not used; Hazelcast places keys itself), one synchronous backup ({@code
 * backup-count} 1, the default, so a {@code set} waits for the backup's acknowledgement) except in
 * {@value #NO_BACKUP_NAME}, no asynchronous backups, map in-memory format {@code BINARY} (the
 * default). The members join over TCP/IP on 127.0.0.1 only: each member binds an ephemeral port
 * chosen by the OS (port 0, auto-increment off) on the loopback interface ({@code
 * hazelcast.socket.bind.any} false) and is given the addresses of the members started before it;
 * multicast and auto-detection are off, as are phone-home and the shutdown hook. The cluster name
 * is unique per run, so parallel runs never merge. Hazelcast logs through SLF4J, so the
 * application's logback configuration decides what is shown.
 *
 * <p>Deadlines: {@link KvSystem.Factory#start} waits at most {@link #STARTUP_TIMEOUT} until every
 * member sees all {@code N} members and no partition is migrating. Map calls are blocking calls
 * bounded by Hazelcast's invocation properties: {@code hazelcast.operation.call.timeout.millis} is
 * {@value #CALL_TIMEOUT_MILLIS} (default 60 000), and a remote call that gets neither a response
 * nor an operation heartbeat fails with {@code OperationTimeoutException} after that timeout plus
 * the heartbeat timeout, which Hazelcast derives from the same value, so after about 20 s; {@code
 * hazelcast.invocation.max.retry.count} is {@value #MAX_RETRY_COUNT} (default 250, 500 ms apart),
 * so a call retried because of a migration or a member that left gives up after a few seconds
 * instead of two minutes. A call that runs locally on the key's owner and has no backup (a {@code
 * get} on the owner) never waits on the network.
 *
 * <p>{@link #messagesSent()} counts the frames (one per Hazelcast packet) the members' outbound I/O
 * threads have written, read from those threads' own counters at the call.
 *
 * <p>Thread-safety: the clients are thread-safe, as {@code IMap} is; {@link #close()} must not run
 * concurrently with client calls.
 */
public final class HazelcastKv implements KvSystem {

  /** Name of the plain variant. */
  public static final String NAME = "hazelcast";

  /** Name of the plain variant without backups. */
  public static final String NO_BACKUP_NAME = "hazelcast-nobackup";

  /** Name of the near-cache variant. */
  public static final String NEAR_CACHE_NAME = "hazelcast-nearcache";

  /**
   * What Hazelcast asks of the JVM for its best performance; the samples jar's manifest gives these
   * to {@code java -jar}, and the harnesses add them to the JVMs they fork.
   */
  public static final List<String> JVM_FLAGS =
      List.of(
          "--add-exports=java.base/jdk.internal.ref=ALL-UNNAMED",
          "--add-opens=java.base/java.lang=ALL-UNNAMED",
          "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED",
          "--add-opens=java.management/sun.management=ALL-UNNAMED",
          "--add-opens=jdk.management/com.sun.management.internal=ALL-UNNAMED");

  /** Name of the map holding the key-value pairs. */
  public static final String MAP_NAME = "kv";

  /** How long {@link KvSystem.Factory#start} waits for the cluster to form. */
  public static final Duration STARTUP_TIMEOUT = Duration.ofSeconds(90);

  /**
   * {@code hazelcast.operation.call.timeout.millis} of every member (Hazelcast's default: 60 s).
   */
  public static final long CALL_TIMEOUT_MILLIS = 10_000;

  /** {@code hazelcast.invocation.max.retry.count} of every member (Hazelcast's default: 250). */
  public static final int MAX_RETRY_COUNT = 10;

  private static final long POLL_NS = TimeUnit.MILLISECONDS.toNanos(10);

  private final String clusterName;
  private final List<HazelcastInstance> members;
  private final List<KvClient> clients;

  private HazelcastKv(String clusterName, List<HazelcastInstance> members) {
    this.clusterName = clusterName;
    this.members = List.copyOf(members);
    List<KvClient> clients = new ArrayList<>(members.size());
    for (HazelcastInstance member : members) {
      clients.add(new MapClient(member.getMap(MAP_NAME)));
    }
    this.clients = List.copyOf(clients);
  }

  /** Starts the {@value #NAME} variant: a plain {@code IMap}, one synchronous backup. */
  public static KvSystem.Factory factory() {
    return (nodes, spec, ignored) -> start(nodes, spec, false, MapConfig.DEFAULT_BACKUP_COUNT);
  }

  /** Starts the {@value #NO_BACKUP_NAME} variant: a plain {@code IMap}, no backup. */
  public static KvSystem.Factory noBackupFactory() {
    return (nodes, spec, ignored) -> start(nodes, spec, false, 0);
  }

  /**
   * Starts the {@value #NEAR_CACHE_NAME} variant: the {@code IMap} with a near cache per member,
   * one synchronous backup.
   */
  public static KvSystem.Factory nearCacheFactory() {
    return (nodes, spec, ignored) -> start(nodes, spec, true, MapConfig.DEFAULT_BACKUP_COUNT);
  }

  /**
   * Starts {@code nodes} members whose map keeps {@code backupCount} synchronous backups, waits
   * until they form one cluster and returns the system.
   *
   * @throws IllegalArgumentException if {@code nodes <= 0} or {@code backupCount} is outside 0..6
   * @throws IllegalStateException if the cluster does not form within {@link #STARTUP_TIMEOUT}; the
   *     members started so far are terminated first
   */
  static HazelcastKv start(int nodes, KvSpec spec, boolean nearCache, int backupCount) {
    if (backupCount < 0 || backupCount > MapConfig.MAX_BACKUP_COUNT) {
      throw new IllegalArgumentException(
          "backupCount=" + backupCount + " must be within 0.." + MapConfig.MAX_BACKUP_COUNT);
    }
    Objects.requireNonNull(spec, "spec");
    String clusterName = "pekko-dsm-kv-" + UUID.randomUUID();
    List<HazelcastInstance> members =
        startMembers(
            clusterName,
            nodes,
            config -> {
              MapConfig map =
                  new MapConfig(MAP_NAME)
                      .setInMemoryFormat(InMemoryFormat.BINARY)
                      .setBackupCount(backupCount)
                      .setAsyncBackupCount(0);
              if (nearCache) {
                map.setNearCacheConfig(nearCacheConfig(spec));
              }
              config.addMapConfig(map);
            });
    return new HazelcastKv(clusterName, members);
  }

  /**
   * Starts {@code nodes} embedded members of cluster {@code clusterName} in this JVM, configured as
   * this class describes (loopback TCP/IP join, the deadlines, metrics over JMX, Jet off) and then
   * by {@code customize}, and waits until they form one cluster with settled partitions.
   *
   * @throws IllegalArgumentException if {@code nodes <= 0}
   * @throws IllegalStateException if the cluster does not form within {@link #STARTUP_TIMEOUT}; the
   *     members started so far are terminated first
   */
  public static List<HazelcastInstance> startMembers(
      String clusterName, int nodes, java.util.function.Consumer<Config> customize) {
    if (nodes <= 0) {
      throw new IllegalArgumentException("nodes=" + nodes + " must be > 0");
    }
    long deadlineNs = System.nanoTime() + STARTUP_TIMEOUT.toNanos();
    List<HazelcastInstance> members = new ArrayList<>(nodes);
    List<String> addresses = new ArrayList<>(nodes);
    try {
      for (int node = 0; node < nodes; node++) {
        Config config = config(clusterName, node, addresses);
        customize.accept(config);
        HazelcastInstance member = Hazelcast.newHazelcastInstance(config);
        members.add(member);
        Address address = member.getCluster().getLocalMember().getAddress();
        addresses.add(address.getHost() + ":" + address.getPort());
      }
      awaitCluster(clusterName, members, deadlineNs);
      return members;
    } catch (RuntimeException | Error e) {
      for (HazelcastInstance member : members) {
        member.getLifecycleService().terminate();
      }
      throw e;
    }
  }

  private static Config config(String clusterName, int node, List<String> seeds) {
    Config config = new Config();
    config.setClusterName(clusterName);
    config.setInstanceName(clusterName + "-" + node);
    config.setProperty(ClusterProperty.LOGGING_TYPE.getName(), "slf4j");
    config.setProperty(ClusterProperty.PHONE_HOME_ENABLED.getName(), "false");
    config.setProperty(ClusterProperty.SHUTDOWNHOOK_ENABLED.getName(), "false");
    config.setProperty(ClusterProperty.SOCKET_BIND_ANY.getName(), "false");
    config.setProperty(
        ClusterProperty.MAX_JOIN_SECONDS.getName(), Long.toString(STARTUP_TIMEOUT.toSeconds()));
    config.setProperty(
        ClusterProperty.OPERATION_CALL_TIMEOUT_MILLIS.getName(),
        Long.toString(CALL_TIMEOUT_MILLIS));
    config.setProperty(
        ClusterProperty.INVOCATION_MAX_RETRY_COUNT.getName(), Integer.toString(MAX_RETRY_COUNT));
    config.getJetConfig().setEnabled(false);

    NetworkConfig network = config.getNetworkConfig();
    network.setPort(0).setPortAutoIncrement(false);
    network.getInterfaces().setEnabled(true).addInterface("127.0.0.1");
    JoinConfig join = network.getJoin();
    join.getMulticastConfig().setEnabled(false);
    join.getAutoDetectionConfig().setEnabled(false);
    join.getTcpIpConfig().setEnabled(true).setMembers(new ArrayList<>(seeds));
    return config;
  }

  private static NearCacheConfig nearCacheConfig(KvSpec spec) {
    EvictionConfig eviction =
        new EvictionConfig()
            .setMaxSizePolicy(MaxSizePolicy.ENTRY_COUNT)
            .setEvictionPolicy(EvictionPolicy.LRU)
            .setSize(spec.keys());
    return new NearCacheConfig(MAP_NAME)
        .setInMemoryFormat(InMemoryFormat.OBJECT)
        .setInvalidateOnChange(true)
        .setCacheLocalEntries(true)
        .setTimeToLiveSeconds(0)
        .setMaxIdleSeconds(0)
        .setEvictionConfig(eviction);
  }

  /** Waits until every member sees all members and the partition table is settled. */
  private static void awaitCluster(
      String clusterName, List<HazelcastInstance> members, long deadlineNs) {
    int nodes = members.size();
    while (!allSee(members, nodes)) {
      if (System.nanoTime() - deadlineNs > 0) {
        throw new IllegalStateException(
            "Hazelcast cluster "
                + clusterName
                + " did not form within "
                + STARTUP_TIMEOUT
                + ": members see "
                + sizes(members)
                + " members, expected "
                + nodes);
      }
      LockSupport.parkNanos(POLL_NS);
    }
    // Assign the partitions now, so the first measured operations do not pay for it.
    members.get(0).getPartitionService().getPartition(0L).getOwner();
    while (!members.get(0).getPartitionService().isClusterSafe()) {
      if (System.nanoTime() - deadlineNs > 0) {
        throw new IllegalStateException(
            "Hazelcast cluster "
                + clusterName
                + " still migrating partitions after "
                + STARTUP_TIMEOUT);
      }
      LockSupport.parkNanos(POLL_NS);
    }
  }

  private static boolean allSee(List<HazelcastInstance> members, int nodes) {
    for (HazelcastInstance member : members) {
      if (member.getCluster().getMembers().size() != nodes) {
        return false;
      }
    }
    return true;
  }

  private static List<Integer> sizes(List<HazelcastInstance> members) {
    List<Integer> sizes = new ArrayList<>(members.size());
    for (HazelcastInstance member : members) {
      sizes.add(member.getCluster().getMembers().size());
    }
    return sizes;
  }

  @Override
  public int nodes() {
    return members.size();
  }

  @Override
  public KvClient client(int node) {
    return clients.get(node);
  }

  /** The member of {@code node}, for tests. */
  HazelcastInstance member(int node) {
    return members.get(node);
  }

  /** The synchronous backups the map keeps of every entry (the same on every member). */
  int backupCount() {
    return members.get(0).getConfig().getMapConfig(MAP_NAME).getBackupCount();
  }

  /** The cluster name, unique per run; member {@code i}'s instance name is this plus "-i". */
  String clusterName() {
    return clusterName;
  }

  /** Every GET of a key another member owns is a call over Hazelcast's loopback TCP. */
  @Override
  public String transport() {
    return "tcp";
  }

  /**
   * Frames written by all members so far: every Hazelcast packet is one frame, and with only
   * members in the cluster every frame goes from one member to another. This counts all
   * member-to-member traffic, including backups, responses, invalidation batches and heartbeats.
   *
   * <p>The counts are read at the call from each member connection's outbound pipeline (its {@code
   * normalFramesWritten} and {@code priorityFramesWritten} counters, the sources of Hazelcast's
   * {@code tcp.outputThread.framesTransceived} and {@code priorityFramesTransceived} metrics), so a
   * frame counts as soon as it is written, by the I/O thread or written through by the caller.
   * Hazelcast publishes these counts only through its metrics, which copy them to the I/O threads
   * when they are collected (every 5 s by default) and reach JMX later still; a count read from
   * there lags the traffic by seconds. The pipeline's counters are private fields, read here by
   * reflection.
   *
   * @return the count, or {@code -1} if a member has stopped, or if this Hazelcast version's
   *     pipeline has no such counters
   */
  @Override
  public long messagesSent() {
    return outbound(members, OutboundCounters.FRAMES);
  }

  /**
   * Bytes {@code members} have written to each other so far, read as {@link #messagesSent()} reads
   * frames: at the call, from each member connection's outbound pipeline ({@code bytesWritten}, the
   * source of the {@code tcp.outputThread.bytesTransceived} metric).
   *
   * @return the count, or {@code -1} if a member has stopped, or if this Hazelcast version's
   *     pipeline has no such counter
   */
  public static long bytesSent(List<HazelcastInstance> members) {
    return outbound(members, OutboundCounters.BYTES);
  }

  private static long outbound(List<HazelcastInstance> members, Field[] counters) {
    if (OutboundCounters.FAILURE != null) {
      return -1;
    }
    long sum = 0;
    for (HazelcastInstance member : members) {
      if (!member.getLifecycleService().isRunning()
          || !(member instanceof HazelcastInstanceProxy proxy)) {
        return -1;
      }
      ServerConnectionManager connections =
          proxy.getOriginal().node.getServer().getConnectionManager(EndpointQualifier.MEMBER);
      for (ServerConnection connection : connections.getConnections()) {
        if (connection instanceof TcpServerConnection tcp
            && tcp.getChannel() instanceof NioChannel channel) {
          sum += OutboundCounters.sum(channel.outboundPipeline(), counters);
        }
      }
    }
    return sum;
  }

  /** The private counters of Hazelcast's outbound pipeline, found once. */
  private static final class OutboundCounters {
    private static final Field[] FRAMES;
    private static final Field[] BYTES;

    /** Why the counters cannot be read (a field renamed or closed to reflection), or null. */
    private static final Exception FAILURE;

    static {
      Field[] frames = null;
      Field[] bytes = null;
      Exception failure = null;
      try {
        frames =
            new Field[] {
              NioOutboundPipeline.class.getDeclaredField("normalFramesWritten"),
              NioOutboundPipeline.class.getDeclaredField("priorityFramesWritten")
            };
        bytes = new Field[] {NioOutboundPipeline.class.getDeclaredField("bytesWritten")};
        for (Field field : frames) {
          field.setAccessible(true);
        }
        bytes[0].setAccessible(true);
      } catch (ReflectiveOperationException | RuntimeException e) {
        failure = e;
      }
      FRAMES = frames;
      BYTES = bytes;
      FAILURE = failure;
    }

    static long sum(NioOutboundPipeline pipeline, Field[] counters) {
      long sum = 0;
      try {
        for (Field counter : counters) {
          sum += ((SwCounter) counter.get(pipeline)).get();
        }
      } catch (IllegalAccessException e) {
        throw new IllegalStateException("Hazelcast's outbound counters cannot be read", e);
      }
      return sum;
    }
  }

  /**
   * Shuts the whole cluster down the way Hazelcast offers for it ({@code Cluster.shutdown()}: the
   * cluster goes passive, so no partitions migrate, then every member stops); members that are
   * still running afterwards, or all of them if that fails, are terminated. Returns when every
   * member of this system has stopped. Idempotent.
   */
  @Override
  public void close() {
    RuntimeException failure = null;
    HazelcastInstance first = members.get(0);
    if (first.getLifecycleService().isRunning()) {
      try {
        first.getCluster().shutdown();
      } catch (RuntimeException e) {
        failure = e;
      }
    }
    for (HazelcastInstance member : members) {
      if (member.getLifecycleService().isRunning()) {
        member.getLifecycleService().terminate();
      }
    }
    if (failure != null && anyRunning()) {
      throw new IllegalStateException(
          "Hazelcast cluster " + clusterName + " did not shut down", failure);
    }
  }

  private boolean anyRunning() {
    for (HazelcastInstance member : members) {
      if (member.getLifecycleService().isRunning()) {
        return true;
      }
    }
    return false;
  }

  /** One member's map: every call is a blocking {@code IMap} call with Hazelcast's deadlines. */
  private static final class MapClient implements KvClient {

    private final IMap<Long, byte[]> map;

    MapClient(IMap<Long, byte[]> map) {
      this.map = map;
    }

    @Override
    public byte[] get(long key) {
      return map.get(key);
    }

    @Override
    public void set(long key, byte[] value) {
      // set, not put: put would return (and ship) the old value.
      map.set(key, value);
    }

    @Override
    public boolean delete(long key) {
      // IMap.delete returns nothing; remove returns the old value, null when absent.
      return map.remove(key) != null;
    }
  }
}
