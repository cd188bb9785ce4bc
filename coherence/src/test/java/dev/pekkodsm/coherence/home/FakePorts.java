package dev.pekkodsm.coherence.home;

import dev.pekkodsm.coherence.GlobalAddress;
import dev.pekkodsm.coherence.MutexCell;
import dev.pekkodsm.coherence.NodeId;
import dev.pekkodsm.coherence.ObjectKind;
import dev.pekkodsm.coherence.OwnedObject;
import dev.pekkodsm.coherence.Snapshot;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;

/**
 * The node's effects, recorded: values are strings, serialized as UTF-8; snapshots get fresh
 * locators; "shipped" functions are names of functions registered by the test; notices and freed
 * slots are kept for assertions.
 */
final class FakePorts implements HomePorts {

  /** A value this long or longer is handed over through the arena, as a large move is. */
  static final int INLINE_LIMIT = 32;

  final List<Long> freedMoveSlots = new ArrayList<>();
  final List<Map.Entry<NodeId, HolderNotice>> notices = new ArrayList<>();
  final Map<Long, String> republished = new HashMap<>(); // object id -> last value republished
  final Map<String, Function<Object, Object>> functions = new HashMap<>();
  final Set<NodeId> departed = new HashSet<>();
  final List<String> orphansKept = new ArrayList<>();
  int published;
  int movedOut;
  int lentOut;
  boolean failPublish;
  private long nextLocator = 1000;

  @Override
  public Snapshot publish(OwnedObject obj) {
    if (failPublish) {
      throw new IllegalStateException("arena full");
    }
    if (obj.locator() != 0) {
      return new Snapshot(obj.locator(), obj.snapshotBytes());
    }
    if (obj.kind() == ObjectKind.ATOMIC) {
      obj.atomicCell().ensurePublished(this, obj);
      return new Snapshot(obj.locator(), obj.snapshotBytes());
    }
    published++;
    long locator = obj.published(obj.color(), nextLocator++, 64);
    return new Snapshot(locator, obj.snapshotBytes());
  }

  @Override
  public void republish(OwnedObject obj, Object value, int version) {
    republished.put(obj.objectId(), String.valueOf(value));
    if (obj.locator() == 0) {
      obj.relocate(nextLocator++, 64);
    }
  }

  @Override
  public HomeReply handOverValue(OwnedObject obj) {
    byte[] bytes = encodeValue(obj.value());
    if (bytes.length >= INLINE_LIMIT) {
      return new HomeReply.HandedOverAt(obj.color(), nextLocator++, bytes.length);
    }
    return new HomeReply.HandedOver(bytes);
  }

  @Override
  public void freeMoveSlot(long locator) {
    freedMoveSlots.add(locator);
  }

  @Override
  public byte[] encodeValue(Object value) {
    return String.valueOf(value).getBytes(StandardCharsets.UTF_8);
  }

  @Override
  public Object decodeValue(byte[] bytes) {
    String s = new String(bytes, StandardCharsets.UTF_8);
    if (s.startsWith("corrupt")) {
      throw new IllegalArgumentException("cannot decode " + s);
    }
    return s;
  }

  @Override
  public void restoreCommitted(OwnedObject mutex) {
    MutexCell cell = mutex.mutexCell();
    cell.value(republished.get(mutex.objectId()));
  }

  /**
   * Runs the registered function named by {@code fn} on the value, as the task threads would: a
   * write ends the exclusive borrow with a new color, a shared run ends the shared borrow, a locked
   * one commits.
   */
  @Override
  public CompletableFuture<HomeReply.TaskResult> runHeld(
      OwnedObject obj, RunMode mode, byte[] fn, boolean remote) {
    Function<Object, Object> f = functions.get(new String(fn, StandardCharsets.UTF_8));
    Object value = mode.locked() ? obj.mutexCell().value() : obj.value();
    String result = String.valueOf(f.apply(value));
    switch (mode) {
      case SHARED -> obj.endShared();
      case WRITE -> obj.endWrite(() -> 999);
      case LOCKED, LOCKED_REPLACE -> {
        obj.mutexCell().commit(this, obj);
        obj.endExclusive();
      }
    }
    GlobalAddress a = obj.address();
    byte[] bytes = result.getBytes(StandardCharsets.UTF_8);
    HomeReply.TaskResult r = new HomeReply.TaskResult(bytes, "", "", "", 0, 0, 0, 0, 0);
    return CompletableFuture.completedFuture(
        remote && mode == RunMode.WRITE ? r.at(a.object(), a.color(), 77, 64) : r);
  }

  @Override
  public void notify(NodeId holder, HolderNotice notice) {
    notices.add(Map.entry(holder, notice));
  }

  @Override
  public boolean isDeparted(NodeId node) {
    return departed.contains(node);
  }

  @Override
  public void movedOut() {
    movedOut++;
  }

  @Override
  public void lentOut() {
    lentOut++;
  }

  @Override
  public void orphanKept(GlobalAddress address, NodeId departedOwner, Throwable why) {
    orphansKept.add(address + " " + why);
  }
}
