package dev.pekkodsm.internal;

import dev.pekkodsm.BorrowConflictException;
import dev.pekkodsm.DsmException;
import dev.pekkodsm.ObjectLostException;
import dev.pekkodsm.coherence.BorrowState;
import dev.pekkodsm.coherence.BorrowTimeoutException;
import dev.pekkodsm.coherence.GlobalAddress;
import dev.pekkodsm.coherence.NodeId;
import dev.pekkodsm.coherence.home.HomeReply;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** The text and type of the exceptions a node's callers see, built in one place. */
public final class Errors {

  private final NodeId self;
  private final Metrics metrics;
  private final Duration borrowTimeout;

  Errors(NodeId self, Metrics metrics, Duration borrowTimeout) {
    this.self = self;
    this.metrics = metrics;
    this.borrowTimeout = borrowTimeout;
  }

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

  /** A borrow on this node that timed out, as the public exception. */
  public BorrowConflictException conflict(
      GlobalAddress address, String operation, BorrowTimeoutException e) {
    BorrowState.Holders h = e.holders();
    return conflict(address, operation, h.readers(), h.writer(), h.lentRefs(), e.waitedNs());
  }

  /** A home's {@link HomeReply.Reason#CONFLICT} refusal, as the public exception. */
  public BorrowConflictException conflict(
      GlobalAddress address, String operation, HomeReply.Refused r) {
    Map<NodeId, Integer> lent = new HashMap<>();
    r.lent().forEach((k, v) -> lent.put(NodeId.of(k), v));
    return conflict(address, operation, r.readers(), null, lent, borrowTimeout.toNanos());
  }

  /** A home's {@link HomeReply.Reason#FAILED} refusal, as the public exception. */
  public DsmException failedAtHome(GlobalAddress address, String operation, HomeReply.Refused r) {
    return new DsmException(
        address, operation + " of " + address + " failed at its home: " + r.detail());
  }

  private BorrowConflictException conflict(
      GlobalAddress address,
      String operation,
      int readers,
      String writer,
      Map<NodeId, Integer> lent,
      long waitedNs) {
    metrics.borrowConflicts.increment();
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
}
