package dev.pekkodsm.internal;

import dev.pekkodsm.DsmException;
import dev.pekkodsm.coherence.GlobalAddress;
import dev.pekkodsm.coherence.NodeId;
import dev.pekkodsm.coherence.ObjectTable;
import dev.pekkodsm.coherence.OwnedObject;
import dev.pekkodsm.coherence.home.HomeProtocol;
import dev.pekkodsm.coherence.home.HomeReply;
import dev.pekkodsm.coherence.home.HomeRequest;
import dev.pekkodsm.coherence.home.RunMode;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Where this node's tasks go: placement by load, and the trip of a task to a node or of a function
 * to an object's home, with the deadline of {@code pekko.dsm.tasks.timeout}. Runs on this node go
 * to the {@link TaskRunner} directly, exactly as if shipped.
 *
 * <p>Thread-safe.
 */
public final class TaskDispatcher {

  /** How long a reported load counts for placement: it says nothing about later. */
  private static final long REPORT_TTL_NANOS = TimeUnit.SECONDS.toNanos(1);

  /** The task load a node reported with a result, and when it arrived. */
  private record Report(int load, long atNanos) {}

  private final NodeId self;
  private final ObjectTable table;
  private final HomeProtocol home;
  private final TaskRunner runner;
  private final HomeProxy homes;
  private final PeerDirectory peers;
  private final Duration taskTimeout;
  private final ConcurrentHashMap<NodeId, AtomicInteger> sent = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<NodeId, Report> reported = new ConcurrentHashMap<>();
  private final AtomicLong turn = new AtomicLong();

  TaskDispatcher(
      ObjectTable table,
      HomeProtocol home,
      TaskRunner runner,
      HomeProxy homes,
      PeerDirectory peers,
      Duration taskTimeout) {
    this.self = table.self();
    this.table = table;
    this.home = home;
    this.runner = runner;
    this.homes = homes;
    this.peers = peers;
    this.taskTimeout = taskTimeout;
  }

  /**
   * The node to run a task on: the Up member with the fewest tasks, counting those this node has
   * sent it and not seen end plus the load it reported with its last result within the last second
   * (this node counts what it is running). Ties go round-robin, so with no load at all tasks are
   * dealt in turn.
   */
  public NodeId place() {
    List<NodeId> members = peers.upMembers();
    int n = members.size();
    int start = (int) Math.floorMod(turn.getAndIncrement(), (long) n);
    NodeId best = null;
    long bestLoad = Long.MAX_VALUE;
    for (int i = 0; i < n; i++) {
      NodeId candidate = members.get((start + i) % n);
      long load;
      if (candidate.equals(self)) {
        load = runner.load();
      } else {
        AtomicInteger inFlight = sent.get(candidate);
        Report report = reported.get(candidate);
        boolean fresh = report != null && System.nanoTime() - report.atNanos() < REPORT_TTL_NANOS;
        load = (inFlight == null ? 0 : inFlight.get()) + (fresh ? report.load() : 0);
      }
      if (load < bestLoad) {
        best = candidate;
        bestLoad = load;
      }
    }
    return best;
  }

  /** Runs a shipped task on {@code target} (which may be this node). */
  public CompletableFuture<HomeReply.TaskResult> spawn(NodeId target, byte[] task) {
    if (target.equals(self)) {
      return runner.withDeadline(runner.runTask(task), null, "a task on " + self);
    }
    return counted(
            target,
            homes.askNode(
                target, replyTo -> new Protocol.Spawn(task, replyTo), taskTimeout, "run a task"))
        .thenApply(
            reply -> {
              if (reply instanceof HomeReply.TaskResult r) {
                return r;
              }
              throw new DsmException(null, target + " refused a task: " + reply);
            });
  }

  /**
   * Runs a shipped function on an object at its home, under the borrow {@code mode} needs. The
   * answer is a {@link HomeReply.TaskResult} or a {@link HomeReply.Refused}.
   */
  public CompletableFuture<HomeReply> runAt(GlobalAddress at, RunMode mode, byte[] fn) {
    if (at.node().equals(self)) {
      OwnedObject obj = table.get(at.object());
      if (obj == null) {
        return CompletableFuture.completedFuture(home.goneReason(at.object()));
      }
      return runner.withDeadline(
          home.runAt(obj, at.color(), mode, fn, false), at, "a task at " + at);
    }
    return counted(
        at.node(),
        homes.askTask(
            at,
            new HomeRequest.RunAt(at.node().value(), at.object(), at.color(), mode, fn),
            taskTimeout,
            "run a task at"));
  }

  /**
   * Runs a shipped function on an object homed here whose borrow the caller holds (exclusive for a
   * {@code write} in place, shared otherwise); the borrow ends with the run.
   */
  public CompletableFuture<HomeReply.TaskResult> runHere(
      OwnedObject obj, boolean write, byte[] fn) {
    RunMode mode = write ? RunMode.WRITE : RunMode.SHARED;
    return runner.withDeadline(
        runner.runHeld(obj, mode, fn, false), obj.address(), "a task at " + obj.address());
  }

  private <R> CompletableFuture<R> counted(NodeId target, CompletableFuture<R> request) {
    AtomicInteger inFlight = sent.computeIfAbsent(target, n -> new AtomicInteger());
    inFlight.incrementAndGet();
    return request.whenComplete(
        (reply, failure) -> {
          inFlight.decrementAndGet();
          if (reply instanceof HomeReply.TaskResult r) {
            reported.put(target, new Report(r.load(), System.nanoTime()));
          }
        });
  }
}
