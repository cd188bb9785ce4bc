package dev.pekkodsm.internal;

import dev.pekkodsm.coherence.AtomicCell;
import dev.pekkodsm.coherence.GlobalAddress;
import dev.pekkodsm.coherence.MutexCell;
import dev.pekkodsm.coherence.NodeId;
import dev.pekkodsm.coherence.ObjectKind;
import dev.pekkodsm.coherence.ObjectTable;
import dev.pekkodsm.coherence.OwnedObject;
import dev.pekkodsm.coherence.ReadCache;
import dev.pekkodsm.coherence.SystemTiming;
import dev.pekkodsm.coherence.home.HomeProtocol;
import dev.pekkodsm.coherence.home.HomeReply;
import dev.pekkodsm.coherence.home.HomeRequest;
import dev.pekkodsm.coherence.home.RequestMemory;
import dev.pekkodsm.coherence.home.Responder;
import dev.pekkodsm.coherence.mutex.MutexHome;
import dev.pekkodsm.coherence.replication.BackupRing;
import dev.pekkodsm.memory.PeerEndpoint;
import dev.pekkodsm.memory.SnapshotArena;
import dev.pekkodsm.memory.SyncRegion;
import dev.pekkodsm.memory.TcpReadServer;
import dev.pekkodsm.memory.TcpTransport;
import dev.pekkodsm.metrics.ReadLatencies;
import dev.pekkodsm.serialization.internal.KryoPool;
import dev.pekkodsm.serialization.internal.SnapshotCodec;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;

/**
 * One node of the DSM: the composition root that builds its parts, wires them and closes them. One
 * per {@code ActorSystem}. The parts each have one job:
 *
 * <ul>
 *   <li>{@link ObjectTable} and {@link HomeProtocol} (coherence): the objects homed here and the
 *       answers to requests about them, served by the {@link OwnerEntity} adapter;
 *   <li>{@link HomeProxy}: requests to other nodes, with deadlines and fail-fast on departure;
 *   <li>{@link SnapshotPublisher} and {@link SnapshotReader}: the arena, one-sided reads, decoding;
 *   <li>{@link Shipping}, {@link TaskRunner}, {@link TaskDispatcher}: tasks and where they run;
 *   <li>{@link RefRegistry}: references held here, reachable by their homes;
 *   <li>{@link PeerDirectory} and {@link Membership}: the other nodes, and reactions to changes;
 *   <li>{@link TransportBootstrap}: the servers that let peers read this node;
 *   <li>{@link ClientContext}: what the handles on this node work with.
 * </ul>
 *
 * <p>Thread-safe.
 */
public final class DsmNode {

  private final ActorSystem<?> system;
  private final DsmSettings settings;
  private final NodeId self;
  private final KryoPool kryo;
  private final SnapshotArena arena;
  private final SyncRegion region;
  private final SystemTiming timing;
  private final ObjectTable table;
  private final Metrics metrics;
  private final TransportBootstrap transports;
  private final ReadLatencies readLatencies = new ReadLatencies();
  private final PeerDirectory peers;
  private final HomeProxy homes;
  private final TaskRunner runner;
  private final HomeProtocol home;
  private final MutexHome mutexes;
  private final HandleWire handles;
  private final ClientContext client;
  private final Membership membership;
  private final Replication replication;
  private final ReplicaHost replicas;
  private final Promotion promotion;
  private final Census census;
  private final SnapshotPublisher publisher;

  DsmNode(ActorSystem<?> system, DsmSettings settings, NodeId self, Facades facades) {
    this.system = system;
    this.settings = settings;
    this.self = self;
    this.handles = new HandleWire(facades, this::client);
    this.kryo =
        new KryoPool(
            settings.registry,
            settings.serialization,
            k -> HandleKryoSerializers.register(k, handles, system),
            "add it to pekko.dsm.serialization.classes { \"<class name>\" = <id> } on every node, "
                + "or register it in a DsmSetup");
    SnapshotCodec codec = new SnapshotCodec(kryo);
    this.timing = new SystemTiming("pekko-dsm-timer-" + self.hex());
    ReadCache cache = new ReadCache(settings.readCacheBytes);
    this.arena = SnapshotArena.create(settings.arena, self.value(), codec);
    this.region = SyncRegion.create(arena, settings.syncCells);
    MutexHome[] mutexes = new MutexHome[1]; // the table frees cells through it, made below
    Replication[] backup = new Replication[1]; // the table ships frees through it, made below
    this.table =
        new ObjectTable(
            self,
            timing,
            locator -> {
              backup[0].freeing(locator); // shipped before the slot can be reused
              arena.free(locator);
            },
            (kind, object, value) -> {
              backup[0].gone(kind, object);
              freeCell(kind, object, value, mutexes[0], region);
            },
            settings.tombstoneEntries,
            settings.tombstoneTtl);
    this.metrics = new Metrics(table::size, arena::liveSlots, () -> tcpRequestsSent());
    this.transports =
        TransportBootstrap.start(system, settings, arena, region, codec, readLatencies);
    this.peers =
        new PeerDirectory(
            system,
            self,
            settings.registry.fingerprint(),
            transports.transports(),
            settings.askTimeout,
            settings.replicationFactor > 0,
            transports.messaging());
    Errors errors = new Errors(self, metrics, settings.borrowTimeout);
    this.homes = new HomeProxy(system, peers, errors);
    Duration keep = settings.askTimeout.plus(settings.borrowTimeout).multipliedBy(3);
    this.publisher =
        new SnapshotPublisher(
            self.value(),
            kryo,
            codec,
            arena,
            region,
            timing,
            metrics,
            settings.moveInlineBytes,
            2 * (settings.askTimeout.toNanos() + settings.borrowTimeout.toNanos()));
    SnapshotReader reader =
        new SnapshotReader(self, kryo, cache, peers, homes, metrics, errors, settings.askTimeout);
    this.replication =
        new Replication(
            self, table, arena, publisher, peers, transports.messaging(), timing, settings);
    backup[0] = replication;
    this.replicas = new ReplicaHost(self, settings.arena, codec, peers::isDeparted);

    this.promotion = new Promotion(this, settings, kryo, codec, timing, metrics);
    this.census =
        new Census(self, peers, timing, settings.askTimeout.toNanos(), promotion::censusDone);
    mutexes[0] = new MutexHome(self, publisher, timing, settings.borrowTimeout.toNanos());
    this.mutexes = mutexes[0];
    Shipping shipping = new Shipping(kryo, handles, settings.moveInlineBytes);
    this.runner = new TaskRunner(this, table, publisher, shipping, timing, metrics, settings);
    if (transports.tcpServer() != null) {
      long budgetNs = settings.replicationAckTimeout.toNanos();
      transports
          .tcpServer()
          .handleMessages(
              (channel, body) ->
                  channel == ReplicaLink.CHANNEL
                      ? ReplicaLink.serve(replicas, channel, body)
                      : channel == HomeSync.BACKUP_CHANNEL
                          ? HomeSync.serveBackup(replicas, channel, body)
                          : HomeSync.serve(
                              region,
                              self.value(),
                              codec,
                              runner::offload,
                              node -> peers.isDeparted(NodeId.of(node)),
                              replication::recopy,
                              channel,
                              body,
                              budgetNs));
    }
    RefRegistry refs = new RefRegistry(self, homes);
    this.home =
        new HomeProtocol(
            table,
            new NodePorts(self, publisher, runner, refs, homes, peers, metrics, replication),
            this.mutexes,
            new RequestMemory(keep, 64L * 1024 * 1024, 100_000, timing),
            settings.borrowTimeout.toNanos(),
            settings.moveInlineBytes);
    TaskDispatcher tasks =
        new TaskDispatcher(table, home, runner, homes, peers, settings.taskTimeout);
    this.client =
        new ClientContext(
            this,
            settings,
            table,
            homes,
            reader,
            publisher,
            shipping,
            tasks,
            runner,
            refs,
            peers,
            errors,
            metrics,
            system.executionContext());
    this.membership =
        new Membership(
            self, peers, refs, home, homes, replication, this::removed, this::membersChanged);
  }

  void region(
      ActorRef<Protocol.OwnerCommand> region, ActorRef<Protocol.OwnerCommand> departedGate) {
    homes.region(region, departedGate);
  }

  /** The node whose task the calling thread is running, or null. */
  public static DsmNode running() {
    return TaskRunner.running();
  }

  public NodeId self() {
    return self;
  }

  public ActorSystem<?> system() {
    return system;
  }

  public DsmSettings settings() {
    return settings;
  }

  public Metrics metrics() {
    return metrics;
  }

  public KryoPool kryo() {
    return kryo;
  }

  public SnapshotArena arena() {
    return arena;
  }

  /** The wire form of handles on this node. */
  public HandleCodec handles() {
    return handles;
  }

  /** What the handles on this node work with. */
  public ClientContext client() {
    return client;
  }

  /** The answers to requests about objects homed here. */
  HomeProtocol home() {
    return home;
  }

  /** The home side of the locks of the mutexes homed here. */
  public MutexHome mutexes() {
    return mutexes;
  }

  /** Requests sent to peers' tcp read servers so far (0 before the transports start). */
  private long tcpRequestsSent() {
    TransportBootstrap started = transports;
    return started == null ? 0 : started.tcpRequestsSent();
  }

  /** This node's sync region. */
  public SyncRegion region() {
    return region;
  }

  /** This node's requests to other nodes. */
  public HomeProxy homes() {
    return homes;
  }

  TaskRunner runner() {
    return runner;
  }

  Membership membership() {
    return membership;
  }

  /** This node as a primary: its backup's mirror, kept up to date. */
  Replication replication() {
    return replication;
  }

  /** The other nodes: members, departures, readers. */
  PeerDirectory peers() {
    return peers;
  }

  /** The census of promoted primaries' objects. */
  Census census() {
    return census;
  }

  /**
   * The protocol answering requests for objects homed on {@code node}: this node's own, or a
   * promoted primary's, promoted now if this node holds its mirror (its shard was placed here, so
   * it has left the cluster). Any other node's requests get this node's protocol, which answers
   * that they are lost.
   */
  OwnerEntity.Home homeFor(long node) {
    if (node == self.value()) {
      return home::handle;
    }
    Promotion.Promoted p = promotion.of(NodeId.of(node));
    if (p == null && settings.replicationFactor > 0) {
      p = promote(NodeId.of(node));
      if (p == null && peers.isMember(NodeId.of(node))) {
        // Sharding placed the node's shard here, so the cluster removed it, but this node has
        // not seen the removal yet: answered once it has (and promoted), not as unknown now.
        long deadlineNs = System.nanoTime() + settings.askTimeout.toNanos();
        return (request, out) -> serveWhenPromoted(node, request, out, deadlineNs);
      }
    }
    return p != null ? p::handle : home::handle;
  }

  private void serveWhenPromoted(long node, HomeRequest request, Responder out, long deadlineNs) {
    NodeId primary = NodeId.of(node);
    Promotion.Promoted p = promotion.of(primary);
    if (p == null && peers.isDeparted(primary)) {
      p = promote(primary);
    }
    if (p != null) {
      p.handle(request, out);
    } else if (peers.isMember(primary) && System.nanoTime() - deadlineNs < 0) {
      timing.schedule(
          TimeUnit.MILLISECONDS.toNanos(20),
          () -> serveWhenPromoted(node, request, out, deadlineNs));
    } else {
      home.handle(request, out); // not this node's to serve: answered as unknown, as before
    }
  }

  /**
   * Promotes this node's mirror of removed {@code primary}, if it holds one, and asks the members
   * what they hold of its objects. Null if this node holds no mirror of it.
   */
  Promotion.Promoted promote(NodeId primary) {
    Promotion.Promoted existing = promotion.of(primary);
    if (existing != null) {
      return existing;
    }
    if (peers.isMember(primary) || !self.equals(peers.servedBy(primary).orElse(null))) {
      return null; // still a member, or another member serves it: the successor in the ring
    }
    Promotion.Promoted p = promotion.promote(primary);
    if (p != null) {
      census.start(primary, peers.ringMembers(), replication.replyToRef());
    }
    return p;
  }

  /** Points every replication kept here at this node's successor in the ring of members. */
  private void membersChanged() {
    List<NodeId> members = peers.ringMembers();
    replication.membersChanged(members);
    promotion.membersChanged(members);
    if (settings.replicationFactor > 0) {
      BackupRing ring = BackupRing.of(members);
      replicas.dropUnless(
          sender -> ring.contains(sender) && self.equals(ring.backupOf(sender).orElse(null)));
    }
  }

  /**
   * {@code node} was removed: if this node backed it up, it serves its objects from now on, and
   * those of the primaries it had promoted itself.
   */
  private void removed(NodeId node) {
    promotion.departed(node);
    for (NodeId primary : replicas.primariesSentBy(node)) {
      promote(primary);
    }
  }

  /** The endpoint of a promoted primary's arena, or null if this node does not serve it. */
  PeerEndpoint endpointOf(NodeId primary) {
    Promotion.Promoted p = promotion.of(primary);
    if (p == null && settings.replicationFactor > 0 && peers.isDeparted(primary)) {
      p = promote(primary);
    }
    return p == null ? null : p.endpoint;
  }

  /** Frees the cell (and a mutex's value slots) of a dropped mutex or atomic. */
  static void freeCell(
      ObjectKind kind, long object, Object value, MutexHome mutexes, SyncRegion region) {
    if (kind == ObjectKind.MUTEX) {
      mutexes.destroy((MutexCell) value, object);
    } else if (kind == ObjectKind.ATOMIC) {
      region.freeCell(((AtomicCell) value).cell());
    }
  }

  /** The home side of the locks of {@code primary}'s mutexes kept here. */
  MutexHome mutexesOf(NodeId primary) {
    Promotion.Promoted p = primary.equals(self) ? null : promotion.of(primary);
    return p == null ? mutexes : p.mutexes;
  }

  /** The sync region of {@code primary}'s cells kept here. */
  SyncRegion regionOf(NodeId primary) {
    Promotion.Promoted p = primary.equals(self) ? null : promotion.of(primary);
    return p == null ? region : p.region;
  }

  Promotion promotion() {
    return promotion;
  }

  /** The publisher of {@code primary}'s objects kept here: this node's, or a promoted one's. */
  SnapshotPublisher publisherOf(NodeId primary) {
    Promotion.Promoted p = primary.equals(self) ? null : promotion.of(primary);
    return p == null ? publisher : p.publisher;
  }

  /** The replication of {@code primary}'s objects kept here (this node's, or a promoted one's). */
  Replication replicationOf(NodeId primary) {
    if (primary.equals(self)) {
      return replication;
    }
    Promotion.Promoted p = promotion.of(primary);
    return p == null ? null : p.replication;
  }

  /**
   * True if the objects of {@code primary} kept here (this node's own, or a promoted primary's)
   * have a backup that holds every change made to them so far: a further failure loses none of
   * them. False with replication off or no backup.
   */
  public boolean backedUp(NodeId primary) {
    Replication r = replicationOf(primary);
    return r != null && r.enabled() && r.backup() != null && r.stream().unacknowledged() == 0;
  }

  /** This node as a backup: the mirrors of the primaries that back up here. */
  ReplicaHost replicas() {
    return replicas;
  }

  /** What this node publishes so that peers can read its arena. */
  public PeerEndpoint endpoint() {
    return transports.endpoint();
  }

  /** The transport chosen for each peer read so far. */
  public Map<NodeId, String> transportsInUse() {
    return transports.transports().chosen();
  }

  /** Latencies of this node's one-sided reads, per transport. */
  public ReadLatencies readLatencies() {
    return readLatencies;
  }

  /** The tcp read server, or null if this node runs none. */
  /** What sends to peers' tcp servers (the replication stream), or null. */
  TcpTransport messaging() {
    return transports.messaging();
  }

  public TcpReadServer tcpServer() {
    return transports.tcpServer();
  }

  /** The object homed here with this id, or null. */
  public OwnedObject object(long objectId) {
    return table.get(objectId);
  }

  /** Objects homed here now. */
  public int objectCount() {
    return table.size();
  }

  /** A fresh object id; ids are never reused while this node lives. */
  public long nextObjectId() {
    return table.nextObjectId();
  }

  /**
   * Completes when this node can read {@code peer}'s arena and reach its owners: its endpoint is
   * fetched, a transport opened, and the peer's shard located. Fails with the reason if it cannot
   * be.
   */
  public CompletableFuture<Void> awaitPeer(NodeId peer) {
    // Object id 0 is never allocated: the question reaches the peer's shard (so this node's
    // region learns where that shard lives) and is answered at once, changing nothing.
    CompletableFuture<HomeReply> routed =
        homes.ask(
            new GlobalAddress(peer, 0, 0),
            new HomeRequest.Confirm(peer.value(), 0, 0, self.value()),
            settings.askTimeout,
            "reach the owners of");
    return peers.reader(peer).thenCombine(routed, (reader, reply) -> null);
  }

  /** Releases everything this node holds: task threads, timer, readers, servers, arena files. */
  void close() {
    replication.close();
    runner.close();
    timing.close();
    peers.close();
    transports.close();
    replicas.close();
    promotion.close();
    region.close();
    arena.close();
  }

  @Override
  public String toString() {
    return "DsmNode(" + self + ")";
  }
}
