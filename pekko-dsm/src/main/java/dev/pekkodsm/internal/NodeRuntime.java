package dev.pekkodsm.internal;

import com.typesafe.config.Config;
import dev.pekkodsm.DsmSetup;
import dev.pekkodsm.coherence.NodeId;
import dev.pekkodsm.serialization.ClassRegistry;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.Address;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Extension;
import org.apache.pekko.actor.typed.ExtensionId;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.cluster.Cluster;
import org.apache.pekko.cluster.sharding.ShardRegion;
import org.apache.pekko.cluster.sharding.typed.ClusterShardingSettings;
import org.apache.pekko.cluster.sharding.typed.ShardingMessageExtractor;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.Entity;
import org.apache.pekko.pattern.Patterns;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A node's DSM runtime, as a Pekko extension: started on first use by the public {@code Dsm} or by
 * the DSM's serializer, whichever comes first. Builds the settings and the {@link DsmNode}, starts
 * the node actor and the owner entities' shard region with its one-shard-per-node allocation, and
 * stops them with the actor system.
 */
public final class NodeRuntime implements Extension {

  /** The extension id. */
  public static final class Id extends ExtensionId<NodeRuntime> {
    @Override
    public NodeRuntime createExtension(ActorSystem<?> system) {
      return start(system);
    }
  }

  private static final Id ID = new Id();

  /**
   * The handles' facades, reached by name so that the internals never depend on the API package
   * (the API depends on them).
   */
  private static final String FACADES = "dev.pekkodsm.HandleFacades";

  private static final Logger log = LoggerFactory.getLogger(NodeRuntime.class);
  private static final Duration READY_TIMEOUT = Duration.ofSeconds(60);

  private final DsmNode node;
  private final CompletableFuture<Void> ready = new CompletableFuture<>();

  private NodeRuntime(DsmNode node) {
    this.node = node;
  }

  /** The DSM runtime of {@code system}, started on first use. */
  public static NodeRuntime get(ActorSystem<?> system) {
    return ID.apply(system);
  }

  private static NodeRuntime start(ActorSystem<?> system) {
    org.apache.pekko.actor.ActorSystem classic = Adapter.toClassic(system);
    Cluster cluster = Cluster.get(classic);
    NodeId self = NodeId.of(cluster.selfUniqueAddress().longUid());
    ClassRegistry extra =
        classic
            .settings()
            .setup()
            .get(DsmSetup.class)
            .map(DsmSetup::registry)
            .orElse(ClassRegistry.empty());
    DsmSettings settings =
        DsmSettings.from(system.settings().config(), extra, system.dynamicAccess().classLoader());
    warnOfALongRemovalMargin(system.settings().config(), settings);
    DsmNode node = new DsmNode(system, settings, self, facades());
    NodeRuntime runtime = new NodeRuntime(node);
    classic.registerOnTermination(node::close);

    system.systemActorOf(NodeActor.create(node), PeerDirectory.NODE_ACTOR_NAME, Props.empty());
    ActorRef<Protocol.OwnerCommand> region =
        ClusterSharding.get(system)
            .init(
                Entity.of(OwnerEntity.TYPE_KEY, ctx -> OwnerEntity.create(node::homeFor, ctx))
                    .withMessageExtractor(new Extractor())
                    .withAllocationStrategy(
                        new HomeAllocationStrategy(cluster, settings.replicationFactor > 0))
                    .withSettings(
                        ClusterShardingSettings.create(system)
                            .withPassivationStrategy(
                                ClusterShardingSettings.create(system)
                                    .passivationStrategySettings()
                                    .withIdleEntityPassivation(settings.passivateAfter))));
    node.region(
        region,
        settings.replicationFactor > 0
            ? system
                .systemActorOf(
                    DepartedShardGate.create(
                        region,
                        cluster,
                        system
                            .settings()
                            .config()
                            .getDuration("pekko.cluster.sharding.retry-interval"),
                        settings.blockingBudget()),
                    "pekko-dsm-departed-shard-gate",
                    Props.empty())
                .narrow()
            : region);
    log.info(
        "pekko-dsm {} started: arena {}, transport {}",
        self,
        node.arena().folder(),
        settings.transport);
    runtime.awaitRegistration(
        classic, Adapter.toClassic(region), cluster, System.nanoTime() + READY_TIMEOUT.toNanos());
    return runtime;
  }

  /**
   * With a backup, a removed node's objects are served again once Cluster Sharding places its shard
   * at the backup, the removal margin after the removal; requests for them fail at their deadline
   * meanwhile. Pekko's default margin is the split brain resolver's stable-after, 20 s.
   */
  static void warnOfALongRemovalMargin(Config config, DsmSettings settings) {
    Duration margin = removalMargin(config);
    if (settings.replicationFactor > 0
        && margin != null
        && margin.compareTo(settings.askTimeout) > 0) {
      log.warn(
          "pekko.dsm.replication.factor = {}: a removed node's objects are served again only"
              + " Cluster Sharding's removal margin ({} ms) after its removal, longer than"
              + " pekko.dsm.ask-timeout ({} ms), so requests for them fail meanwhile. pekko-dsm"
              + " does not need the margin: set pekko.cluster.down-removal-margin short (200ms),"
              + " unless persistent entities or singletons of the application need it",
          settings.replicationFactor,
          margin.toMillis(),
          settings.askTimeout.toMillis());
    }
  }

  /** The removal margin sharding waits for, or null if it cannot be told from the settings. */
  static Duration removalMargin(Config config) {
    String key = "pekko.cluster.down-removal-margin";
    if (!"off".equalsIgnoreCase(config.getString(key))) {
      return config.getDuration(key);
    }
    String downing = config.getString("pekko.cluster.downing-provider-class");
    return downing.endsWith("SplitBrainResolverProvider")
        ? config.getDuration("pekko.cluster.split-brain-resolver.stable-after")
        : null;
  }

  private static Facades facades() {
    try {
      var constructor =
          Class.forName(FACADES, true, NodeRuntime.class.getClassLoader()).getDeclaredConstructor();
      constructor.setAccessible(true);
      return (Facades) constructor.newInstance();
    } catch (ReflectiveOperationException e) {
      throw new IllegalStateException("the pekko-dsm API classes are not on the class path", e);
    }
  }

  public DsmNode node() {
    return node;
  }

  /** Completes once the coordinator knows this node's region. */
  public CompletionStage<Void> ready() {
    return ready;
  }

  private void awaitRegistration(
      org.apache.pekko.actor.ActorSystem classic,
      org.apache.pekko.actor.ActorRef region,
      Cluster cluster,
      long deadlineNs) {
    Futures.plain(
            Patterns.ask(region, ShardRegion.getCurrentRegionsInstance(), Duration.ofSeconds(3)))
        .whenComplete(
            (reply, failure) -> {
              if (reply instanceof ShardRegion.CurrentRegions current) {
                Address self = cluster.selfAddress();
                if (current.getRegions().contains(self)) {
                  ready.complete(null);
                  return;
                }
              }
              if (System.nanoTime() - deadlineNs > 0) {
                ready.completeExceptionally(
                    new IllegalStateException(
                        "the DSM shard region of "
                            + node.self()
                            + " did not register with the shard "
                            + "coordinator within "
                            + READY_TIMEOUT.toSeconds()
                            + " s; is the node a "
                            + "cluster member?"));
                return;
              }
              if (classic.whenTerminated().isCompleted()) {
                ready.completeExceptionally(new IllegalStateException("the actor system stopped"));
                return;
              }
              classic
                  .scheduler()
                  .scheduleOnce(
                      Duration.ofMillis(100),
                      () -> awaitRegistration(classic, region, cluster, deadlineNs),
                      classic.dispatcher());
            });
  }

  /** Entity and shard ids straight from the messages: no envelope on the wire. */
  private static final class Extractor
      extends ShardingMessageExtractor<Protocol.OwnerCommand, Protocol.OwnerCommand> {
    @Override
    public String entityId(Protocol.OwnerCommand message) {
      return OwnerEntity.entityId(message.home(), message.object());
    }

    @Override
    public String shardId(String entityId) {
      return OwnerEntity.shardId(entityId);
    }

    @Override
    public Protocol.OwnerCommand unwrapMessage(Protocol.OwnerCommand message) {
      return message;
    }
  }
}
