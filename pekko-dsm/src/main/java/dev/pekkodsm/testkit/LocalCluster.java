package dev.pekkodsm.testkit;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dev.pekkodsm.Dsm;
import dev.pekkodsm.DsmSetup;
import dev.pekkodsm.coherence.NodeId;
import dev.pekkodsm.internal.Protocol;
import dev.pekkodsm.serialization.ClassRegistry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import org.apache.pekko.actor.Address;
import org.apache.pekko.actor.BootstrapSetup;
import org.apache.pekko.actor.CoordinatedShutdown;
import org.apache.pekko.actor.setup.ActorSystemSetup;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorRefResolver;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.Member;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Join;

/**
 * A Pekko cluster of N nodes in this JVM, each a separate {@code ActorSystem} on {@code 127.0.0.1}
 * with a free port, talking real Artery TCP to the others, each running the DSM.
 *
 * <pre>{@code
 * try (LocalCluster cluster = LocalCluster.withNodes(3).register(Account.class, 100).start()) {
 *   DBox<Account> box = cluster.dsm(0).alloc(new Account(10));
 *   ...
 * }
 * }</pre>
 *
 * <p>Nodes are tuned for tests: failure detection in about a second, the split brain resolver downs
 * a crashed node about two seconds later. {@link #crash(int)} stops a node without leaving (the
 * others notice as they would a real crash); {@link #leave(int)} leaves gracefully. Nothing is
 * shared between nodes but the loopback network and the arena directory.
 */
public final class LocalCluster implements AutoCloseable {

  private static final AtomicInteger CLUSTERS = new AtomicInteger();

  /**
   * What nodes embedded in one JVM need on top of {@link NodeConfig}'s basics, the fast failover
   * preset and quiet logs: any free port, a shard coordinator that takes over quickly, and nodes
   * that leave only when told (this class, or its shutdown hook, stops them).
   */
  static final String EMBEDDED =
      String.join(
          "\n",
          "pekko.remote.artery.canonical.port = 0",
          "pekko.cluster.sharding.waiting-for-state-timeout = 500ms",
          "pekko.coordinated-shutdown.run-by-actor-system-terminate = off",
          "pekko.coordinated-shutdown.run-by-jvm-shutdown-hook = off",
          "pekko.coordinated-shutdown.exit-jvm = off");

  private final List<ActorSystem<Void>> systems;
  private final List<Boolean> stopped;
  private final Duration timeout;
  private final List<ActorRef<Protocol.Carried>> inboxes = new ArrayList<>();
  private final ConcurrentHashMap<Long, CompletableFuture<Object>> deliveries =
      new ConcurrentHashMap<>();
  private final AtomicLong nextDelivery = new AtomicLong();
  private final Thread shutdownHook;

  private LocalCluster(List<ActorSystem<Void>> systems, Duration timeout, Thread shutdownHook) {
    this.systems = systems;
    this.stopped = new ArrayList<>(Collections.nCopies(systems.size(), false));
    this.timeout = timeout;
    this.shutdownHook = shutdownHook;
    for (ActorSystem<Void> system : systems) {
      inboxes.add(
          system.systemActorOf(
              Behaviors.receive(Protocol.Carried.class)
                  .onMessage(
                      Protocol.Carried.class,
                      m -> {
                        CompletableFuture<Object> waiting = deliveries.remove(m.id());
                        if (waiting != null) {
                          waiting.complete(m.payload());
                        }
                        return Behaviors.same();
                      })
                  .build(),
              "local-cluster-inbox",
              Props.empty()));
    }
  }

  /**
   * Sends {@code value} from node {@code from} to node {@code to} inside a real message over
   * Artery, and returns it as node {@code to} deserialized it. Handles inside travel as they would
   * in any message: a {@code DBox} sent this way is owned by node {@code to} afterwards.
   *
   * @throws IllegalStateException if it does not arrive within the cluster's timeout
   */
  @SuppressWarnings("unchecked")
  public <T> T send(int from, int to, T value) {
    if (from == to) {
      throw new IllegalArgumentException(
          "from and to are the same node: nothing would cross " + "the wire");
    }
    long id = nextDelivery.incrementAndGet();
    CompletableFuture<Object> arrival = new CompletableFuture<>();
    deliveries.put(id, arrival);
    ActorRef<Protocol.Carried> remote =
        ActorRefResolver.get(systems.get(from))
            .resolveActorRef(
                ActorRefResolver.get(systems.get(to)).toSerializationFormat(inboxes.get(to)));
    remote.tell(new Protocol.Carried(id, value));
    try {
      return (T) arrival.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (Exception e) {
      deliveries.remove(id);
      throw new IllegalStateException(
          "the value sent from node "
              + from
              + " to node "
              + to
              + " did not arrive (was it serializable? see the sender's log)",
          e);
    }
  }

  /** A builder for a cluster of {@code nodes} nodes. */
  public static Builder withNodes(int nodes) {
    return new Builder(nodes);
  }

  /** Configures and starts a {@link LocalCluster}. Not thread-safe. */
  public static final class Builder {
    private final int nodes;
    private Config config = ConfigFactory.empty();
    private final ClassRegistry.Builder registry = ClassRegistry.builder();
    private String name;
    private Duration timeout = Duration.ofSeconds(60);
    private final java.util.Map<Integer, Config> perNode = new java.util.HashMap<>();

    private Builder(int nodes) {
      if (nodes < 1) {
        throw new IllegalArgumentException("nodes=" + nodes + " must be >= 1");
      }
      this.nodes = nodes;
    }

    /** Extra configuration for every node, in HOCON; later calls take precedence. */
    public Builder config(String hocon) {
      return config(ConfigFactory.parseString(hocon));
    }

    /** Extra configuration for every node; later calls take precedence. */
    public Builder config(Config extra) {
      this.config = extra.withFallback(config);
      return this;
    }

    /** Extra configuration for node {@code index} only, on top of {@link #config}. */
    public Builder nodeConfig(int index, String hocon) {
      if (index < 0 || index >= nodes) {
        throw new IllegalArgumentException("node " + index + " of " + nodes);
      }
      perNode.merge(index, ConfigFactory.parseString(hocon), (old, neu) -> neu.withFallback(old));
      return this;
    }

    /** Registers a user class with the DSM serializer on every node. */
    public Builder register(Class<?> type, int id) {
      registry.register(type, id);
      return this;
    }

    /** The actor systems' name (default: a unique one per cluster in this JVM). */
    public Builder name(String systemName) {
      this.name = Objects.requireNonNull(systemName, "systemName");
      return this;
    }

    /** How long {@link #start()} may take before it fails (default 60 s). */
    public Builder startTimeout(Duration startTimeout) {
      this.timeout = Objects.requireNonNull(startTimeout, "startTimeout");
      return this;
    }

    /**
     * Starts the nodes, forms the cluster, starts the DSM on every node and waits until every node
     * sees every other Up and every node's DSM is ready.
     *
     * @throws IllegalStateException if that takes longer than the start timeout; every node started
     *     so far is stopped first
     */
    public LocalCluster start() {
      String systemName = name != null ? name : "dsm-" + CLUSTERS.incrementAndGet();
      Config nodeConfig =
          NodeConfig.builder()
              .failover(NodeConfig.Failover.FAST)
              .quiet()
              .config(EMBEDDED)
              .config(config)
              .skipDsmCheck()
              .overlay();
      Config fallback = ConfigFactory.load();
      ClassRegistry classes = registry.build();
      List<ActorSystem<Void>> systems = new java.util.concurrent.CopyOnWriteArrayList<>();
      long deadline = System.nanoTime() + timeout.toNanos();
      // SIGTERM or System.exit: stop the nodes, so that their arenas are removed, as close() would.
      Thread shutdownHook =
          new Thread(() -> stopAllOnExit(systems), "pekko-dsm-local-cluster-shutdown");
      Runtime.getRuntime().addShutdownHook(shutdownHook);
      try {
        for (int i = 0; i < nodes; i++) {
          Config own =
              perNode
                  .getOrDefault(i, ConfigFactory.empty())
                  .withFallback(nodeConfig)
                  .withFallback(fallback)
                  .resolve();
          ActorSystemSetup setup =
              ActorSystemSetup.create(BootstrapSetup.create(own)).and(DsmSetup.create(classes));
          systems.add(ActorSystem.create(Behaviors.empty(), systemName, setup));
        }
        Address seed = Cluster.get(systems.get(0)).selfMember().address();
        for (ActorSystem<Void> system : systems) {
          Cluster.get(system).manager().tell(Join.create(seed));
        }
        List<CompletableFuture<Void>> ready = new ArrayList<>();
        for (ActorSystem<Void> system : systems) {
          ready.add(Dsm.get(system).ready().toCompletableFuture());
        }
        LocalCluster cluster = new LocalCluster(List.copyOf(systems), timeout, shutdownHook);
        cluster.awaitCondition(
            "all " + nodes + " nodes Up on every node", deadline, cluster::allUp);
        long left = Math.max(1, deadline - System.nanoTime());
        CompletableFuture.allOf(ready.toArray(new CompletableFuture<?>[0]))
            .get(left, TimeUnit.NANOSECONDS);
        // Every node can read every other's arena before the first test does: nothing left
        // in flight to confuse counts of messages or reads.
        List<CompletableFuture<Void>> peers = new ArrayList<>();
        for (int i = 0; i < nodes; i++) {
          for (int j = 0; j < nodes; j++) {
            if (i != j) {
              peers.add(cluster.dsm(i).internalNode().awaitPeer(cluster.nodeId(j)));
            }
          }
        }
        left = Math.max(1, deadline - System.nanoTime());
        CompletableFuture.allOf(peers.toArray(new CompletableFuture<?>[0]))
            .get(left, TimeUnit.NANOSECONDS);
        return cluster;
      } catch (Exception e) {
        removeHook(shutdownHook);
        systems.forEach(ActorSystem::terminate);
        throw new IllegalStateException(
            "the local cluster of "
                + nodes
                + " nodes did not start"
                + " within "
                + timeout.toSeconds()
                + " s: "
                + e,
            e);
      }
    }
  }

  /** The number of nodes started (including stopped ones). */
  public int size() {
    return systems.size();
  }

  /** Node {@code i}'s actor system. */
  public ActorSystem<Void> system(int i) {
    return systems.get(i);
  }

  /** Node {@code i}'s DSM. */
  public Dsm dsm(int i) {
    return Dsm.get(systems.get(i));
  }

  /** Node {@code i}'s id. */
  public NodeId nodeId(int i) {
    return dsm(i).self();
  }

  /** DSM protocol messages put on the wire by all running nodes so far. */
  public long messagesSent() {
    long sum = 0;
    for (int i = 0; i < systems.size(); i++) {
      if (!stopped.get(i)) {
        sum += dsm(i).counters().messagesSent();
      }
    }
    return sum;
  }

  /**
   * Waits until no running node has sent a DSM message for {@code quiet}, and returns {@link
   * #messagesSent()}. Handles that arrive on a node tell their home asynchronously; count messages
   * after this, not just after the operation.
   */
  public long awaitQuiet(Duration quiet) {
    long last = messagesSent();
    long quietSince = System.nanoTime();
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() - quietSince < quiet.toNanos()) {
      if (System.nanoTime() - deadline > 0) {
        throw new IllegalStateException(
            "DSM messages kept flowing for " + timeout.toSeconds() + " s");
      }
      try {
        Thread.sleep(Math.max(1, quiet.toMillis() / 8));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted", e);
      }
      long now = messagesSent();
      if (now != last) {
        last = now;
        quietSince = System.nanoTime();
      }
    }
    return last;
  }

  /** The index of the node with this id, or -1. */
  public int indexOf(NodeId node) {
    for (int i = 0; i < systems.size(); i++) {
      if (!stopped.get(i) && nodeId(i).equals(node)) {
        return i;
      }
    }
    return -1;
  }

  private boolean allUp() {
    for (int i = 0; i < systems.size(); i++) {
      if (stopped.get(i)) {
        continue;
      }
      int up = 0;
      for (Member m : Cluster.get(systems.get(i)).state().getMembers()) {
        if (m.status() == MemberStatus.up()) {
          up++;
        }
      }
      if (up != running()) {
        return false;
      }
    }
    return true;
  }

  private int running() {
    return (int) stopped.stream().filter(s -> !s).count();
  }

  /**
   * Stops node {@code i} abruptly, without leaving the cluster: the others see it become
   * unreachable and the split brain resolver removes it. Returns at once; see {@link
   * #awaitRemoved(int)}.
   */
  public synchronized void crash(int i) {
    if (stopped.get(i)) {
      return;
    }
    stopped.set(i, true);
    systems.get(i).terminate();
    await(systems.get(i).getWhenTerminated().toCompletableFuture());
  }

  /** Node {@code i} leaves the cluster gracefully and stops. */
  public synchronized void leave(int i) {
    if (stopped.get(i)) {
      return;
    }
    stopped.set(i, true);
    await(
        CoordinatedShutdown.get(systems.get(i).classicSystem())
            .runAll(CoordinatedShutdown.clusterLeavingReason())
            .toCompletableFuture());
  }

  /** Waits until every running node has removed node {@code i} from its membership. */
  public void awaitRemoved(int i) {
    Address gone = Cluster.get(systems.get(i)).selfMember().address();
    awaitCondition(
        gone + " removed",
        System.nanoTime() + timeout.toNanos(),
        () -> {
          for (int k = 0; k < systems.size(); k++) {
            if (stopped.get(k)) {
              continue;
            }
            for (Member m : Cluster.get(systems.get(k)).state().getMembers()) {
              if (m.address().equals(gone)) {
                return false;
              }
            }
          }
          return true;
        });
  }

  private void awaitCondition(String what, long deadlineNs, BooleanSupplier condition) {
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() - deadlineNs > 0) {
        throw new IllegalStateException("timed out waiting for " + what);
      }
      try {
        Thread.sleep(20);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted waiting for " + what, e);
      }
    }
  }

  private void await(CompletableFuture<?> f) {
    try {
      f.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (Exception e) {
      throw new IllegalStateException(
          "a node did not stop within " + timeout.toSeconds() + " s", e);
    }
  }

  /** Stops every node that is still running and waits for them to terminate. */
  @Override
  public synchronized void close() {
    removeHook(shutdownHook);
    List<CompletableFuture<?>> done = new ArrayList<>();
    for (int i = 0; i < systems.size(); i++) {
      if (!stopped.get(i)) {
        stopped.set(i, true);
        systems.get(i).terminate();
      }
      done.add(systems.get(i).getWhenTerminated().toCompletableFuture());
    }
    await(CompletableFuture.allOf(done.toArray(new CompletableFuture<?>[0])));
  }

  private static void removeHook(Thread hook) {
    try {
      Runtime.getRuntime().removeShutdownHook(hook);
    } catch (IllegalStateException e) {
      // the JVM is shutting down: the hook stops the nodes
    }
  }

  /** The JVM is exiting: stop the nodes still running, with a bounded wait. */
  private static void stopAllOnExit(List<ActorSystem<Void>> systems) {
    List<CompletableFuture<?>> done = new ArrayList<>();
    for (ActorSystem<Void> system : systems) {
      system.terminate();
      done.add(system.getWhenTerminated().toCompletableFuture());
    }
    try {
      CompletableFuture.allOf(done.toArray(new CompletableFuture<?>[0])).get(10, TimeUnit.SECONDS);
    } catch (Exception e) {
      // the JVM is going away; a leftover arena is removed by the next node started on this host
    }
  }
}
