package dev.pekkodsm.internal;

import dev.pekkodsm.BorrowConflictException;
import dev.pekkodsm.CorruptSnapshotException;
import dev.pekkodsm.DsmException;
import dev.pekkodsm.DsmTimeoutException;
import dev.pekkodsm.ObjectLostException;
import dev.pekkodsm.StaleReferenceException;
import dev.pekkodsm.coherence.BorrowState;
import dev.pekkodsm.coherence.BorrowTimeoutException;
import dev.pekkodsm.coherence.GlobalAddress;
import dev.pekkodsm.coherence.NodeId;
import dev.pekkodsm.coherence.OwnedObject;
import dev.pekkodsm.coherence.ReadCache;
import dev.pekkodsm.coherence.SystemTiming;
import dev.pekkodsm.coherence.Tombstones;
import dev.pekkodsm.memory.HostIdentity;
import dev.pekkodsm.memory.PeerEndpoint;
import dev.pekkodsm.memory.PeerReader;
import dev.pekkodsm.memory.ReadBuffer;
import dev.pekkodsm.memory.ReadStatus;
import dev.pekkodsm.memory.ShmTransport;
import dev.pekkodsm.memory.SnapshotArena;
import dev.pekkodsm.memory.TcpReadServer;
import dev.pekkodsm.memory.TcpSettings;
import dev.pekkodsm.memory.TcpTransport;
import dev.pekkodsm.memory.rdma.Rdma;
import dev.pekkodsm.memory.rdma.RdmaArenaServer;
import dev.pekkodsm.memory.rdma.RdmaSettings;
import dev.pekkodsm.memory.rdma.RdmaTransport;
import dev.pekkodsm.serialization.SnapshotFormatException;
import dev.pekkodsm.serialization.internal.KryoPool;
import dev.pekkodsm.serialization.internal.Purpose;
import dev.pekkodsm.serialization.internal.SnapshotCodec;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.function.Function;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One node of the DSM: the object table, the arena, the read cache, the peers, and the plumbing
 * that the public handles and the owner entities share. One per {@code ActorSystem}.
 *
 * <p>Thread-safe. Objects are in the table, not in actors, so an owner entity can be passivated
 * without losing anything.
 */
public final class DsmNode {

  private static final Logger log = LoggerFactory.getLogger(DsmNode.class);

  private final ActorSystem<?> system;
  private final DsmSettings settings;
  private final NodeId self;
  private final KryoPool kryo;
  private final SnapshotCodec codec;
  private final SnapshotArena arena;
  private final Transports transports;
  private final TcpReadServer tcpServer;
  private final dev.pekkodsm.metrics.ReadLatencies readLatencies =
      new dev.pekkodsm.metrics.ReadLatencies();
  private final RdmaArenaServer rdmaServer;
  private final PeerEndpoint endpoint;
  private final SystemTiming timing;
  private final ReadCache cache;
  private final Tombstones tombstones;
  private final Metrics metrics;
  private final PeerDirectory peers;
  private final HandleCodec handles;
  private final ConcurrentHashMap<Long, OwnedObject> table = new ConcurrentHashMap<>();
  private final AtomicLong nextObjectId = new AtomicLong(1);
  private final ConcurrentHashMap<Long, RefSlot> liveRefs = new ConcurrentHashMap<>();
  private final AtomicLong nextRefId = new AtomicLong(1);
  private final ConcurrentHashMap<
          NodeId, Map<CompletableFuture<?>, java.util.function.Supplier<RuntimeException>>>
      inFlight = new ConcurrentHashMap<>();
  private final AtomicLong nextRequestId = new AtomicLong(1);
  private final com.github.benmanes.caffeine.cache.Cache<Long, RetainedHandOver> handOvers;
  private final com.github.benmanes.caffeine.cache.Cache<LendKey, Protocol.Lent> lendsGranted;
  private final com.github.benmanes.caffeine.cache.Cache<LendKey, Boolean> lendsCancelled;
  private final ConcurrentHashMap<Long, dev.pekkodsm.coherence.Timing.Cancellable> moveSlots =
      new ConcurrentHashMap<>();
  private final ThreadLocal<ReadBuffer> readBuffers =
      ThreadLocal.withInitial(() -> new ReadBuffer(4096));
  private volatile ActorRef<Protocol.OwnerCommand> region;
  private static final ThreadLocal<DsmNode> RUNNING = new ThreadLocal<>();
  private final java.util.concurrent.ForkJoinPool tasks;
  private final AtomicInteger tasksRunning = new AtomicInteger();
  private final ConcurrentHashMap<NodeId, AtomicInteger> tasksSent = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<NodeId, Report> reportedLoad = new ConcurrentHashMap<>();

  /** The task load a node reported with a result, and when it arrived. */
  private record Report(int load, long atNanos) {}

  /** How long a reported load counts for placement: it says nothing about later. */
  private static final long REPORT_TTL_NANOS = TimeUnit.SECONDS.toNanos(1);

  private final AtomicLong placementTurn = new AtomicLong();

  /** What a reference registered for top-ups and revocations exposes to the node. */
  public interface RefSlot {
    /** The home granted more weight. */
    void addWeight(long weight);

    /** The home refused this reference: it is stale. */
    void revoke(String reason);

    /**
     * A node left the cluster. If it sent this reference, the home may have reclaimed the reference
     * with the sender's others before learning it arrived here.
     */
    void senderLeft(NodeId departed);
  }

  DsmNode(ActorSystem<?> system, DsmSettings settings, NodeId self, HandleCodec handles) {
    if (settings.transport == DsmSettings.Transport.RDMA && !Rdma.isAvailable()) {
      throw new IllegalStateException(
          "pekko.dsm.transport = rdma, but RDMA is unavailable on this node: "
              + Rdma.unavailabilityCause().getMessage(),
          Rdma.unavailabilityCause());
    }
    this.system = system;
    this.settings = settings;
    this.self = self;
    this.handles = handles;
    this.kryo =
        new KryoPool(
            settings.registry,
            settings.serialization,
            k -> HandleKryoSerializers.register(k, this),
            "add it to pekko.dsm.serialization.classes { \"<class name>\" = <id> } on every node, "
                + "or register it in a DsmSetup");
    this.codec = new SnapshotCodec(kryo);
    this.timing = new SystemTiming("pekko-dsm-timer-" + self.hex());
    this.cache = new ReadCache(settings.readCacheBytes);
    this.tombstones = new Tombstones(settings.tombstoneEntries, settings.tombstoneTtl);
    this.arena = SnapshotArena.create(settings.arena, self.value(), codec);
    this.tcpServer = startTcpServer(system, settings, arena);
    PeerEndpoint published =
        PeerEndpoint.shmOnly(arena.endpoint(), HostIdentity.of(settings.arena.directory()));
    if (tcpServer != null) {
      String host = settings.tcpPublicHost.isEmpty() ? artery(system) : settings.tcpPublicHost;
      published = published.withTcp(host, tcpServer.address().getPort());
    }
    this.rdmaServer = startRdmaServer(system, settings, arena);
    if (rdmaServer != null) {
      published =
          published.withRdma(
              rdmaServer.address().getAddress().getHostAddress(), rdmaServer.address().getPort());
    }
    this.endpoint = published;
    boolean readsTcp =
        settings.transport == DsmSettings.Transport.AUTO
            || settings.transport == DsmSettings.Transport.TCP;
    this.transports =
        new Transports(
            settings.transport,
            endpoint,
            new ShmTransport(codec, settings.arena.maxFrameBytes()),
            readsTcp ? new TcpTransport(codec, settings.arena.maxFrameBytes(), settings.tcp) : null,
            rdmaServer != null
                ? new RdmaTransport(
                    codec, settings.arena.maxFrameBytes(), rdmaSettings(system, settings))
                : null,
            rdmaServer != null
                ? ""
                : settings.transport == DsmSettings.Transport.SHM
                        || settings.transport == DsmSettings.Transport.TCP
                    ? "not used (pekko.dsm.transport = "
                        + settings.transport.name().toLowerCase(java.util.Locale.ROOT)
                        + ")"
                    : "unavailable: " + Rdma.unavailabilityCause().getMessage(),
            readLatencies);
    this.metrics = new Metrics(table::size, arena::liveSlots);
    Duration keep = settings.askTimeout.plus(settings.borrowTimeout).multipliedBy(3);
    this.handOvers =
        com.github.benmanes.caffeine.cache.Caffeine.newBuilder()
            .maximumWeight(64L * 1024 * 1024)
            .weigher(
                (Long k, RetainedHandOver v) ->
                    v.reply() instanceof Protocol.HandedOver h ? h.value().length + 64 : 64)
            .expireAfterWrite(keep)
            .executor(Runnable::run)
            .build();
    this.lendsGranted =
        com.github.benmanes.caffeine.cache.Caffeine.newBuilder()
            .maximumSize(100_000)
            .expireAfterWrite(keep)
            .executor(Runnable::run)
            .build();
    this.lendsCancelled =
        com.github.benmanes.caffeine.cache.Caffeine.newBuilder()
            .maximumSize(100_000)
            .expireAfterWrite(keep)
            .executor(Runnable::run)
            .build();
    this.tasks = taskExecutor(settings, self);
    this.peers =
        new PeerDirectory(
            system, self, settings.registry.fingerprint(), transports, settings.askTimeout);
  }

  /** The host Artery is bound to: where peers reach this node. */
  private static String artery(ActorSystem<?> system) {
    return system.address().getHost().orElse("127.0.0.1");
  }

  private static RdmaSettings rdmaSettings(ActorSystem<?> system, DsmSettings settings) {
    String host = settings.rdmaBindHost.isEmpty() ? artery(system) : settings.rdmaBindHost;
    RdmaSettings d = RdmaSettings.defaults(host).withPort(settings.rdmaPort);
    return new RdmaSettings(
        d.bindHost(),
        d.port(),
        d.backlog(),
        d.maxConnections(),
        settings.rdmaConnectTimeout,
        d.requestTimeout(),
        d.queueDepth(),
        d.readBufferBytes(),
        d.firstReadBytes(),
        d.eventPollInterval());
  }

  /**
   * Starts the RDMA listener when RDMA may be used and is available; null otherwise. In {@code
   * auto}, a listener that cannot start is logged and the node goes on without RDMA.
   */
  private static RdmaArenaServer startRdmaServer(
      ActorSystem<?> system, DsmSettings settings, SnapshotArena arena) {
    boolean wanted =
        settings.transport == DsmSettings.Transport.AUTO
            || settings.transport == DsmSettings.Transport.RDMA;
    if (!wanted || !Rdma.isAvailable()) {
      return null;
    }
    try {
      return RdmaArenaServer.start(arena, rdmaSettings(system, settings));
    } catch (java.io.IOException | RuntimeException e) {
      if (settings.transport == DsmSettings.Transport.RDMA) {
        arena.close();
        throw new IllegalStateException(
            "cannot start the RDMA listener (pekko.dsm.rdma): " + e.getMessage(), e);
      }
      org.slf4j.LoggerFactory.getLogger(DsmNode.class)
          .warn("RDMA is available but its listener did not start; going on without it", e);
      return null;
    }
  }

  /** Starts the tcp read server when this node may be read over tcp; null otherwise. */
  private static TcpReadServer startTcpServer(
      ActorSystem<?> system, DsmSettings settings, SnapshotArena arena) {
    if (settings.transport != DsmSettings.Transport.AUTO
        && settings.transport != DsmSettings.Transport.TCP) {
      return null;
    }
    TcpSettings tcp = settings.tcp;
    if (tcp.bindHost().isEmpty()) {
      tcp = tcp.withBindHost(artery(system));
    }
    try {
      return TcpReadServer.start(arena, tcp);
    } catch (IllegalArgumentException e) { // exposed without a secret: says what to set
      arena.close();
      throw e;
    } catch (java.io.IOException e) {
      arena.close();
      throw new java.io.UncheckedIOException(
          "cannot start the tcp read server on "
              + tcp.bindHost()
              + ":"
              + tcp.port()
              + " (pekko.dsm.tcp.bind-host, pekko.dsm.tcp.port): "
              + e.getMessage(),
          e);
    }
  }

  /** What this node publishes so that peers can read its arena. */
  public PeerEndpoint endpoint() {
    return endpoint;
  }

  /** The transport chosen for each peer read so far. */
  public java.util.Map<NodeId, String> transportsInUse() {
    return transports.chosen();
  }

  /** Latencies of this node's one-sided reads, per transport. */
  public dev.pekkodsm.metrics.ReadLatencies readLatencies() {
    return readLatencies;
  }

  /** The tcp read server, or null if this node runs none. */
  public TcpReadServer tcpServer() {
    return tcpServer;
  }

  /**
   * The task threads: a fork-join pool of {@code tasks.threads} that adds a thread (up to {@code
   * tasks.max-threads}) whenever one blocks waiting for a DSM operation, since the operation may
   * itself need a task thread of this node (a task updating a mutex homed here whose lock another
   * task holds). A fixed pool would stall until the tasks' deadlines.
   */
  private static java.util.concurrent.ForkJoinPool taskExecutor(DsmSettings settings, NodeId self) {
    AtomicLong threadIds = new AtomicLong();
    return new java.util.concurrent.ForkJoinPool(
        settings.taskThreads,
        pool -> {
          java.util.concurrent.ForkJoinWorkerThread t =
              java.util.concurrent.ForkJoinPool.defaultForkJoinWorkerThreadFactory.newThread(pool);
          t.setName("pekko-dsm-task-" + self.hex() + "-" + threadIds.incrementAndGet());
          t.setDaemon(true);
          return t;
        },
        (thread, e) -> log.error("a task thread died", e),
        true, // FIFO: tasks start in the order they arrive
        0,
        Math.max(settings.taskThreads, settings.taskMaxThreads),
        1,
        pool -> true, // at the cap, a blocked task simply waits
        30,
        TimeUnit.SECONDS);
  }

  void region(ActorRef<Protocol.OwnerCommand> region) {
    this.region = region;
  }

  public NodeId self() {
    return self;
  }

  public DsmSettings settings() {
    return settings;
  }

  public Metrics metrics() {
    return metrics;
  }

  public ReadCache cache() {
    return cache;
  }

  public KryoPool kryo() {
    return kryo;
  }

  public HandleCodec handles() {
    return handles;
  }

  public SnapshotArena arena() {
    return arena;
  }

  /** Where continuations of asynchronous operations run: the system's default dispatcher. */
  public Executor executor() {
    return system.executionContext();
  }

  public ActorSystem<?> system() {
    return system;
  }

  PeerDirectory peers() {
    return peers;
  }

  /** {@code pekko.dsm.borrow-timeout} in nanoseconds. */
  public long borrowTimeoutNanos() {
    return settings.borrowTimeout.toNanos();
  }

  long borrowTimeoutNs() {
    return settings.borrowTimeout.toNanos();
  }

  /**
   * Completes when this node can read {@code peer}'s arena: its endpoint is fetched and a transport
   * opened. Fails with the reason if it cannot be.
   */
  public CompletableFuture<Void> awaitPeer(NodeId peer) {
    // Object id 0 is never allocated: the question reaches the peer's shard (so this node's
    // region learns where that shard lives) and is answered at once, changing nothing.
    GlobalAddress nobody = new GlobalAddress(peer, 0, 0);
    CompletableFuture<Protocol.Reply> routed =
        ask(
            nobody,
            replyTo -> new Protocol.Confirm(peer.value(), 0, 0, self.value(), replyTo),
            settings.askTimeout,
            "reach the owners of");
    return peers.reader(peer).thenCombine(routed, (reader, reply) -> null);
  }

  /** True if {@code node} has left the cluster. */
  public boolean isDeparted(NodeId node) {
    return peers.isDeparted(node);
  }

  // ---------------------------------------------------------------- the object table

  /** A fresh id for a request that may be retried; unique while this node lives. */
  public long nextRequestId() {
    return nextRequestId.getAndIncrement();
  }

  /** A hand-over's answer, kept briefly so that a writer who missed it can ask again. */
  record RetainedHandOver(long requester, long newObject, Protocol.Reply reply) {}

  /** A lend request, by the node that made it and its request id. */
  record LendKey(long holder, long requestId) {}

  void retainHandOver(long object, long requester, long newObject, Protocol.Reply reply) {
    handOvers.put(object, new RetainedHandOver(requester, newObject, reply));
  }

  /** The answer of an object's hand-over to exactly this writer and new id, or null. */
  Protocol.Reply retainedHandOver(long object, long requester, long newObject) {
    RetainedHandOver r = handOvers.getIfPresent(object);
    return r != null && r.requester() == requester && r.newObject() == newObject ? r.reply() : null;
  }

  /** Remembers a granted lend so a retried request gets the same lend, not a second one. */
  void lendGranted(LendKey key, Protocol.Lent lent) {
    lendsGranted.put(key, lent);
  }

  Protocol.Lent lendAlreadyGranted(LendKey key) {
    return lendsGranted.getIfPresent(key);
  }

  /** The requester gave up on a lend: return it if granted, refuse it if granted later. */
  Protocol.Lent cancelLend(LendKey key) {
    lendsCancelled.put(key, Boolean.TRUE);
    Protocol.Lent granted = lendsGranted.getIfPresent(key);
    lendsGranted.invalidate(key);
    return granted;
  }

  /** The requester gave up on request {@code key}: refuse it if it is granted later. */
  void markCancelled(LendKey key) {
    lendsCancelled.put(key, Boolean.TRUE);
  }

  boolean lendCancelled(LendKey key) {
    return lendsCancelled.getIfPresent(key) != null;
  }

  /** A fresh object id; ids are never reused while this node lives. */
  public long nextObjectId() {
    return nextObjectId.getAndIncrement();
  }

  /** Registers a new object homed here, at color 0. */
  public OwnedObject allocate(Object value) {
    return allocate(nextObjectId(), value);
  }

  /** Registers a new object homed here under a pre-allocated id, at color 0. */
  public OwnedObject allocate(long objectId, Object value) {
    OwnedObject obj = new OwnedObject(self, objectId, 0, value, timing, arena::free);
    table.put(objectId, obj);
    return obj;
  }

  /**
   * Registers a new object in shared ownership ({@code Arc}), whose first owner (this node) holds
   * {@code weight}. It is dropped when the last owner's weight comes back.
   */
  public OwnedObject allocateShared(Object value, long weight) {
    OwnedObject obj = new OwnedObject(self, nextObjectId(), 0, value, timing, arena::free);
    obj.boxHolder(null); // no box owns it: a departing node cannot orphan it
    obj.shareOwnership(self, weight, () -> dropUnowned(obj));
    table.put(obj.objectId(), obj);
    return obj;
  }

  /**
   * Puts an object in shared ownership: the caller holds its exclusive borrow (the box that owned
   * it is gone), and {@code owner} becomes its first owner.
   */
  public void shareOwnership(OwnedObject obj, NodeId owner, long weight) {
    obj.boxHolder(null); // no box owns it any more: a departing node cannot orphan it
    obj.shareOwnership(owner, weight, () -> dropUnowned(obj));
  }

  private void dropUnowned(OwnedObject obj) {
    retire(obj, BorrowState.Phase.DROPPED, null);
  }

  /**
   * Registers an object that just moved here, already exclusively borrowed by the writer that moved
   * it, so nothing can slip in before the write.
   */
  public OwnedObject allocateExclusive(long objectId, Object value) {
    OwnedObject obj = new OwnedObject(self, objectId, 0, value, timing, arena::free);
    obj.tryAcquire(BorrowState.Kind.EXCLUSIVE, null, 0, "the write that moved it here");
    table.put(objectId, obj);
    return obj;
  }

  /**
   * A record that only orders the borrows made through one box whose object lives elsewhere: reads
   * against a write through the same box.
   */
  public OwnedObject newGuard(GlobalAddress remote) {
    return new OwnedObject(
        remote.node(), remote.object(), remote.color(), null, timing, locator -> {});
  }

  /**
   * A hash of a value's serialized form, for debug-mode detection of mutation during a shared
   * borrow. Never 0.
   */
  public long fingerprint(Object value) {
    byte[] bytes = kryo.toBytes(value, Purpose.FINGERPRINT);
    java.util.zip.CRC32C crc = new java.util.zip.CRC32C();
    crc.update(bytes);
    long h = (crc.getValue() << 32) ^ bytes.length ^ java.util.Arrays.hashCode(bytes);
    return h == 0 ? 1 : h;
  }

  /** The object homed here with this id, or null. */
  public OwnedObject object(long objectId) {
    return table.get(objectId);
  }

  /** Objects homed here now. */
  public int objectCount() {
    return table.size();
  }

  /**
   * Ends an object's life here (the caller holds its exclusive borrow, or it is lost) and leaves a
   * tombstone so that late requests get a precise answer.
   */
  public void retire(OwnedObject obj, BorrowState.Phase phase, GlobalAddress movedTo) {
    GlobalAddress last = obj.address();
    obj.retire(phase);
    table.remove(last.object(), obj);
    tombstones.record(last.object(), new Tombstones.Tombstone(phase, last, movedTo));
  }

  /** What became of an object no longer in the table, or null if nothing is remembered. */
  public Tombstones.Tombstone tombstone(long objectId) {
    return tombstones.find(objectId);
  }

  /**
   * Ends an exclusive borrow after a write. If the color ran out, the object is re-filed under a
   * new id so that no cached copy can ever match its new address.
   */
  public void endWrite(OwnedObject obj) {
    metrics.localWrites.increment();
    long previous = obj.endWrite(this::nextObjectId);
    if (previous >= 0) {
      table.put(obj.objectId(), obj);
      table.remove(previous, obj);
    }
  }

  // ---------------------------------------------------------------- snapshots

  /** A published snapshot. */
  public record Snapshot(long locator, int frameBytes) {}

  /**
   * Makes sure the object's current color is published in the arena. The caller must hold a borrow
   * (shared, lent or exclusive) so that the value and color do not change meanwhile.
   */
  public Snapshot ensurePublished(OwnedObject obj) {
    long locator = obj.locator();
    if (locator != 0) {
      return new Snapshot(locator, obj.snapshotBytes());
    }
    if (obj.value() instanceof AtomicCell cell) {
      cell.ensurePublished(this, obj);
      return new Snapshot(obj.locator(), obj.snapshotBytes());
    }
    GlobalAddress a = obj.address();
    long[] published = new long[2];
    codec.encode(
        obj.value(),
        self.value(),
        a.object(),
        a.color(),
        Purpose.SNAPSHOT,
        (frame, length) -> {
          published[0] = arena.publish(frame, length);
          published[1] = length;
          return null;
        });
    metrics.snapshotsPublished.increment();
    long effective = obj.published(a.color(), published[0], (int) published[1]);
    if (effective == 0) {
      throw new IllegalStateException("object " + a + " changed while being published");
    }
    return new Snapshot(effective, obj.snapshotBytes());
  }

  /**
   * Writes {@code value} as the snapshot of {@code obj} at {@code version}, in place when it fits
   * its slot (readers see the old or the new frame, never a mix), in a new slot otherwise. For
   * objects whose snapshot always shows the latest committed value (a mutex, an atomic): the
   * frame's color field carries the version. The caller serializes calls per object.
   */
  public void republish(OwnedObject obj, Object value, int version) {
    long object = obj.objectId();
    codec.encode(
        value,
        self.value(),
        object,
        version,
        Purpose.SNAPSHOT,
        (frame, length) -> {
          long current = obj.locator();
          if (current == 0 || !arena.rewrite(current, frame, length)) {
            obj.relocate(arena.publish(frame, length), length);
          }
          return null;
        });
    metrics.snapshotsPublished.increment();
  }

  /** The latest snapshot of an object rewritten in place, and its version. */
  public record Latest(Object value, int version) {}

  /**
   * Reads the latest snapshot of an object whose home rewrites it in place, one-sided (from this
   * node's own arena if it is the home). Completes exceptionally with {@link
   * StaleReferenceException} if the slot was given up (the snapshot outgrew it, or the object is
   * gone): ask the home where it is now.
   */
  public CompletableFuture<Latest> readLatest(GlobalAddress address, long locator) {
    return readLatest(address, locator, false);
  }

  /**
   * {@link #readLatest}, for a caller that only reads the value: a version this node already
   * decoded is not decoded again. The copy is checked as always; then the version in its header,
   * with the object, is a colored address no other content will ever have, and the value decoded
   * for it is kept in the read cache and shared by every such read here. The value must not be
   * modified.
   */
  public CompletableFuture<Latest> readShared(GlobalAddress address, long locator) {
    return readLatest(address, locator, true);
  }

  private CompletableFuture<Latest> readLatest(
      GlobalAddress address, long locator, boolean shared) {
    if (address.node().equals(self)) {
      try {
        Latest known = shared ? known(address, arena.peekColor(locator, address.object())) : null;
        if (known != null) {
          return CompletableFuture.completedFuture(known);
        }
        return CompletableFuture.completedFuture(
            decodeLatest(
                address,
                arena.read(locator, address.object(), SnapshotCodec.ANY_COLOR, readBuffers.get()),
                shared));
      } catch (RuntimeException e) {
        return CompletableFuture.failedFuture(e);
      }
    }
    if (peers.isDeparted(address.node())) {
      return CompletableFuture.failedFuture(lost(address));
    }
    return peers
        .reader(address.node())
        .thenApply(
            reader -> {
              long deadlineNs = System.nanoTime() + settings.askTimeout.toNanos();
              if (shared) {
                Latest known =
                    known(address, reader.peekColor(locator, address.object(), deadlineNs));
                if (known != null) {
                  metrics.oneSidedRead(reader, SnapshotCodec.HEADER_BYTES);
                  return known;
                }
              }
              ReadStatus status =
                  reader.read(
                      locator,
                      address.object(),
                      SnapshotCodec.ANY_COLOR,
                      readBuffers.get(),
                      deadlineNs);
              if (status == ReadStatus.OK) {
                metrics.oneSidedRead(reader, readBuffers.get().length());
              }
              return decodeLatest(address, status, shared);
            });
  }

  /**
   * The value of {@code address}'s object at version {@code color} if this node has decoded that
   * version before, else null ({@code color} is -1 when the transport could not tell it).
   */
  private Latest known(GlobalAddress address, long color) {
    if (color < 0) {
      return null;
    }
    int version = (int) color;
    ReadCache.Entry entry = cache.peek(address.withColor(version));
    if (entry == null) {
      return null;
    }
    metrics.cacheHits.increment();
    return new Latest(entry.value(), version);
  }

  private Latest decodeLatest(GlobalAddress address, ReadStatus status, boolean shared) {
    ReadBuffer buffer = readBuffers.get();
    if (status == ReadStatus.OK) {
      int version = SnapshotCodec.color(buffer.bytes(), 0);
      GlobalAddress colored = shared ? address.withColor(version) : null;
      if (shared) {
        ReadCache.Entry known = cache.peek(colored);
        if (known != null) {
          metrics.cacheHits.increment();
          return new Latest(known.value(), version);
        }
      }
      Object value =
          kryo.fromBytes(
              buffer.bytes(),
              SnapshotCodec.HEADER_BYTES,
              buffer.length() - SnapshotCodec.HEADER_BYTES,
              Purpose.SNAPSHOT);
      if (shared) {
        cache.offer(colored, value, buffer.length());
      }
      return new Latest(value, version);
    }
    if (status == ReadStatus.FREED || status == ReadStatus.STALE) {
      if (peers.isDeparted(address.node())) {
        throw lost(address);
      }
      throw new StaleReferenceException(
          address, "the snapshot of " + address.objectName() + " is no longer at this slot");
    }
    throw unreadable(address, status);
  }

  /** The exception for a one-sided read that ended in anything but a copy or a freed slot. */
  private RuntimeException unreadable(GlobalAddress address, ReadStatus status) {
    if (peers.isDeparted(address.node())) {
      return lost(address);
    }
    return switch (status) {
      case UNAVAILABLE ->
          new DsmException(
              address, "cannot read the arena of " + address.node() + " (its transport is down)");
      case TIMED_OUT ->
          new DsmTimeoutException(
              address,
              address.node() + " did not answer the read of " + address + " in time",
              null);
      case CONTENDED ->
          new DsmTimeoutException(
              address, "the snapshot slot of " + address + " stayed locked by a writer", null);
      default ->
          new CorruptSnapshotException(
              address,
              "the snapshot of " + address + " at its home failed its checks (" + status + ")",
              null);
    };
  }

  /** Serializes a value as a snapshot payload (no handle may be inside). */
  public byte[] encodeSnapshotValue(Object value) {
    return kryo.toBytes(value, Purpose.SNAPSHOT);
  }

  /** Deserializes a snapshot payload. */
  public Object decodeSnapshotValue(byte[] bytes) {
    return kryo.fromBytes(bytes, 0, bytes.length, Purpose.SNAPSHOT);
  }

  /** Registers a new mutex homed here, owned by this node, and publishes its first snapshot. */
  public OwnedObject allocateMutex(Object value, long weight) {
    MutexCell cell = new MutexCell(value);
    OwnedObject obj = allocateShared(cell, weight);
    cell.publishInitial(this, obj);
    return obj;
  }

  /** Serializes a value for a move (its nested handles move with it). */
  public byte[] encodeForMove(Object value) {
    return kryo.toBytes(value, Purpose.MOVE);
  }

  /** Deserializes a moved value. */
  public Object decodeMoved(byte[] bytes) {
    return kryo.fromBytes(bytes, 0, bytes.length, Purpose.MOVE);
  }

  /**
   * Pins the cached copy of {@code address}, reading it one-sided from its home if it is not
   * cached. Never returns a copy of another color. Blocks only the first time a peer is read, while
   * its arena endpoint is fetched.
   *
   * @throws StaleReferenceException if the home no longer has that color
   * @throws ObjectLostException if the home left the cluster
   * @throws CorruptSnapshotException if the bytes failed their checks
   */
  public ReadCache.Entry pin(GlobalAddress address, long locator) {
    return await(pinAsync(address, locator), address, "read " + address, cache::unpin);
  }

  /** {@link #pin} without blocking: completes at once unless the peer's endpoint is unknown. */
  public CompletableFuture<ReadCache.Entry> pinAsync(GlobalAddress address, long locator) {
    ReadCache.Entry hit = cache.pin(address);
    if (hit != null) {
      metrics.cacheHits.increment();
      return CompletableFuture.completedFuture(hit);
    }
    if (peers.isDeparted(address.node())) {
      return CompletableFuture.failedFuture(lost(address));
    }
    CompletableFuture<PeerReader> reader = peers.reader(address.node());
    if (reader.isDone() && !reader.isCompletedExceptionally()) {
      try {
        return CompletableFuture.completedFuture(readInto(reader.join(), address, locator));
      } catch (RuntimeException e) {
        return CompletableFuture.failedFuture(e);
      }
    }
    return reader.handle(
        (r, failure) -> {
          if (failure != null) {
            throw peers.isDeparted(address.node())
                ? lost(address)
                : new DsmException(
                    address, "cannot read " + address + ": " + rootMessage(failure), failure);
          }
          return readInto(r, address, locator);
        });
  }

  private static String rootMessage(Throwable t) {
    while (t.getCause() != null && t instanceof CompletionException) {
      t = t.getCause();
    }
    return t.getMessage();
  }

  private ReadCache.Entry readInto(PeerReader reader, GlobalAddress address, long locator) {
    ReadBuffer buffer = readBuffers.get();
    long deadline = System.nanoTime() + settings.askTimeout.toNanos();
    ReadStatus status = reader.read(locator, address.object(), address.color(), buffer, deadline);
    switch (status) {
      case OK -> {
        metrics.oneSidedRead(reader, buffer.length());
        Object value;
        try {
          value =
              kryo.fromBytes(
                  buffer.bytes(),
                  SnapshotCodec.HEADER_BYTES,
                  buffer.length() - SnapshotCodec.HEADER_BYTES,
                  Purpose.SNAPSHOT);
        } catch (SnapshotFormatException e) {
          throw new CorruptSnapshotException(
              address,
              "the snapshot of "
                  + address
                  + " passed its checksum but cannot be decoded ("
                  + e.getMessage()
                  + "); are the class registries of "
                  + self
                  + " and "
                  + address.node()
                  + " the same?",
              e);
        }
        return cache.install(address, value, buffer.length());
      }
      case FREED, STALE -> {
        metrics.staleRejections.increment();
        if (peers.isDeparted(address.node())) {
          throw lost(address);
        }
        throw new StaleReferenceException(
            address,
            "object "
                + address.objectName()
                + " no longer has color "
                + address.color()
                + " at its home (it was written, moved or dropped); ask its owner for a new "
                + "reference");
      }
      default -> throw unreadable(address, status);
    }
  }

  /**
   * Serializes an object being handed over, once (its nested handles move with it). Small values
   * travel in the reply; large ones wait in the arena for a one-sided read, because a message frame
   * is bounded.
   */
  Protocol.Reply handOverValue(OwnedObject obj) {
    GlobalAddress a = obj.address();
    return codec.encode(
        obj.value(),
        self.value(),
        a.object(),
        a.color(),
        Purpose.MOVE,
        (frame, length) -> {
          int payload = length - SnapshotCodec.HEADER_BYTES;
          if (payload <= settings.moveInlineBytes) {
            byte[] bytes = new byte[payload];
            System.arraycopy(frame, SnapshotCodec.HEADER_BYTES, bytes, 0, payload);
            return new Protocol.HandedOver(bytes);
          }
          long locator = arena.publish(frame, length);
          long keepNs = 2 * (settings.askTimeout.toNanos() + settings.borrowTimeout.toNanos());
          moveSlots.put(locator, timing.schedule(keepNs, () -> collectMoveSlot(locator)));
          return new Protocol.HandedOverAt(a.color(), locator, length);
        });
  }

  /** Frees a slot left for a large move, once; unknown locators are ignored. */
  void collectMoveSlot(long locator) {
    var pending = moveSlots.remove(locator);
    if (pending != null) {
      pending.cancel();
      arena.free(locator);
    }
  }

  /**
   * Copies a large moved value out of its old home's arena, then tells the home to free the slot.
   */
  public CompletableFuture<Object> fetchMoved(GlobalAddress from, Protocol.HandedOverAt at) {
    return peers
        .reader(from.node())
        .handle(
            (reader, failure) -> {
              ReadStatus status = ReadStatus.UNAVAILABLE;
              ReadBuffer buffer = new ReadBuffer(at.frameBytes());
              if (failure == null) {
                status =
                    reader.read(
                        at.locator(),
                        from.object(),
                        at.color(),
                        buffer,
                        System.nanoTime() + settings.askTimeout.toNanos());
              }
              tell(new Protocol.Collected(from.node().value(), from.object(), at.locator()));
              if (status != ReadStatus.OK) {
                if (peers.isDeparted(from.node())) {
                  throw lost(from);
                }
                throw new CorruptSnapshotException(
                    from,
                    "the moved value of "
                        + from
                        + " could not be read from its old home ("
                        + status
                        + "); the object is lost",
                    failure);
              }
              metrics.oneSidedRead(reader, buffer.length());
              return kryo.fromBytes(
                  buffer.bytes(),
                  SnapshotCodec.HEADER_BYTES,
                  buffer.length() - SnapshotCodec.HEADER_BYTES,
                  Purpose.MOVE);
            });
  }

  // ---------------------------------------------------------------- messages to homes

  /**
   * A plain future completed on the thread that completes {@code stage}. Futures from Pekko's Java
   * ask run even non-async callbacks on the common pool, which on a machine with one or two
   * processors means a new thread per reply; everything derived from them inherits that.
   */
  public static <T> CompletableFuture<T> plain(java.util.concurrent.CompletionStage<T> stage) {
    CompletableFuture<T> out = new CompletableFuture<>();
    stage.whenCompleteAsync(
        (value, failure) -> {
          if (failure != null) {
            out.completeExceptionally(failure);
          } else {
            out.complete(value);
          }
        },
        Runnable::run);
    return out;
  }

  /** Sends a one-way message to an object's owner entity. */
  public void tell(Protocol.OwnerCommand message) {
    region.tell(message);
  }

  /**
   * Asks an object's owner entity; fails fast with {@link ObjectLostException} if the home leaves,
   * with {@link DsmTimeoutException} after {@code timeout}.
   */
  public CompletableFuture<Protocol.Reply> ask(
      GlobalAddress target,
      Function<ActorRef<Protocol.Reply>, Protocol.OwnerCommand> request,
      Duration timeout,
      String what) {
    return tracked(
        target.node(),
        target,
        () -> lost(target),
        () ->
            AskPattern.<Protocol.OwnerCommand, Protocol.Reply>ask(
                region, request::apply, timeout, system.scheduler()),
        timeout,
        what + " " + target);
  }

  /**
   * Asks a node's DSM actor; fails fast with {@link DsmException} if the node leaves, with {@link
   * DsmTimeoutException} after {@code timeout}.
   */
  CompletableFuture<Protocol.Reply> askNode(
      NodeId target,
      Function<ActorRef<Protocol.Reply>, Protocol.NodeCommand> request,
      Duration timeout,
      String what) {
    return tracked(
        target,
        null,
        () -> new DsmException(null, target + " left the cluster before it could " + what),
        () ->
            peers
                .address(target)
                .exceptionally(
                    failure -> {
                      throw new DsmException(
                          null, target + " is not a member of the cluster: cannot " + what);
                    })
                .thenCompose(
                    address ->
                        AskPattern.<Protocol.NodeCommand, Protocol.Reply>ask(
                            peers.nodeActor(address), request::apply, timeout, system.scheduler())),
        timeout,
        what);
  }

  /**
   * A request to {@code node}, failed at once with {@code gone} if the node leaves the cluster
   * before the answer, and with {@link DsmTimeoutException} after {@code timeout}.
   */
  private CompletableFuture<Protocol.Reply> tracked(
      NodeId node,
      GlobalAddress target,
      java.util.function.Supplier<RuntimeException> gone,
      java.util.function.Supplier<java.util.concurrent.CompletionStage<Protocol.Reply>> send,
      Duration timeout,
      String what) {
    if (peers.isDeparted(node)) {
      return CompletableFuture.failedFuture(gone.get());
    }
    CompletableFuture<Protocol.Reply> result = new CompletableFuture<>();
    Map<CompletableFuture<?>, java.util.function.Supplier<RuntimeException>> pending =
        inFlight.computeIfAbsent(node, n -> new ConcurrentHashMap<>());
    pending.put(result, gone);
    plain(send.get())
        .whenComplete(
            (reply, failure) -> {
              pending.remove(result);
              if (failure == null) {
                result.complete(reply);
              } else if (peers.isDeparted(node)) {
                result.completeExceptionally(gone.get());
              } else if (failure instanceof TimeoutException
                  || failure.getCause() instanceof TimeoutException) {
                result.completeExceptionally(
                    new DsmTimeoutException(
                        target,
                        "no answer from "
                            + node
                            + " within "
                            + timeout.toMillis()
                            + " ms to "
                            + what
                            + "; the node may be unreachable, or too busy to answer",
                        failure));
              } else {
                result.completeExceptionally(failure);
              }
            });
    if (peers.isDeparted(node)) {
      result.completeExceptionally(gone.get());
    }
    return result;
  }

  // ---------------------------------------------------------------- tasks

  /** The node whose task the calling thread is running, or null. */
  public static DsmNode running() {
    return RUNNING.get();
  }

  /**
   * Serializes a task or a function to ship it (or to run it here exactly as if shipped): what it
   * captures moves with it, handles included.
   *
   * @throws IllegalArgumentException if it is not serializable, captures a value of an unregistered
   *     class, or is larger than {@code pekko.dsm.move.inline-limit}; nothing it captured has moved
   */
  public byte[] encodeShipped(Object fn, String what) {
    return encodeShipped(fn, what, false);
  }

  /**
   * {@link #encodeShipped} for a function that will run several times (once per chunk of a vector):
   * the same bytes are sent to each run, so it may not capture a handle.
   */
  public byte[] encodeShippedToMany(Object fn, String what) {
    return encodeShipped(fn, what, true);
  }

  private byte[] encodeShipped(Object fn, String what, boolean many) {
    Objects.requireNonNull(fn, what);
    HandleCodec.Scope scope = handles.openScope();
    byte[] bytes;
    try {
      bytes = kryo.toBytes(fn, Purpose.MOVE);
    } catch (RuntimeException e) {
      scope.rollback();
      throw new IllegalArgumentException("cannot ship " + what + ": " + e.getMessage(), e);
    }
    if (many && scope.touchedHandles()) {
      scope.rollback();
      throw new IllegalArgumentException(
          what
              + " runs once per chunk and so cannot capture a handle (it would move with the"
              + " first run only): capture values, or read the handle before the call");
    }
    if (bytes.length > settings.moveInlineBytes) {
      scope.rollback();
      throw new IllegalArgumentException(
          what
              + " serializes to "
              + bytes.length
              + " bytes, above pekko.dsm.move.inline-limit ("
              + settings.moveInlineBytes
              + "): capture a DArc or DBox of large data, not the data");
    }
    scope.commit();
    return bytes;
  }

  /** A shipped task or function, and how to let go of the handles it carried once it is done. */
  private record Shipped(Object value, HandleCodec.Scope scope) {
    void done() {
      scope.releaseImported();
    }
  }

  /**
   * Deserializes a task or function to run it. Like a Rust closure that owns what it captured, the
   * handles it carried are dropped or released by {@link Shipped#done} when the run is over, unless
   * the run sent them on or returned them.
   */
  private Shipped decodeTask(byte[] bytes) {
    HandleCodec.Scope scope = handles.openScope();
    try {
      Object value = kryo.fromBytes(bytes, 0, bytes.length, Purpose.MOVE);
      scope.commit();
      return new Shipped(value, scope);
    } catch (RuntimeException e) {
      scope.rollback();
      throw e;
    }
  }

  /**
   * A task or function that was serialized but will never run (its target refused it, or it never
   * left): the handles it carried are let go of here, as if it had run and returned nothing.
   */
  public void discardShipped(byte[] bytes) {
    discardTask(bytes);
  }

  /** A task that will never run: what it carried is let go of here. */
  private void discardTask(byte[] bytes) {
    try {
      decodeTask(bytes).done();
    } catch (RuntimeException e) {
      log.debug(
          "a task that did not run could not be read to let go of its handles: {}", e.toString());
    }
  }

  /** A result nobody will read (its caller gave up): the handles in it are let go of here. */
  private void discardResult(Protocol.TaskResult r) {
    if (!r.failed() && r.result().length > 0) {
      discardTask(r.result());
    }
  }

  /** Deserializes something shipped; handles it carried are given back if it cannot be read. */
  private Object decodeShipped(byte[] bytes) {
    HandleCodec.Scope scope = handles.openScope();
    try {
      Object value = kryo.fromBytes(bytes, 0, bytes.length, Purpose.MOVE);
      scope.commit();
      return value;
    } catch (RuntimeException e) {
      scope.rollback();
      throw e;
    }
  }

  /**
   * The node to run a task on: the Up member with the fewest tasks, counting those this node has
   * sent it and not seen end plus the load it reported with its last result within the last second
   * (this node counts what it is running). Ties go round-robin, so with no load at all tasks are
   * dealt in turn.
   */
  public NodeId placeTask() {
    java.util.List<NodeId> members = peers.upMembers();
    int n = members.size();
    int start = (int) Math.floorMod(placementTurn.getAndIncrement(), (long) n);
    NodeId best = null;
    long bestLoad = Long.MAX_VALUE;
    for (int i = 0; i < n; i++) {
      NodeId candidate = members.get((start + i) % n);
      long load;
      if (candidate.equals(self)) {
        load = tasksRunning.get();
      } else {
        AtomicInteger sent = tasksSent.get(candidate);
        Report report = reportedLoad.get(candidate);
        boolean fresh = report != null && System.nanoTime() - report.atNanos() < REPORT_TTL_NANOS;
        load = (sent == null ? 0 : sent.get()) + (fresh ? report.load() : 0);
      }
      if (load < bestLoad) {
        best = candidate;
        bestLoad = load;
      }
    }
    return best;
  }

  /** Tasks running or queued on this node now. */
  public int taskLoad() {
    return tasksRunning.get();
  }

  /** Runs a shipped task on {@code target} (which may be this node). */
  public CompletableFuture<Protocol.TaskResult> spawn(NodeId target, byte[] task) {
    if (target.equals(self)) {
      return withTaskDeadline(runTask(task), null, "a task on " + self);
    }
    return counted(
            target,
            askNode(
                target,
                replyTo -> new Protocol.Spawn(task, replyTo),
                settings.taskTimeout,
                "run a task"))
        .thenApply(
            reply -> {
              if (reply instanceof Protocol.TaskResult r) {
                return r;
              }
              throw new DsmException(null, target + " refused a task: " + reply);
            });
  }

  /**
   * Runs a shipped function on an object at its home, under the borrow {@code mode} needs. The
   * answer is a {@link Protocol.TaskResult} or a {@link Protocol.Refused}.
   */
  public CompletableFuture<Protocol.Reply> runAt(
      GlobalAddress at, Protocol.RunMode mode, byte[] fn) {
    if (at.node().equals(self)) {
      OwnedObject obj = object(at.object());
      if (obj == null) {
        return CompletableFuture.completedFuture(goneReason(at.object()));
      }
      return withTaskDeadline(runAt(obj, at.color(), mode, fn, false), at, "a task at " + at);
    }
    return counted(
        at.node(),
        ask(
            at,
            replyTo ->
                new Protocol.RunAt(at.node().value(), at.object(), at.color(), mode, fn, replyTo),
            settings.taskTimeout,
            "run a task at"));
  }

  /**
   * Runs a shipped function on an object homed here whose borrow the caller holds (exclusive for a
   * {@code write} in place, shared otherwise); the borrow ends with the run.
   */
  public CompletableFuture<Protocol.TaskResult> runHere(OwnedObject obj, boolean write, byte[] fn) {
    Protocol.RunMode mode = write ? Protocol.RunMode.WRITE : Protocol.RunMode.SHARED;
    return withTaskDeadline(
        runHeld(obj, mode, fn, false), obj.address(), "a task at " + obj.address());
  }

  /**
   * Waits for the result of tasks: as long as a task may take ({@code pekko.dsm.tasks.timeout})
   * plus a lock or borrow wait and a request.
   */
  public <T> T awaitTasks(CompletableFuture<T> future, GlobalAddress address, String what) {
    Duration budget =
        settings.taskTimeout.plus(settings.borrowTimeout).plus(settings.askTimeout).plusSeconds(1);
    return awaitWithin(future, budget, address, what, ignored -> {});
  }

  /** The Up members, this node included, in a fixed order. */
  public java.util.List<NodeId> upMembers() {
    return peers.upMembers();
  }

  /**
   * A local task's answer is awaited as long as a remote one's: {@code pekko.dsm.tasks.timeout}.
   */
  private <R> CompletableFuture<R> withTaskDeadline(
      CompletableFuture<R> local, GlobalAddress at, String what) {
    if (local.isDone()) {
      return local;
    }
    long millis = settings.taskTimeout.toMillis();
    CompletableFuture<R> out = new CompletableFuture<>();
    java.util.concurrent.atomic.AtomicBoolean settled =
        new java.util.concurrent.atomic.AtomicBoolean();
    dev.pekkodsm.coherence.Timing.Cancellable deadline =
        timing.schedule(
            settings.taskTimeout.toNanos(),
            () -> {
              if (settled.compareAndSet(false, true)) {
                out.completeExceptionally(
                    new DsmTimeoutException(
                        at,
                        what + " did not end within " + millis + " ms (pekko.dsm.tasks.timeout)",
                        null));
              }
            });
    local.whenComplete(
        (value, failure) -> {
          if (settled.compareAndSet(false, true)) {
            deadline.cancel();
            if (failure != null) {
              out.completeExceptionally(failure);
            } else {
              out.complete(value);
            }
          } else if (value instanceof Protocol.TaskResult r) {
            discardResult(r); // nobody will read it: what it carried is let go of
          }
        });
    return out;
  }

  private <R> CompletableFuture<R> counted(NodeId target, CompletableFuture<R> request) {
    AtomicInteger sent = tasksSent.computeIfAbsent(target, n -> new AtomicInteger());
    sent.incrementAndGet();
    return request.whenComplete(
        (reply, failure) -> {
          sent.decrementAndGet();
          if (reply instanceof Protocol.TaskResult r) {
            reportedLoad.put(target, new Report(r.load(), System.nanoTime()));
          }
        });
  }

  /** Runs a shipped task here. Never fails: a task that throws completes with its error. */
  public CompletableFuture<Protocol.TaskResult> runTask(byte[] task) {
    return submit(
        () -> {
          Shipped shipped = decodeTask(task);
          try {
            if (!(shipped.value() instanceof java.util.concurrent.Callable<?> callable)) {
              throw new IllegalArgumentException(
                  "not a task: "
                      + (shipped.value() == null ? "null" : shipped.value().getClass().getName()));
            }
            try {
              return outcome(callable.call(), null);
            } catch (Exception e) {
              return outcome(null, e);
            }
          } finally {
            shipped.done();
          }
        },
        () -> discardTask(task));
  }

  /**
   * Runs a shipped function on an object homed here, once the borrow its mode needs is granted.
   * {@code remote}: the caller is on another node, so after a write the new color is published for
   * it. Never fails: a refusal or the function's error is the answer.
   */
  CompletableFuture<Protocol.Reply> runAt(
      OwnedObject obj, int color, Protocol.RunMode mode, byte[] fn, boolean remote) {
    GlobalAddress address = obj.address();
    boolean mutex = obj.value() instanceof MutexCell;
    boolean locked = mode == Protocol.RunMode.LOCKED || mode == Protocol.RunMode.LOCKED_REPLACE;
    if (locked != mutex || (mode == Protocol.RunMode.WRITE && obj.sharedOwnership())) {
      return CompletableFuture.completedFuture(
          Protocol.Refused.of(
              Protocol.Reason.FAILED,
              "object " + address.objectName() + " cannot run a task in mode " + mode));
    }
    if (!mutex && address.color() != color) {
      return CompletableFuture.completedFuture(
          Protocol.Refused.of(
              Protocol.Reason.STALE,
              "a task for "
                  + address.objectName()
                  + " at color "
                  + color
                  + " arrived at color "
                  + address.color()));
    }
    BorrowState.Kind kind =
        mode == Protocol.RunMode.SHARED ? BorrowState.Kind.SHARED : BorrowState.Kind.EXCLUSIVE;
    return obj.acquire(kind, null, 0, "a task", borrowTimeoutNs())
        .handle(
            (granted, failure) ->
                failure != null
                    ? CompletableFuture.<Protocol.Reply>completedFuture(refusal(address, failure))
                    : runHeld(obj, mode, fn, remote).<Protocol.Reply>thenApply(r -> r))
        .thenCompose(f -> f);
  }

  /**
   * Runs a shipped function on an object homed here whose borrow (shared for {@link
   * Protocol.RunMode#SHARED}, exclusive otherwise) the caller holds; the borrow ends with the run.
   */
  public CompletableFuture<Protocol.TaskResult> runHeld(
      OwnedObject obj, Protocol.RunMode mode, byte[] fnBytes, boolean remote) {
    Runnable release = mode == Protocol.RunMode.SHARED ? obj::endShared : obj::endExclusive;
    return submit(
        () -> {
          Shipped shipped = null;
          Function<Object, Object> fn;
          try {
            shipped = decodeTask(fnBytes);
            fn = asFunction(shipped.value());
          } catch (RuntimeException e) {
            release.run();
            if (shipped != null) {
              shipped.done();
            }
            throw e;
          }
          try {
            return switch (mode) {
              case SHARED -> {
                try {
                  yield outcome(fn.apply(obj.value()), null);
                } catch (RuntimeException | Error e) {
                  yield outcome(null, e);
                } finally {
                  obj.endShared();
                }
              }
              case WRITE -> written(obj, fn, remote);
              case LOCKED, LOCKED_REPLACE ->
                  locked(obj, fn, mode == Protocol.RunMode.LOCKED_REPLACE);
            };
          } finally {
            shipped.done();
          }
        },
        () -> {
          release.run();
          discardTask(fnBytes);
        });
  }

  @SuppressWarnings("unchecked")
  private static Function<Object, Object> asFunction(Object decoded) {
    if (decoded instanceof Function<?, ?> f) {
      return (Function<Object, Object>) f;
    }
    throw new IllegalArgumentException(
        "not a function: " + (decoded == null ? "null" : decoded.getClass().getName()));
  }

  /** A write in place, as {@code DBox.write} does it: the color advances even if fn threw. */
  private Protocol.TaskResult written(
      OwnedObject obj, Function<Object, Object> fn, boolean remote) {
    Object result = null;
    Throwable error = null;
    try {
      result = fn.apply(obj.value());
    } catch (RuntimeException | Error e) {
      error = e;
    }
    endWrite(obj);
    if (!remote) {
      return outcome(result, error);
    }
    // The box that owns the object is elsewhere: it reads the new color from a snapshot.
    GlobalAddress address = obj.address();
    try {
      await(
          obj.acquire(
              BorrowState.Kind.SHARED, null, 0, "publishing a task's write", borrowTimeoutNs()),
          address,
          "publish " + address);
      try {
        Snapshot snapshot = ensurePublished(obj);
        address = obj.address();
        Protocol.TaskResult r = outcome(result, error);
        return new Protocol.TaskResult(
            r.result(),
            r.errorType(),
            r.errorMessage(),
            r.errorTrace(),
            address.object(),
            address.color(),
            snapshot.locator(),
            snapshot.frameBytes(),
            r.load());
      } finally {
        obj.endShared();
      }
    } catch (RuntimeException e) {
      // The box must still learn the new color (locator 0: no snapshot to read yet), or it
      // could never write, move or drop its object again.
      log.warn("the write of a task on {} could not be published: {}", address, e.toString());
      GlobalAddress now = obj.address();
      Protocol.TaskResult r = outcome(result, error);
      return new Protocol.TaskResult(
          r.result(),
          r.errorType(),
          r.errorMessage(),
          r.errorTrace(),
          now.object(),
          now.color(),
          0,
          0,
          r.load());
    }
  }

  /**
   * Under a mutex's lock: commits the value if fn returned, and puts back the last committed value
   * if it threw, so an update is all or nothing.
   */
  private Protocol.TaskResult locked(
      OwnedObject obj, Function<Object, Object> fn, boolean replace) {
    Object out;
    try {
      out = lockedRun(obj, fn, replace);
    } catch (RuntimeException | Error e) {
      return outcome(null, e);
    }
    return outcome(out, null);
  }

  /** The body of a locked run; ends the lock. Rethrows what fn threw, after the restore. */
  private Object lockedRun(OwnedObject obj, Function<Object, Object> fn, boolean replace) {
    MutexCell cell = (MutexCell) obj.value();
    try {
      Object out = fn.apply(cell.value());
      if (replace) {
        cell.value(Objects.requireNonNull(out, "a DSM value must not be null"));
      }
      cell.commit(this, obj);
      return out;
    } catch (RuntimeException | Error e) {
      restoreCommitted(obj);
      throw e;
    } finally {
      obj.endExclusive();
    }
  }

  /**
   * Puts back the value a mutex's last unlock committed (decoded from its published snapshot),
   * after a change that failed or could not be committed. The caller holds the lock.
   */
  public void restoreCommitted(OwnedObject obj) {
    MutexCell cell = (MutexCell) obj.value();
    try {
      cell.value(readLatest(obj.address(), obj.locator()).join().value());
    } catch (RuntimeException restore) {
      log.error(
          "mutex {} keeps the value a failed change left: the committed one cannot be read: {}",
          obj.address(),
          restore.toString());
    }
  }

  /**
   * A mutex update on its home whose lock the caller holds: runs the shipped function on the
   * calling thread, commits it or puts back the committed value exactly as a shipped update does,
   * and ends the lock. What the function captured is let go of afterwards, as after any task.
   * {@code Dsm.current()} is this node meanwhile.
   *
   * @throws dev.pekkodsm.RemoteTaskException if fn threw, as an update from another node would,
   *     with fn's exception as its cause
   */
  public Object updateHere(OwnedObject obj, byte[] fnBytes, boolean replace) {
    Shipped shipped;
    Function<Object, Object> fn;
    try {
      shipped = decodeTask(fnBytes);
      fn = asFunction(shipped.value());
    } catch (RuntimeException e) {
      obj.endExclusive();
      throw e;
    }
    DsmNode outer = RUNNING.get();
    RUNNING.set(this);
    try {
      return lockedRun(obj, fn, replace);
    } catch (RuntimeException | Error e) {
      java.io.StringWriter trace = new java.io.StringWriter();
      e.printStackTrace(new java.io.PrintWriter(trace));
      throw new dev.pekkodsm.RemoteTaskException(
          self,
          obj.address(),
          e.getClass().getName(),
          e.getMessage() == null ? "" : e.getMessage(),
          trace.toString(),
          e);
    } finally {
      if (outer == null) {
        RUNNING.remove();
      } else {
        RUNNING.set(outer);
      }
      shipped.done();
    }
  }

  /**
   * Runs {@code body} on a task thread. If the queue is full, {@code onRefused} runs and the answer
   * is the refusal; if the body throws, the answer is its error.
   */
  private CompletableFuture<Protocol.TaskResult> submit(
      java.util.function.Supplier<Protocol.TaskResult> body, Runnable onRefused) {
    CompletableFuture<Protocol.TaskResult> out = new CompletableFuture<>();
    try {
      if (tasksRunning.incrementAndGet() > settings.taskThreads + settings.taskQueueLimit) {
        throw new java.util.concurrent.RejectedExecutionException("queue full");
      }
      tasks.execute(
          () -> {
            RUNNING.set(this);
            try {
              out.complete(body.get());
            } catch (Throwable t) {
              out.complete(outcome(null, t));
            } finally {
              RUNNING.remove();
              tasksRunning.decrementAndGet();
            }
          });
    } catch (java.util.concurrent.RejectedExecutionException e) {
      tasksRunning.decrementAndGet();
      onRefused.run();
      out.complete(
          outcome(
              null,
              new java.util.concurrent.RejectedExecutionException(
                  self
                      + " has "
                      + settings.taskQueueLimit
                      + " tasks waiting (pekko.dsm.tasks.queue-limit), or is shutting down")));
    }
    return out;
  }

  /** A task's answer: its serialized result, or its error as text. */
  private Protocol.TaskResult outcome(Object result, Throwable error) {
    byte[] bytes = new byte[0];
    if (error == null && result != null) {
      try {
        bytes = encodeShipped(result, "the task's result");
      } catch (IllegalArgumentException e) {
        error = e;
      }
    }
    int load = tasksRunning.get();
    if (error == null) {
      return new Protocol.TaskResult(bytes, "", "", "", 0, 0, 0, 0, load);
    }
    java.io.StringWriter trace = new java.io.StringWriter();
    error.printStackTrace(new java.io.PrintWriter(trace));
    return new Protocol.TaskResult(
        new byte[0],
        error.getClass().getName(),
        error.getMessage() == null ? "" : error.getMessage(),
        trace.toString(),
        0,
        0,
        0,
        0,
        load);
  }

  /**
   * The value of a task's answer, deserialized here (handles it carried arrive here), or the task's
   * error as {@link dev.pekkodsm.RemoteTaskException}.
   */
  public Object taskValue(NodeId ranOn, GlobalAddress at, Protocol.TaskResult r) {
    if (r.failed()) {
      throw new dev.pekkodsm.RemoteTaskException(
          ranOn, at, r.errorType(), r.errorMessage(), r.errorTrace());
    }
    if (r.result().length == 0) {
      return null;
    }
    try {
      return decodeShipped(r.result());
    } catch (RuntimeException e) {
      throw new DsmException(
          at, "the result of a task on " + ranOn + " cannot be read here: " + e.getMessage(), e);
    }
  }

  // ---------------------------------------------------------------- refusals

  /** The answer for an object no longer in the table, from its tombstone. */
  Protocol.Refused goneReason(long object) {
    Tombstones.Tombstone t = tombstone(object);
    String name = OwnerEntity.entityId(self.value(), object);
    if (t == null) {
      return Protocol.Refused.of(
          Protocol.Reason.UNKNOWN, "object " + name + " is not known at its home");
    }
    return switch (t.phase()) {
      case MOVED ->
          new Protocol.Refused(
              Protocol.Reason.MOVED,
              "object " + name + " moved to " + t.movedTo(),
              t.movedTo().node().value(),
              t.movedTo().object(),
              0,
              Map.of());
      case DROPPED ->
          Protocol.Refused.of(Protocol.Reason.DROPPED, "object " + name + " was dropped");
      default -> Protocol.Refused.of(Protocol.Reason.LOST, "object " + name + " was lost");
    };
  }

  /** The answer for a borrow at the home that failed. */
  Protocol.Refused refusal(GlobalAddress address, Throwable failure) {
    Throwable cause =
        failure instanceof CompletionException && failure.getCause() != null
            ? failure.getCause()
            : failure;
    if (cause instanceof BorrowTimeoutException t) {
      Map<Long, Integer> lent = new HashMap<>();
      t.holders().lentRefs().forEach((n, c) -> lent.put(n.value(), c));
      return new Protocol.Refused(
          Protocol.Reason.CONFLICT, cause.getMessage(), 0, 0, t.holders().readers(), lent);
    }
    if (cause instanceof dev.pekkodsm.coherence.ObjectRetiredException) {
      return goneReason(address.object());
    }
    return Protocol.Refused.of(Protocol.Reason.FAILED, String.valueOf(cause));
  }

  // ---------------------------------------------------------------- references

  /** Registers a reference of a remote object so the home can top it up or revoke it. */
  public long registerRef(RefSlot slot) {
    long id = nextRefId.getAndIncrement();
    liveRefs.put(id, slot);
    return id;
  }

  /** Registers a reference again under its old id (after a send that failed). */
  public void registerRef(long refId, RefSlot slot) {
    liveRefs.put(refId, slot);
  }

  public void unregisterRef(long refId) {
    liveRefs.remove(refId);
  }

  /** Tells {@code holder} that its reference {@code refId} to {@code address} got more weight. */
  void toppedUp(NodeId holder, long refId, GlobalAddress address, long weight) {
    Protocol.ToppedUp message =
        new Protocol.ToppedUp(
            refId, address.node().value(), address.object(), address.color(), weight);
    if (holder.equals(self)) {
      onToppedUp(message);
    } else {
      peers.address(holder).thenAccept(address2 -> peers.nodeActor(address2).tell(message));
    }
  }

  /** Tells {@code holder} that its reference {@code refId} is stale. */
  void revoke(NodeId holder, long refId, String reason) {
    if (holder.equals(self)) {
      onRevoked(refId, reason);
    } else {
      peers
          .address(holder)
          .thenAccept(
              address -> peers.nodeActor(address).tell(new Protocol.Revoked(refId, reason)));
    }
  }

  /**
   * More weight for a reference held here. If the reference was released or sent on meanwhile, the
   * weight goes straight back to the home, or the owner could never write again.
   */
  void onToppedUp(Protocol.ToppedUp m) {
    RefSlot slot = liveRefs.get(m.refId());
    if (slot != null) {
      slot.addWeight(m.weight());
    } else {
      tell(new Protocol.Release(m.home(), m.object(), m.color(), self.value(), m.weight()));
    }
  }

  void onRevoked(long refId, String reason) {
    RefSlot slot = liveRefs.remove(refId);
    if (slot != null) {
      slot.revoke(reason);
    }
  }

  // ---------------------------------------------------------------- membership

  void memberUp(NodeId node, org.apache.pekko.actor.Address address, boolean up) {
    peers.memberUp(node, address, up);
  }

  /**
   * A node left for good: reclaim what it borrowed, drop what it owned, and fail at once every
   * request waiting on it.
   */
  void memberRemoved(NodeId node) {
    if (node.equals(self) || peers.isDeparted(node)) {
      return;
    }
    peers.memberRemoved(node);
    liveRefs.values().forEach(slot -> slot.senderLeft(node));
    int reclaimed = 0;
    int orphans = 0;
    for (OwnedObject obj : table.values()) {
      if (obj.value() instanceof MutexCell cell
          && node.equals(cell.remoteHolder())
          && cell.release(node, cell.lockId())) {
        obj.endExclusive(); // the holder is gone: the last committed value stands
      }
      reclaimed += obj.reclaim(node);
      if (node.equals(obj.boxHolder())) {
        orphans++;
        dropOrphan(obj, node);
      }
    }
    Map<CompletableFuture<?>, java.util.function.Supplier<RuntimeException>> pending =
        inFlight.remove(node);
    int failed = 0;
    if (pending != null) {
      for (var e : pending.entrySet()) {
        failed += e.getKey().completeExceptionally(e.getValue().get()) ? 1 : 0;
      }
    }
    log.info(
        "{} left: reclaimed {} lent references, dropping {} objects it owned, failed {} "
            + "requests",
        node,
        reclaimed,
        orphans,
        failed);
  }

  /** A box was adopted by a node that has already left: its object has no owner. */
  void memberRemovedLate(NodeId departed, OwnedObject obj) {
    obj.reclaim(departed);
    dropOrphan(obj, departed);
  }

  private void dropOrphan(OwnedObject obj, NodeId departedOwner) {
    // Lent references may still be out; the object goes when the last one comes back.
    obj.acquire(
            BorrowState.Kind.EXCLUSIVE,
            null,
            0,
            "the drop of an object whose owner left",
            TimeUnit.MINUTES.toNanos(10))
        .whenComplete(
            (ok, failure) -> {
              if (failure == null) {
                retire(obj, BorrowState.Phase.DROPPED, null);
              } else {
                log.warn(
                    "object {} lost its owner with {} but could not be dropped: {}",
                    obj.address(),
                    departedOwner,
                    failure.toString());
              }
            });
  }

  // ---------------------------------------------------------------- errors and waiting

  /** The exception for an object whose home left. */
  public ObjectLostException lost(GlobalAddress address) {
    return new ObjectLostException(
        address,
        "object "
            + address.objectName()
            + " was lost: its home "
            + address.node()
            + " left the cluster and no replica exists");
  }

  /** Turns a borrow that timed out into the public exception. */
  public BorrowConflictException conflict(
      GlobalAddress address, String operation, BorrowTimeoutException e) {
    metrics.borrowConflicts.increment();
    BorrowState.Holders h = e.holders();
    return conflict(address, operation, h.readers(), h.writer(), h.lentRefs(), e.waitedNs());
  }

  /** Builds the public conflict exception from a holder description. */
  public BorrowConflictException conflict(
      GlobalAddress address,
      String operation,
      int readers,
      String writer,
      Map<NodeId, Integer> lent,
      long waitedNs) {
    StringBuilder m = new StringBuilder();
    m.append(operation)
        .append(" of object ")
        .append(address.objectName())
        .append(" waited ")
        .append(TimeUnit.NANOSECONDS.toMillis(waitedNs))
        .append(" ms (pekko.dsm.borrow-timeout) and is still blocked by ");
    int lentCount = lent.values().stream().mapToInt(Integer::intValue).sum();
    boolean any = false;
    if (lentCount > 0) {
      m.append(lentCount)
          .append(" lent reference")
          .append(lentCount == 1 ? "" : "s")
          .append(" (")
          .append(describe(lent))
          .append(")");
      any = true;
    }
    if (readers > 0) {
      m.append(any ? " and " : "")
          .append(readers)
          .append(" shared borrow")
          .append(readers == 1 ? "" : "s")
          .append(" in progress");
      any = true;
    }
    if (writer != null) {
      m.append(any ? " and " : "").append("a mutable borrow by ").append(writer);
      any = true;
    }
    if (!any) {
      m.append("requests queued ahead of it");
    }
    m.append("; release those references or end those borrows first");
    return new BorrowConflictException(address, m.toString(), readers, lent);
  }

  private String describe(Map<NodeId, Integer> lent) {
    StringBuilder s = new StringBuilder();
    lent.forEach(
        (node, count) -> {
          if (s.length() > 0) {
            s.append(", ");
          }
          s.append(count).append(" on ").append(node.equals(self) ? "this node" : node.toString());
        });
    return s.toString();
  }

  /** Lent references by holder as node ids, from the wire form. */
  public static Map<NodeId, Integer> holders(Map<Long, Integer> wire) {
    Map<NodeId, Integer> out = new HashMap<>();
    wire.forEach((k, v) -> out.put(NodeId.of(k), v));
    return out;
  }

  /**
   * How long a blocking call waits for its future: more than the sum of the deadlines inside it (a
   * local borrow wait, a borrow wait at the home, a request, a retry, an endpoint fetch).
   */
  public Duration blockingBudget() {
    return settings
        .borrowTimeout
        .multipliedBy(2)
        .plus(settings.askTimeout.multipliedBy(3))
        .plusSeconds(1);
  }

  /**
   * Waits for a future that the DSM guarantees to complete within its own deadlines, and rethrows
   * its failure as is. If the caller gives up first (interrupted, or past the budget), {@code
   * onAbandon} undoes whatever the future still grants later, so that nothing is left held by
   * nobody.
   */
  public <T> T await(
      CompletableFuture<T> future,
      GlobalAddress address,
      String what,
      Consumer<? super T> onAbandon) {
    return awaitWithin(future, blockingBudget(), address, what, onAbandon);
  }

  private <T> T awaitWithin(
      CompletableFuture<T> future,
      Duration budget,
      GlobalAddress address,
      String what,
      Consumer<? super T> onAbandon) {
    try {
      return future.get(budget.toMillis(), TimeUnit.MILLISECONDS);
    } catch (ExecutionException | CompletionException e) {
      Throwable cause = e.getCause() == null ? e : e.getCause();
      if (cause instanceof RuntimeException r) {
        throw r;
      }
      if (cause instanceof Error err) {
        throw err;
      }
      throw new DsmException(address, "failed to " + what + ": " + cause, cause);
    } catch (TimeoutException e) {
      future.thenAccept(onAbandon);
      throw new DsmTimeoutException(
          address, "gave up waiting to " + what + " after " + budget.toMillis() + " ms", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      future.thenAccept(onAbandon);
      throw new DsmException(address, "interrupted while waiting to " + what, e);
    }
  }

  /** {@link #await} for results that need no undoing. */
  public <T> T await(CompletableFuture<T> future, GlobalAddress address, String what) {
    return await(future, address, what, ignored -> {});
  }

  /**
   * The stage handed to a user: if it is not complete yet, its continuations will run on the
   * system's dispatcher, never on the node's timer thread or on an actor's.
   */
  public <T> CompletableFuture<T> handOff(CompletableFuture<T> future) {
    if (future.isDone()) {
      return future;
    }
    return future.whenCompleteAsync((v, e) -> {}, executor());
  }

  /** Releases everything this node holds: timer, readers, arena files. */
  void close() {
    tasks.shutdownNow();
    timing.close();
    peers.close();
    transports.close();
    if (tcpServer != null) {
      tcpServer.close();
    }
    if (rdmaServer != null) {
      rdmaServer.close();
    }
    arena.close();
  }

  @Override
  public String toString() {
    return "DsmNode(" + self + ")";
  }
}
