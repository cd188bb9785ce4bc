package dev.pekkodsm.memory;

import static dev.pekkodsm.memory.Frames.CODEC;
import static dev.pekkodsm.memory.Frames.MAX_FRAME;
import static dev.pekkodsm.memory.Frames.NODE;
import static dev.pekkodsm.memory.Frames.settings;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * One sync region for a whole Lincheck run, and the sides that reach it: the owner's own access
 * first, then peers over shm or tcp, each with a mapping or connection of its own. Lincheck builds
 * a fresh state object for every invocation with no arguments, so the run's region is handed to
 * them through {@link #current}; a state object takes a new cell (or resets its slot) from it,
 * which is cheap, instead of creating files.
 */
final class SharedSyncRegion implements AutoCloseable {

  /** The region of the run in progress, for the state objects Lincheck creates. */
  static volatile SharedSyncRegion current;

  final SnapshotArena arena;
  final SyncRegion region;
  private final List<SyncAccess> sides = new ArrayList<>();
  private final List<AutoCloseable> resources = new ArrayList<>();
  private long lastCell = -1; // guarded by this: the previous invocation's, freed by the next

  private SharedSyncRegion(Path dir) {
    arena = SnapshotArena.create(settings(dir, 1 << 20, 2), NODE, CODEC);
    region = SyncRegion.create(arena, 256);
    sides.add(region);
  }

  /**
   * {@code count}, or the system property {@code property} if it is larger: {@code
   * -Dlincheck.iterations} and {@code -Dlincheck.invocations} lengthen a Lincheck run, never
   * shorten it (a shorter one could miss what a test must catch).
   */
  static int atLeast(String property, int count) {
    return Math.max(count, Integer.getInteger(property, 0));
  }

  /** The owner, and two same-host peers, each with its own mapping of the region's files. */
  static SharedSyncRegion ownerAndShmPeers(Path dir) throws Exception {
    SharedSyncRegion shared = new SharedSyncRegion(dir);
    ShmTransport shm = new ShmTransport(CODEC, MAX_FRAME);
    for (int i = 0; i < 2; i++) {
      shared.sides.add(
          shared.closeLater(shm.open(PeerEndpoint.shmOnly(shared.arena.endpoint(), "this-host"))));
    }
    return shared;
  }

  /**
   * The owner, a same-host peer and a peer on "another host" that reaches the region through the
   * owner's tcp read server on loopback: every transport on the same cells at once.
   */
  static SharedSyncRegion ownerShmAndTcpPeers(Path dir) throws Exception {
    SharedSyncRegion shared = new SharedSyncRegion(dir);
    ShmTransport shm = new ShmTransport(CODEC, MAX_FRAME);
    shared.sides.add(
        shared.closeLater(shm.open(PeerEndpoint.shmOnly(shared.arena.endpoint(), "this-host"))));
    TcpReadServer server =
        shared.closeLater(TcpReadServer.start(shared.arena, shared.region, TcpSettings.loopback()));
    TcpTransport tcp =
        shared.closeLater(new TcpTransport(CODEC, MAX_FRAME, TcpSettings.loopback()));
    shared.sides.add(shared.closeLater(tcp.open(TcpTransportTest.endpoint(shared.arena, server))));
    return shared;
  }

  private <T extends AutoCloseable> T closeLater(T resource) {
    resources.add(resource);
    return resource;
  }

  /** Side {@code index}: 0 the owner, then the peers in the order they were opened. */
  SyncAccess side(int index) {
    return sides.get(index);
  }

  /** How many sides there are. */
  int sides() {
    return sides.size();
  }

  /**
   * A fresh cell of {@code kind} for {@code object}, freeing the one the previous invocation took:
   * invocations run one after another, so nothing uses it any more.
   */
  synchronized long nextCell(int kind, long object) {
    if (lastCell >= 0) {
      region.freeCell(lastCell);
    }
    lastCell = region.allocateCell(kind, object);
    return lastCell;
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
    region.close();
    arena.close();
  }
}
