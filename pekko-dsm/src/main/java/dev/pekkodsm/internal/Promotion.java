package dev.pekkodsm.internal;

import dev.pekkodsm.coherence.AtomicCell;
import dev.pekkodsm.coherence.BorrowState;
import dev.pekkodsm.coherence.GlobalAddress;
import dev.pekkodsm.coherence.NodeId;
import dev.pekkodsm.coherence.ObjectKind;
import dev.pekkodsm.coherence.ObjectTable;
import dev.pekkodsm.coherence.OwnedObject;
import dev.pekkodsm.coherence.Timing;
import dev.pekkodsm.coherence.home.HomeProtocol;
import dev.pekkodsm.coherence.home.RequestMemory;
import dev.pekkodsm.coherence.mutex.MutexHome;
import dev.pekkodsm.coherence.replication.ReplicaRecord;
import dev.pekkodsm.memory.HostIdentity;
import dev.pekkodsm.memory.PeerEndpoint;
import dev.pekkodsm.memory.ReadBuffer;
import dev.pekkodsm.memory.ReadStatus;
import dev.pekkodsm.memory.SnapshotArena;
import dev.pekkodsm.memory.SyncLayout;
import dev.pekkodsm.memory.SyncRegion;
import dev.pekkodsm.memory.TcpReadServer;
import dev.pekkodsm.serialization.internal.KryoPool;
import dev.pekkodsm.serialization.internal.Purpose;
import dev.pekkodsm.serialization.internal.SnapshotCodec;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This node serving the objects of removed primaries it backed up (docs/DECISIONS.md,
 * "Replication"). Promoting a primary's mirror makes its arena an ordinary arena of that node,
 * served to peers as the primary's was (shm maps the mirror's folder, a tcp read server of its own
 * serves it), files each object of the catalog in a table of the primary's under its old address
 * and snapshot, and answers the primary's shard with a {@link HomeProtocol} over that table.
 *
 * <p>Who owns what comes from the survivors, which hold the handles: every member is asked which
 * references and shares of the primary's objects it holds ({@link Census}). Until the answers are
 * in, this node holds a share of each object itself, so nothing is dropped for want of owners that
 * simply have not answered yet.
 *
 * <p>Thread-safe.
 */
final class Promotion implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(Promotion.class);

  /** The weight this node holds on each promoted object until the census is in. */
  static final long CENSUS_HOLD = 1L << 20;

  /** One primary's objects, served here. */
  static final class Promoted {
    final NodeId primary;
    final SnapshotArena arena;
    final SyncRegion region;
    final ObjectTable table;
    final MutexHome mutexes;
    final HomeProtocol home;
    final TcpReadServer tcp;
    final PeerEndpoint endpoint;
    final Replication replication;
    final SnapshotPublisher publisher;
    private boolean counted; // guarded by this: the census is in
    private final List<Runnable> deferred = new ArrayList<>(); // guarded by this

    /**
     * Serves a request for the primary's objects; until the census is in, requests wait, so that a
     * lend granted meanwhile is not counted twice (once granted, once reported).
     */
    void handle(
        dev.pekkodsm.coherence.home.HomeRequest request,
        dev.pekkodsm.coherence.home.Responder out) {
      afterCensus(() -> home.handle(request, out));
    }

    /** Runs {@code work} now if the census is in, else once it is. */
    void afterCensus(Runnable work) {
      synchronized (this) {
        if (!counted) {
          deferred.add(work);
          return;
        }
      }
      work.run();
    }

    private void counted() {
      List<Runnable> waiting;
      synchronized (this) {
        counted = true;
        waiting = new ArrayList<>(deferred);
        deferred.clear();
      }
      waiting.forEach(Runnable::run);
    }

    Promoted(
        NodeId primary,
        SnapshotArena arena,
        SyncRegion region,
        ObjectTable table,
        MutexHome mutexes,
        HomeProtocol home,
        TcpReadServer tcp,
        PeerEndpoint endpoint,
        Replication replication,
        SnapshotPublisher publisher) {
      this.publisher = publisher;
      this.primary = primary;
      this.arena = arena;
      this.region = region;
      this.table = table;
      this.mutexes = mutexes;
      this.home = home;
      this.tcp = tcp;
      this.endpoint = endpoint;
      this.replication = replication;
    }
  }

  private final DsmNode node;
  private final DsmSettings settings;
  private final KryoPool kryo;
  private final SnapshotCodec codec;
  private final Timing timing;
  private final Metrics metrics;
  private final Map<NodeId, Promoted> promoted = new ConcurrentHashMap<>();

  Promotion(
      DsmNode node,
      DsmSettings settings,
      KryoPool kryo,
      SnapshotCodec codec,
      Timing timing,
      Metrics metrics) {
    this.node = node;
    this.settings = settings;
    this.kryo = kryo;
    this.codec = codec;
    this.timing = timing;
    this.metrics = metrics;
  }

  /** The promoted objects of {@code primary}, or null. */
  Promoted of(NodeId primary) {
    return promoted.get(primary);
  }

  /**
   * Promotes this node's mirror of {@code primary}, which was removed from the cluster, once. Null
   * if this node holds no mirror of it.
   */
  synchronized Promoted promote(NodeId primary) {
    Promoted done = promoted.get(primary);
    if (done != null) {
      return done;
    }
    ReplicaHost.Mirror mirror = node.replicas().take(primary);
    if (mirror == null) {
      return null;
    }
    SnapshotArena arena = mirror.arena;
    SyncRegion region = mirror.region;
    if (region == null) { // a primary without a sync region to mirror: an empty one serves
      log.warn("the mirror of {} has no sync region: it had no mutexes or atomics", primary);
      region = SyncRegion.mirror(arena, 1);
    }
    arena.promote();
    region.promote();
    Replication[] backup = new Replication[1]; // the table ships through it, made below
    MutexHome[] mutexes = new MutexHome[1]; // the table frees cells through it, made below
    SyncRegion cells = region;
    ObjectTable table =
        new ObjectTable(
            primary,
            timing,
            locator -> {
              backup[0].freeing(locator);
              arena.free(locator);
            },
            (kind, object, value) -> {
              backup[0].gone(kind, object);
              DsmNode.freeCell(kind, object, value, mutexes[0], cells);
            },
            settings.tombstoneEntries,
            settings.tombstoneTtl);
    SnapshotPublisher publisher =
        new SnapshotPublisher(
            primary.value(),
            kryo,
            codec,
            arena,
            region,
            timing,
            metrics,
            settings.moveInlineBytes,
            2 * (settings.askTimeout.toNanos() + settings.borrowTimeout.toNanos()));
    backup[0] =
        new Replication(
            node.self(),
            primary,
            table,
            arena,
            publisher,
            node.peers(),
            node.messaging(),
            timing,
            settings);
    backup[0].replyTo(node.replication().replyToRef());
    mutexes[0] = new MutexHome(node.self(), publisher, timing, settings.borrowTimeout.toNanos());
    Duration keep = settings.askTimeout.plus(settings.borrowTimeout).multipliedBy(3);
    HomeProtocol home =
        new HomeProtocol(
            table,
            new NodePorts(
                node.self(),
                publisher,
                node.runner(),
                node.client().refs(),
                node.homes(),
                node.peers(),
                metrics,
                backup[0]),
            mutexes[0],
            new RequestMemory(keep, 64L * 1024 * 1024, 100_000, timing),
            settings.borrowTimeout.toNanos(),
            settings.moveInlineBytes);
    int restored = restore(primary, mirror, table, mutexes[0]);
    table.reserveIdsUpTo(mirror.catalog.highestObject());
    TcpReadServer tcp = startTcp(arena, region);
    PeerEndpoint endpoint =
        PeerEndpoint.shmOnly(arena.endpoint(), HostIdentity.of(settings.arena.directory()));
    if (tcp != null) {
      endpoint = endpoint.withTcp(node.endpoint().tcpHost(), tcp.address().getPort());
    }
    Promoted p =
        new Promoted(
            primary, arena, region, table, mutexes[0], home, tcp, endpoint, backup[0], publisher);
    promoted.put(primary, p);
    if (tcp != null) {
      // Commits and atomic operations asked over tcp wait for the census, as requests do.
      long budgetNs = settings.replicationAckTimeout.toNanos();
      SyncRegion served = region;
      tcp.handleMessages(
          (channel, body) ->
              HomeSync.serve(
                  served,
                  primary.value(),
                  codec,
                  work -> p.afterCensus(() -> node.runner().offload(work)),
                  requester -> node.peers().isDeparted(NodeId.of(requester)),
                  null, // its writers do not write its backup themselves
                  channel,
                  body,
                  budgetNs));
    }
    // Backed up where this node's objects are, so a second failure is survived too.
    backup[0].membersChanged(node.peers().ringMembers());
    log.info(
        "{} took over the {} objects of {}, which left the cluster; asking the members what they"
            + " hold of them",
        node.self(),
        restored,
        primary);
    return p;
  }

  /** Files each object of the catalog, holding a share of it until the census is in. */
  private int restore(
      NodeId primary, ReplicaHost.Mirror mirror, ObjectTable table, MutexHome mutexes) {
    ReadBuffer buffer = new ReadBuffer(4096);
    int restored = 0;
    for (ReplicaRecord.Filed f : mirror.catalog.objects()) {
      if (f.kind().rewrittenInPlace()) {
        OwnedObject obj = restoreCell(primary, f, table, mutexes);
        if (obj != null) {
          table.shareOwnership(obj, node.self(), CENSUS_HOLD);
          restored++;
        }
        continue;
      }
      if (f.locator() == 0) {
        continue;
      }
      ReadStatus status = mirror.arena.read(f.locator(), f.object(), f.color(), buffer);
      if (status != ReadStatus.OK) {
        log.warn(
            "the mirror of {} holds no readable snapshot of {} ({}): it is lost",
            primary,
            new GlobalAddress(primary, f.object(), f.color()),
            status);
        continue;
      }
      Object value =
          kryo.fromBytes(
              buffer.bytes(),
              SnapshotCodec.HEADER_BYTES,
              buffer.length() - SnapshotCodec.HEADER_BYTES,
              Purpose.SNAPSHOT);
      OwnedObject obj =
          table.restore(f.kind(), f.object(), f.color(), value, f.locator(), f.frameBytes());
      if (f.kind() == ObjectKind.BOX) {
        obj.boxHolder(f.holder() == 0 ? primary : NodeId.of(f.holder()));
        obj.tryAcquire(BorrowState.Kind.LEND, node.self(), CENSUS_HOLD, "the census");
      } else {
        table.shareOwnership(obj, node.self(), CENSUS_HOLD);
      }
      restored++;
    }
    return restored;
  }

  /**
   * Files a mutex or an atomic whose cell the mirror holds (its committed value; a mutex unlocked,
   * so a holder of the lock at the primary is refused its commit); null if the cell is not there.
   */
  private OwnedObject restoreCell(
      NodeId primary, ReplicaRecord.Filed f, ObjectTable table, MutexHome mutexes) {
    try {
      Object cell;
      if (f.kind() == ObjectKind.MUTEX) {
        cell = mutexes.restore(f.locator(), f.object());
      } else {
        mutexes.region().load(f.locator(), f.object(), SyncLayout.WORD, 0); // its cell, or throws
        cell = new AtomicCell(f.locator());
      }
      return table.restoreCell(f.kind(), f.object(), f.color(), cell);
    } catch (RuntimeException e) {
      log.warn(
          "the mirror of {} holds no cell of {} ({}): it is lost",
          primary,
          new GlobalAddress(primary, f.object(), f.color()),
          e.toString());
      return null;
    }
  }

  /**
   * The census of {@code primary}'s objects is in: each holding becomes a lend or share of its
   * holder (at the color it was lent at; older ones are stale and left out), this node's own hold
   * is returned, and what nobody owns is dropped (a box whose owner left with the primary goes when
   * its last reference comes back).
   */
  void censusDone(NodeId primary, List<Census.Holding> holdings, boolean complete) {
    Promoted p = promoted.get(primary);
    if (p == null) {
      return;
    }
    try {
      count(p, holdings, complete);
    } finally {
      p.counted();
    }
  }

  private void count(Promoted p, List<Census.Holding> holdings, boolean complete) {
    NodeId primary = p.primary;
    int granted = 0;
    for (Census.Holding h : holdings) {
      OwnedObject obj = p.table.get(h.object());
      if (obj != null && obj.color() == h.color()) {
        obj.tryAcquire(BorrowState.Kind.LEND, h.holder(), h.weight(), "the census");
        granted++;
      }
    }
    if (!complete) {
      // A member that did not answer may hold handles: keeping this node's share keeps every
      // object (at worst one that nobody holds any more stays until this node stops).
      log.warn(
          "{} keeps {}'s objects: not every member said what it holds of them",
          node.self(),
          primary);
      return;
    }
    List<OwnedObject> all = new ArrayList<>(p.table.objects());
    for (OwnedObject obj : all) {
      obj.returnLend(node.self(), CENSUS_HOLD, obj.color());
    }
    HomeProtocol.Departure orphans = p.home.departed(primary);
    for (NodeId gone : departedHolders(p)) {
      p.home.departed(gone);
    }
    log.info(
        "{} holds {} references and shares of {}'s objects; {} objects it owned are dropped once"
            + " their references come back",
        node.self(),
        granted,
        primary,
        orphans.orphans());
  }

  private List<NodeId> departedHolders(Promoted p) {
    List<NodeId> gone = new ArrayList<>();
    for (OwnedObject obj : p.table.objects()) {
      NodeId holder = obj.boxHolder();
      if (holder != null
          && !holder.equals(p.primary)
          && node.peers().isDeparted(holder)
          && !gone.contains(holder)) {
        gone.add(holder);
      }
    }
    return gone;
  }

  /** {@code node} left: what it held of promoted objects is reclaimed, what it owned dropped. */
  void departed(NodeId node) {
    for (Promoted p : promoted.values()) {
      if (!p.primary.equals(node)) {
        p.home.departed(node);
      }
    }
  }

  /** Points the replication of every promoted primary at this node's successor. */
  void membersChanged(List<NodeId> members) {
    for (Promoted p : promoted.values()) {
      p.replication.membersChanged(members);
    }
  }

  private TcpReadServer startTcp(SnapshotArena arena, SyncRegion region) {
    if (node.tcpServer() == null) {
      return null;
    }
    try {
      return TcpReadServer.start(
          arena, region, settings.tcp.withBindHost(node.endpoint().tcpHost()).withPort(0));
    } catch (IOException | RuntimeException e) {
      log.warn("cannot serve the promoted arena over tcp: {}", e.toString());
      return null;
    }
  }

  @Override
  public void close() {
    for (Promoted p : promoted.values()) {
      p.replication.close();
      if (p.tcp != null) {
        p.tcp.close();
      }
      p.region.close();
      p.arena.close();
    }
    promoted.clear();
  }
}
