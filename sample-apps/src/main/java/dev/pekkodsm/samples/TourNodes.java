package dev.pekkodsm.samples;

import com.typesafe.config.Config;
import dev.pekkodsm.DCallable;
import dev.pekkodsm.Dsm;
import dev.pekkodsm.coherence.NodeId;
import dev.pekkodsm.testkit.LocalCluster;
import dev.pekkodsm.testkit.NodeConfig;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.pekko.actor.Address;
import org.apache.pekko.actor.AddressFromURIString;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.Member;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.typed.Cluster;

/**
 * The three nodes the tour runs on. Node 1 is in this JVM and is driven directly; nodes 2 and 3 are
 * reached only by tasks node 1 places on them ({@code spawnOn}), so the tour's steps are the same
 * whether nodes 2 and 3 are in this JVM ({@link #embedded}) or in other processes ({@link #join},
 * {@link #joined}).
 *
 * <p>Not thread-safe except {@link #on} and {@link #onAsync}.
 */
final class TourNodes implements AutoCloseable {

  /** How long one task on another node may take before the tour gives up. */
  static final Duration TASK_TIMEOUT = Duration.ofSeconds(60);

  private final Dsm first;
  private final List<NodeId> ids;
  private final String description;
  private final ActorSystem<?> system;
  private final AutoCloseable resources;

  private TourNodes(
      Dsm first,
      List<NodeId> ids,
      String description,
      ActorSystem<?> system,
      AutoCloseable resources) {
    this.first = first;
    this.ids = List.copyOf(ids);
    this.description = description;
    this.system = system;
    this.resources = resources;
  }

  /** Three nodes in this JVM ({@link LocalCluster}), talking Artery TCP over 127.0.0.1. */
  static TourNodes embedded() {
    LocalCluster cluster =
        LocalCluster.withNodes(3).name("tour").config("pekko.dsm.borrow-timeout = 1s").start();
    return new TourNodes(
        cluster.dsm(0),
        List.of(cluster.nodeId(0), cluster.nodeId(1), cluster.nodeId(2)),
        "an embedded three-node cluster in this JVM",
        cluster.system(0),
        cluster);
  }

  /**
   * The configuration of this JVM's node when it joins a running cluster, built as {@code ./dsm
   * node} builds a node's ({@link NodeConfig}): the {@code configFiles} in order over the cluster
   * basics and the classpath's configuration; {@code host}, {@code port} and {@code seeds} over
   * them. The port is {@code port}, or any free one: the files in {@code conf/} name the ports of
   * the cluster's own nodes, which this JVM must not take.
   *
   * @throws IllegalArgumentException if a file is missing or a value is wrong, naming it
   */
  static Config remoteConfig(
      List<Path> configFiles, String name, String host, Integer port, List<String> seeds) {
    return NodeConfig.builder()
        .configFiles(configFiles)
        .name(name)
        .host(host)
        .port(port == null ? 0 : port)
        .seeds(seeds)
        .build();
  }

  /**
   * Starts a node in this JVM with {@code config}, joins the cluster its seed nodes name, and waits
   * as {@link #joined} does. The node leaves the cluster on {@link #close()}.
   *
   * @throws IllegalStateException if the node does not join, or two other DSM nodes are not up,
   *     within {@code wait}
   */
  static TourNodes join(Config config, String name, Duration wait, PrintStream progress) {
    requireAnswerFromASeed(config);
    ActorSystem<Void> system = ActorSystem.create(Behaviors.empty(), name, config);
    try {
      return joined(system, wait, progress, () -> leave(system));
    } catch (RuntimeException e) {
      leave(system);
      throw e;
    }
  }

  /** How long a seed node's Artery port may take to accept a connection. */
  private static final int SEED_CONNECT_TIMEOUT_MS = 2000;

  /**
   * Fails at once, rather than after the whole wait, when no seed node accepts a connection on its
   * Artery TCP port: nothing listens there, so joining cannot succeed.
   *
   * @throws IllegalStateException if no seed node is listening, naming each and why
   */
  static void requireAnswerFromASeed(Config config) {
    String transport = config.getString("pekko.remote.artery.transport");
    List<String> seeds = config.getStringList("pekko.cluster.seed-nodes");
    if (seeds.isEmpty() || !(transport.equals("tcp") || transport.equals("tls-tcp"))) {
      return;
    }
    List<String> reasons = new ArrayList<>();
    for (String seed : seeds) {
      Address address = AddressFromURIString.parse(seed);
      String host = address.getHost().orElse("");
      int port = address.getPort().orElse(0);
      try (Socket socket = new Socket()) {
        socket.connect(new InetSocketAddress(host, port), SEED_CONNECT_TIMEOUT_MS);
        return;
      } catch (IOException e) {
        reasons.add(host + ":" + port + " (" + e.getMessage() + ")");
      }
    }
    throw new IllegalStateException(
        "no seed node is listening at " + String.join(", ", reasons) + ". " + HOW_TO_START);
  }

  /**
   * This JVM's node is {@code system}, a member (or about to be one) of a cluster of DSM nodes; the
   * tour's nodes 2 and 3 are the first two other Up members, in address order, whose DSM this node
   * can reach. Waits up to {@code wait} for them. {@link #close()} runs {@code onClose}.
   *
   * @throws IllegalStateException if this node is not up, or two such members are not found, within
   *     {@code wait}; the message names what was found and how to start the missing nodes
   */
  static TourNodes joined(
      ActorSystem<?> system, Duration wait, PrintStream progress, AutoCloseable onClose) {
    long deadline = System.nanoTime() + wait.toNanos();
    Dsm dsm = Dsm.get(system);
    Cluster cluster = Cluster.get(system);
    progress.printf(
        Locale.ROOT,
        "Joining the cluster as %s (seed nodes %s)...%n",
        system.address(),
        system.settings().config().getStringList("pekko.cluster.seed-nodes"));
    try {
      dsm.ready().toCompletableFuture().get(wait.toNanos(), TimeUnit.NANOSECONDS);
    } catch (TimeoutException e) {
      throw new IllegalStateException(
          "this node did not join the cluster within "
              + wait.toSeconds()
              + " s; is a seed node running? (If it is, its log says why it refused this"
              + " node.) "
              + HOW_TO_START,
          e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while joining the cluster", e);
    } catch (ExecutionException e) {
      throw new IllegalStateException("this node's DSM did not start: " + e.getCause(), e);
    }
    progress.println("Waiting for two other DSM nodes to be up...");
    Map<Address, String> refused = new LinkedHashMap<>();
    Set<NodeId> reached = new HashSet<>();
    while (true) {
      List<Member> others = new ArrayList<>();
      for (Member m : cluster.state().getMembers()) {
        if (m.status() == MemberStatus.up() && !m.equals(cluster.selfMember())) {
          others.add(m);
        }
      }
      others.sort(BY_ADDRESS);
      List<Member> picked = new ArrayList<>();
      for (Member m : others) {
        NodeId id = idOf(m);
        if (!reached.contains(id)) {
          // Each attempt gets its own time, so a slow peer near the deadline is not misjudged.
          long attemptNs = Math.min(PEER_ATTEMPT_NS, Math.max(deadline - System.nanoTime(), 0));
          try {
            dsm.internalNode()
                .awaitPeer(id)
                .get(Math.max(attemptNs, PEER_ATTEMPT_NS / 10), TimeUnit.NANOSECONDS);
            reached.add(id);
            refused.remove(m.address());
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while looking for DSM nodes", e);
          } catch (ExecutionException | TimeoutException e) {
            refused.put(
                m.address(),
                e instanceof TimeoutException
                    ? "its DSM did not answer"
                    : String.valueOf(e.getCause()));
            continue;
          }
        }
        picked.add(m);
        if (picked.size() == 2) {
          TourNodes nodes =
              new TourNodes(
                  dsm,
                  List.of(dsm.self(), idOf(picked.get(0)), idOf(picked.get(1))),
                  String.format(
                      Locale.ROOT,
                      "this JVM (%s) as node 1, node 2 at %s and node 3 at %s; %d members Up in all",
                      system.address(),
                      picked.get(0).address(),
                      picked.get(1).address(),
                      others.size() + 1),
                  system,
                  onClose);
          nodes.connectPeers();
          return nodes;
        }
      }
      if (System.nanoTime() - deadline > 0) {
        StringBuilder why = new StringBuilder();
        refused.forEach((a, reason) -> why.append("; ").append(a).append(": ").append(reason));
        throw new IllegalStateException(
            "found "
                + picked.size()
                + " of the 2 other DSM nodes the tour needs within "
                + wait.toSeconds()
                + " s ("
                + others.size()
                + " other members Up"
                + why
                + "). "
                + HOW_TO_START);
      }
      try {
        Thread.sleep(250);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted while looking for DSM nodes", e);
      }
    }
  }

  private static final long PEER_ATTEMPT_NS = TimeUnit.SECONDS.toNanos(5);

  private static final String HOW_TO_START =
      "Start at least two nodes first, each in its own shell: ./dsm node --config"
          + " conf/multi-jvm.conf --port 25521 (then --port 25522, --port 25523)";

  private static final Comparator<Member> BY_ADDRESS =
      Comparator.comparing((Member m) -> m.address().getHost().orElse(""))
          .thenComparingInt(m -> m.address().getPort().orElse(0));

  /**
   * Makes nodes 2 and 3 ready to read the arenas of the other two, as {@link LocalCluster} does for
   * its nodes: no endpoint is then fetched in the middle of a step, where its message would be
   * counted.
   */
  private void connectPeers() {
    NodeId one = id(1);
    NodeId two = id(2);
    NodeId three = id(3);
    for (int node = 2; node <= 3; node++) {
      on(
          node,
          () -> {
            Dsm here = Dsm.current();
            for (NodeId peer : new NodeId[] {one, two, three}) {
              if (!peer.equals(here.self())) {
                here.internalNode().awaitPeer(peer).get(TASK_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
              }
            }
            return Boolean.TRUE;
          });
    }
  }

  private static NodeId idOf(Member m) {
    return NodeId.of(m.uniqueAddress().longUid());
  }

  private static void leave(ActorSystem<?> system) {
    system.terminate(); // runs coordinated shutdown: the node leaves the cluster first
    try {
      system.getWhenTerminated().toCompletableFuture().get(20, TimeUnit.SECONDS);
    } catch (Exception e) {
      // best effort: the JVM is about to go
    }
  }

  /** Node 1's DSM: this JVM's node. */
  Dsm first() {
    return first;
  }

  /** The id of node {@code node} (1, 2 or 3). */
  NodeId id(int node) {
    return ids.get(node - 1);
  }

  /** The tour's number for a node (1, 2 or 3), or 0 for another member of the cluster. */
  int number(NodeId node) {
    return ids.indexOf(node) + 1;
  }

  /** The members Up in the cluster now, as node 1 sees them. */
  int upMembers() {
    int up = 0;
    for (Member m : Cluster.get(system).state().getMembers()) {
      if (m.status() == MemberStatus.up()) {
        up++;
      }
    }
    return up;
  }

  /** Where the three nodes are, in words. */
  String description() {
    return description;
  }

  /** Runs {@code task} on node {@code node}, placed from node 1. */
  <R> CompletableFuture<R> onAsync(int node, DCallable<R> task) {
    return first.spawnOn(id(node), task).toCompletableFuture();
  }

  /**
   * Runs {@code task} on node {@code node} and returns its result.
   *
   * @throws IllegalStateException if the task failed (with its message), or did not finish within
   *     {@link #TASK_TIMEOUT}
   */
  <R> R on(int node, DCallable<R> task) {
    try {
      return onAsync(node, task).get(TASK_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      throw new IllegalStateException(
          "the tour's task on node " + node + " failed: " + e.getCause().getMessage(),
          e.getCause());
    } catch (TimeoutException e) {
      throw new IllegalStateException(
          "the tour's task on node "
              + node
              + " did not finish within "
              + TASK_TIMEOUT.toSeconds()
              + " s",
          e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while waiting for node " + node, e);
    }
  }

  /** Stops what this object started: the embedded cluster, or this JVM's node. */
  @Override
  public void close() {
    try {
      resources.close();
    } catch (Exception e) {
      throw new IllegalStateException("could not stop the tour's nodes: " + e, e);
    }
  }
}
