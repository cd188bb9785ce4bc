package dev.pekkodsm.coherence.mutex;

import dev.pekkodsm.coherence.ManualTiming;
import dev.pekkodsm.coherence.MutexCell;
import dev.pekkodsm.coherence.NodeId;
import dev.pekkodsm.memory.PeerEndpoint;
import dev.pekkodsm.memory.ShmTransport;
import dev.pekkodsm.memory.SyncAccess;
import dev.pekkodsm.memory.TcpReadServer;
import dev.pekkodsm.memory.TcpSettings;
import dev.pekkodsm.memory.TcpTransport;
import dev.pekkodsm.serialization.internal.SnapshotCodec;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A home's sync region for a whole Lincheck run, and the sides that reach it: the home's own access
 * first, then peers over shm or tcp (loopback), each with a mapping or connection of its own.
 * Lincheck builds a fresh state object for every invocation with no arguments, so the run's sides
 * are handed to them through {@link #current}; a state object takes a new cell or mutex from them,
 * which is cheap, instead of creating files.
 */
public final class SyncSides implements AutoCloseable {

  /** The sides of the run in progress, for the state objects Lincheck creates. */
  public static volatile SyncSides current;

  private static final int MAX_FRAME = (1 << 16) + SnapshotCodec.HEADER_BYTES;

  public final TestStore store;
  public final MutexHome home;
  private final List<SyncAccess> sides = new ArrayList<>();
  private final List<AutoCloseable> resources = new ArrayList<>();

  // Guarded by this: what the previous invocation took, freed by the next.
  private long lastCell = -1;
  private MutexCell lastMutex;
  private long lastMutexObject;

  private SyncSides(Path dir, long node) {
    store = new TestStore(dir, node);
    home = new MutexHome(NodeId.of(node), store, new ManualTiming(), TimeUnit.SECONDS.toNanos(10));
    sides.add(store.region());
  }

  /**
   * {@code count}, or the system property {@code property} if it is larger: {@code
   * -Dlincheck.iterations} and {@code -Dlincheck.invocations} lengthen a Lincheck run, never
   * shorten it (a shorter one could miss what a test must catch).
   */
  public static int atLeast(String property, int count) {
    return Math.max(count, Integer.getInteger(property, 0));
  }

  /** The home, and two same-host peers with their own mappings of its region. */
  public static SyncSides homeAndShmPeers(Path dir, long node) throws Exception {
    SyncSides s = new SyncSides(dir, node);
    s.addShmPeer();
    s.addShmPeer();
    return s;
  }

  /** The home, a same-host peer, and a peer that reaches it through its tcp read server. */
  public static SyncSides homeShmAndTcpPeers(Path dir, long node) throws Exception {
    SyncSides s = new SyncSides(dir, node);
    s.addShmPeer();
    TcpReadServer server =
        s.closeLater(
            TcpReadServer.start(s.store.arena(), s.store.region(), TcpSettings.loopback()));
    TcpTransport tcp =
        s.closeLater(new TcpTransport(TestStore.CODEC, MAX_FRAME, TcpSettings.loopback()));
    s.sides.add(
        s.closeLater(
            tcp.open(
                PeerEndpoint.shmOnly(s.store.arena().endpoint(), "elsewhere")
                    .withTcp("127.0.0.1", server.address().getPort()))));
    return s;
  }

  private void addShmPeer() throws Exception {
    ShmTransport shm = new ShmTransport(TestStore.CODEC, MAX_FRAME);
    sides.add(closeLater(shm.open(PeerEndpoint.shmOnly(store.arena().endpoint(), "this-host"))));
  }

  private <T extends AutoCloseable> T closeLater(T resource) {
    resources.add(resource);
    return resource;
  }

  /**
   * A fresh cell of {@code kind} for {@code object}, freeing the one the previous invocation took:
   * invocations run one after another, so nothing uses it any more.
   */
  public synchronized long nextCell(int kind, long object) {
    if (lastCell >= 0) {
      store.region().freeCell(lastCell);
    }
    lastCell = store.region().allocateCell(kind, object);
    return lastCell;
  }

  /** A new mutex of {@code object} holding 0L, destroying the previous invocation's. */
  public synchronized MutexCell nextMutex(long object) {
    if (lastMutex != null) {
      home.destroy(lastMutex, lastMutexObject);
    }
    lastMutex = home.create(object, 0L);
    lastMutexObject = object;
    return lastMutex;
  }

  /** Side {@code index} (modulo their number): 0 the home, then the peers. */
  public SyncAccess side(int index) {
    return sides.get(index % sides.size());
  }

  @Override
  public void close() {
    for (int i = resources.size() - 1; i >= 0; i--) {
      try {
        resources.get(i).close();
      } catch (Exception e) {
        throw new IllegalStateException("cannot close " + resources.get(i), e);
      }
    }
    store.close();
  }
}
