package dev.pekkodsm.internal;

import dev.pekkodsm.coherence.GlobalAddress;
import dev.pekkodsm.coherence.NodeId;
import dev.pekkodsm.coherence.OwnedObject;
import dev.pekkodsm.coherence.Snapshot;
import dev.pekkodsm.coherence.home.HolderNotice;
import dev.pekkodsm.coherence.home.HomePorts;
import dev.pekkodsm.coherence.home.HomeReply;
import dev.pekkodsm.coherence.home.RunMode;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The node's effects as the home protocol sees them: each delegates to the part that owns it. */
final class NodePorts implements HomePorts {

  private static final Logger log = LoggerFactory.getLogger(NodePorts.class);

  private final NodeId self;
  private final SnapshotPublisher publisher;
  private final TaskRunner tasks;
  private final RefRegistry refs;
  private final HomeProxy homes;
  private final PeerDirectory peers;
  private final Metrics metrics;
  private final Replication replication; // null for a promoted primary's objects

  NodePorts(
      NodeId self,
      SnapshotPublisher publisher,
      TaskRunner tasks,
      RefRegistry refs,
      HomeProxy homes,
      PeerDirectory peers,
      Metrics metrics,
      Replication replication) {
    this.replication = replication;
    this.self = self;
    this.publisher = publisher;
    this.tasks = tasks;
    this.refs = refs;
    this.homes = homes;
    this.peers = peers;
    this.metrics = metrics;
  }

  @Override
  public Snapshot publish(OwnedObject obj) {
    return publisher.publish(obj);
  }

  @Override
  public HomeReply handOverValue(OwnedObject obj) {
    return publisher.handOverValue(obj);
  }

  @Override
  public void freeMoveSlot(long locator) {
    publisher.freeMoveSlot(locator);
  }

  @Override
  public byte[] encodeValue(Object value) {
    return publisher.encodeValue(value);
  }

  @Override
  public Object decodeValue(byte[] bytes) {
    return publisher.decodeValue(bytes);
  }

  @Override
  public void offload(Runnable work) {
    tasks.offload(work);
  }

  @Override
  public CompletableFuture<HomeReply.TaskResult> runLocked(
      OwnedObject mutex, long word, RunMode mode, byte[] fn) {
    return tasks.runLocked(mutex, word, mode, fn);
  }

  @Override
  public CompletableFuture<HomeReply.TaskResult> runHeld(
      OwnedObject obj, RunMode mode, byte[] fn, boolean remote) {
    return tasks.runHeld(obj, mode, fn, remote);
  }

  @Override
  public void notify(NodeId holder, HolderNotice notice) {
    if (holder.equals(self)) {
      refs.onNotice(notice);
    } else {
      homes.notifyHolder(holder, notice);
    }
  }

  @Override
  public boolean isDeparted(NodeId node) {
    return peers.isDeparted(node);
  }

  @Override
  public void boxHolderChanged(OwnedObject obj) {
    if (replication != null) {
      replication.holderChanged(obj);
    }
  }

  @Override
  public void movedOut() {
    metrics.movesOut.increment();
  }

  @Override
  public void lentOut() {
    metrics.lends.increment();
  }

  @Override
  public void orphanKept(GlobalAddress address, NodeId departedOwner, Throwable why) {
    log.warn(
        "object {} lost its owner with {} but could not be dropped: {}",
        address,
        departedOwner,
        why.toString());
  }
}
