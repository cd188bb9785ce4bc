package dev.pekkodsm.internal;

import dev.pekkodsm.coherence.NodeId;
import dev.pekkodsm.coherence.home.HolderNotice;
import dev.pekkodsm.coherence.home.HomeRequest;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The references this node holds to objects homed elsewhere, by id, so that homes can reach them:
 * top-ups and revocations arrive here, and so does the news that a node which sent one left.
 *
 * <p>Thread-safe.
 */
public final class RefRegistry {

  /** What a registered reference lets the node do to it on its home's behalf. */
  public interface RefSlot {
    /** The home granted more weight. */
    void addWeight(long weight);

    /** The home refused this reference: it is stale. */
    void revoke(String reason);

    /**
     * A node left the cluster. If it sent this reference, the home may have reclaimed the reference
     * with the sender's others before learning it arrived here.
     */
    void nodeLeft(NodeId departed);

    /**
     * What this reference holds of an object homed on {@code home}, for the census of a promoted
     * node's objects; null if it holds nothing there.
     */
    Census.Holding holding(NodeId self, NodeId home);
  }

  private final long self;
  private final HomeProxy homes;
  private final ConcurrentHashMap<Long, RefSlot> live = new ConcurrentHashMap<>();
  private final AtomicLong nextId = new AtomicLong(1);

  RefRegistry(NodeId self, HomeProxy homes) {
    this.self = self.value();
    this.homes = homes;
  }

  /** Registers a reference; its id goes to the home with the adoption. */
  public long register(RefSlot slot) {
    long id = nextId.getAndIncrement();
    live.put(id, slot);
    return id;
  }

  /** Registers a reference again under its old id (after a send that failed). */
  public void register(long refId, RefSlot slot) {
    live.put(refId, slot);
  }

  public void unregister(long refId) {
    live.remove(refId);
  }

  /**
   * A home's notice. More weight for a reference that was released or sent on meanwhile goes
   * straight back to the home, or the owner could never write again.
   */
  void onNotice(HolderNotice notice) {
    if (notice instanceof HolderNotice.ToppedUp t) {
      RefSlot slot = live.get(t.refId());
      if (slot != null) {
        slot.addWeight(t.weight());
      } else {
        homes.tell(new HomeRequest.Release(t.home(), t.object(), t.color(), self, t.weight()));
      }
    } else if (notice instanceof HolderNotice.Revoked r) {
      RefSlot slot = live.remove(r.refId());
      if (slot != null) {
        slot.revoke(r.reason());
      }
    }
  }

  /** What the references held here hold of objects homed on {@code home}. */
  List<Census.Holding> holdings(NodeId home) {
    List<Census.Holding> out = new ArrayList<>();
    NodeId me = NodeId.of(self);
    for (RefSlot slot : live.values()) {
      Census.Holding h = slot.holding(me, home);
      if (h != null) {
        out.add(h);
      }
    }
    return out;
  }

  /** A node left the cluster: every reference it may have sent here must be confirmed. */
  void nodeLeft(NodeId departed) {
    live.values().forEach(slot -> slot.nodeLeft(departed));
  }
}
