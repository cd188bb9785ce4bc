package dev.pekkodsm.internal;

import dev.pekkodsm.DsmTimeoutException;
import dev.pekkodsm.coherence.BorrowState;
import dev.pekkodsm.coherence.GlobalAddress;
import dev.pekkodsm.coherence.MutexCell;
import dev.pekkodsm.coherence.NodeId;
import dev.pekkodsm.coherence.ObjectTable;
import dev.pekkodsm.coherence.OwnedObject;
import dev.pekkodsm.coherence.Snapshot;
import dev.pekkodsm.coherence.Timing;
import dev.pekkodsm.coherence.home.HomeReply;
import dev.pekkodsm.coherence.home.RunMode;
import dev.pekkodsm.coherence.mutex.MutexHome;
import dev.pekkodsm.memory.SyncFailedException;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ForkJoinWorkerThread;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs the tasks and functions shipped to this node on its task threads: plain tasks, functions run
 * on an object under the borrow their mode needs (committing a mutex's value or putting the last
 * committed one back), and mutex updates on the caller's thread when it is the home. Every local
 * run is awaited as long as a remote one, {@code pekko.dsm.tasks.timeout}.
 *
 * <p>Thread-safe.
 */
public final class TaskRunner {

  private static final Logger log = LoggerFactory.getLogger(TaskRunner.class);

  /** The node whose task the calling thread is running, for {@code Dsm.current()}. */
  private static final ThreadLocal<DsmNode> RUNNING = new ThreadLocal<>();

  private final DsmNode node;
  private final NodeId self;
  private final ObjectTable table;
  private final SnapshotPublisher publisher;
  private final Shipping shipping;
  private final Timing timing;
  private final Metrics metrics;
  private final DsmSettings settings;
  private final ForkJoinPool pool;
  private final ThreadPoolExecutor waiters; // null without replication
  private final AtomicInteger running = new AtomicInteger();

  TaskRunner(
      DsmNode node,
      ObjectTable table,
      SnapshotPublisher publisher,
      Shipping shipping,
      Timing timing,
      Metrics metrics,
      DsmSettings settings) {
    this.node = node;
    this.self = table.self();
    this.table = table;
    this.publisher = publisher;
    this.shipping = shipping;
    this.timing = timing;
    this.metrics = metrics;
    this.settings = settings;
    this.pool = pool(settings, self);
    this.waiters = settings.replicationFactor > 0 ? waiters(self) : null;
  }

  /**
   * Threads for the home's changes that wait for the backup (commits and atomic operations asked of
   * the home): mostly waiting, so that concurrent ones share a round trip to the backup rather than
   * queue behind each other on the thread that serves requests.
   */
  private static ThreadPoolExecutor waiters(NodeId self) {
    AtomicLong threadIds = new AtomicLong();
    ThreadPoolExecutor executor =
        new ThreadPoolExecutor(
            WAITER_THREADS,
            WAITER_THREADS,
            30,
            TimeUnit.SECONDS,
            new LinkedBlockingQueue<>(),
            r -> {
              Thread t =
                  new Thread(
                      r, "pekko-dsm-commit-" + self.hex() + "-" + threadIds.incrementAndGet());
              t.setDaemon(true);
              return t;
            });
    executor.allowCoreThreadTimeOut(true);
    return executor;
  }

  private static final int WAITER_THREADS = 32;

  /** Runs a home's change that may wait for the backup off the thread serving requests. */
  void offload(Runnable work) {
    if (waiters == null) {
      work.run();
      return;
    }
    try {
      waiters.execute(work);
    } catch (RejectedExecutionException e) {
      work.run(); // stopping: answer on this thread
    }
  }

  /**
   * The task threads: a fork-join pool of {@code tasks.threads} that adds a thread (up to {@code
   * tasks.max-threads}) whenever one blocks waiting for a DSM operation, since the operation may
   * itself need a task thread of this node (a task updating a mutex homed here whose lock another
   * task holds). A fixed pool would stall until the tasks' deadlines.
   */
  private static ForkJoinPool pool(DsmSettings settings, NodeId self) {
    AtomicLong threadIds = new AtomicLong();
    return new ForkJoinPool(
        settings.taskThreads,
        p -> {
          ForkJoinWorkerThread t = ForkJoinPool.defaultForkJoinWorkerThreadFactory.newThread(p);
          t.setName("pekko-dsm-task-" + self.hex() + "-" + threadIds.incrementAndGet());
          t.setDaemon(true);
          return t;
        },
        (thread, e) -> log.error("a task thread died", e),
        true, // FIFO: tasks start in the order they arrive
        0,
        Math.max(settings.taskThreads, settings.taskMaxThreads),
        1,
        p -> true, // at the cap, a blocked task simply waits
        30,
        TimeUnit.SECONDS);
  }

  /** The node whose task the calling thread is running, or null. */
  static DsmNode running() {
    return RUNNING.get();
  }

  /** Tasks running or queued on this node now. */
  int load() {
    return running.get();
  }

  /** Runs a shipped task here. Never fails: a task that throws completes with its error. */
  CompletableFuture<HomeReply.TaskResult> runTask(byte[] task) {
    return submit(
        () -> {
          Shipping.Shipped shipped = shipping.decode(task);
          try {
            if (!(shipped.value() instanceof Callable<?> callable)) {
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
        () -> shipping.discard(task));
  }

  /**
   * Runs a shipped function on an object homed here whose borrow (shared for {@link
   * RunMode#SHARED}, exclusive otherwise) the caller holds; the borrow ends with the run.
   *
   * @param remote the caller is on another node: after a write, the new color is published for it
   */
  CompletableFuture<HomeReply.TaskResult> runHeld(
      OwnedObject obj, RunMode mode, byte[] fnBytes, boolean remote) {
    Runnable release = mode == RunMode.SHARED ? obj::endShared : obj::endExclusive;
    return submit(
        () -> {
          Shipping.Shipped shipped = null;
          Function<Object, Object> fn;
          try {
            shipped = shipping.decode(fnBytes);
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
                  throw new IllegalArgumentException("a function under a lock runs by runLocked");
            };
          } finally {
            shipped.done();
          }
        },
        () -> {
          release.run();
          shipping.discard(fnBytes);
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
  private HomeReply.TaskResult written(
      OwnedObject obj, Function<Object, Object> fn, boolean remote) {
    Object result = null;
    Throwable error = null;
    try {
      result = fn.apply(obj.value());
    } catch (RuntimeException | Error e) {
      error = e;
    }
    endWrite(obj);
    HomeReply.TaskResult r = outcome(result, error);
    if (!remote) {
      return r;
    }
    // The box that owns the object is elsewhere: it reads the new color from a snapshot.
    GlobalAddress address = obj.address();
    try {
      Futures.await(
          obj.acquire(
              BorrowState.Kind.SHARED,
              null,
              0,
              "publishing a task's write",
              settings.borrowTimeout.toNanos()),
          settings.blockingBudget(),
          address,
          "publish " + address,
          ignored -> {});
      try {
        Snapshot snapshot = node.publisherOf(obj.address().node()).publish(obj);
        address = obj.address();
        return r.at(address.object(), address.color(), snapshot.locator(), snapshot.frameBytes());
      } finally {
        obj.endShared();
      }
    } catch (RuntimeException e) {
      // The box must still learn the new color (locator 0: no snapshot to read yet), or it
      // could never write, move or drop its object again.
      log.warn("the write of a task on {} could not be published: {}", address, e.toString());
      GlobalAddress now = obj.address();
      return r.at(now.object(), now.color(), 0, 0);
    }
  }

  /** Ends the exclusive borrow of a write on this node: the color advances. */
  void endWrite(OwnedObject obj) {
    metrics.localWrites.increment();
    Replication replication = node.replicationOf(obj.address().node());
    if (replication != null && replication.enabled()) {
      replication.endWrite(obj); // this node's object, or a promoted primary's, in its table
    } else {
      table.endWrite(obj);
    }
  }

  /**
   * Runs a shipped function under a mutex's lock, which the home holds for it as {@code word}: on
   * the committed value, committed again (or replaced by the result, for {@link
   * RunMode#LOCKED_REPLACE}) if it returns, left as it was if it throws; the lock is released
   * either way.
   */
  CompletableFuture<HomeReply.TaskResult> runLocked(
      OwnedObject obj, long word, RunMode mode, byte[] fnBytes) {
    MutexCell mutex = obj.mutexCell();
    long object = obj.objectId();
    MutexHome mutexes = node.mutexesOf(obj.address().node());
    return submit(
        () -> {
          Shipping.Shipped shipped = null;
          Function<Object, Object> fn;
          try {
            shipped = shipping.decode(fnBytes);
            fn = asFunction(shipped.value());
          } catch (RuntimeException e) {
            mutexes.releaseHere(mutex, object, word);
            if (shipped != null) {
              shipped.done();
            }
            throw e;
          }
          try {
            return outcome(
                underLock(obj, word, v -> fn.apply(v), mode == RunMode.LOCKED_REPLACE), null);
          } catch (RuntimeException | Error e) {
            return outcome(null, e);
          } finally {
            shipped.done();
          }
        },
        () -> {
          mutexes.releaseHere(mutex, object, word);
          shipping.discard(fnBytes);
        });
  }

  /**
   * The body of a change under a mutex's lock held by this node, its home, as {@code word}: runs
   * {@code fn} on the value and commits (the value, or {@code fn}'s result if {@code replace}), or
   * releases the lock with the committed value standing if {@code fn} throws or the new value
   * cannot be committed. Rethrows what {@code fn} threw.
   */
  Object underLock(OwnedObject obj, long word, Function<Object, Object> fn, boolean replace) {
    MutexCell mutex = obj.mutexCell();
    long object = obj.objectId();
    MutexHome mutexes = node.mutexesOf(obj.address().node());
    int[] color = new int[1];
    Object value;
    try {
      value = mutexes.ownedValue(mutex, object, word, color);
    } catch (RuntimeException e) {
      mutexes.releaseHere(mutex, object, word);
      throw e;
    }
    Object out;
    try {
      out = fn.apply(value);
    } catch (RuntimeException | Error e) {
      mutexes.releaseHere(mutex, object, word);
      throw e;
    }
    Object next = replace ? Objects.requireNonNull(out, "a DSM value must not be null") : value;
    try {
      mutexes.commitHere(mutex, object, word, next, color[0]);
    } catch (SyncFailedException fenced) {
      throw MutexCore.lockLost(obj.address(), fenced);
    } catch (RuntimeException e) {
      mutexes.releaseHere(mutex, object, word);
      throw MutexCore.notCommitted(obj.address(), e);
    }
    return out;
  }

  /**
   * Runs a shipped function on this thread as it would run shipped to this node: {@code
   * Dsm.current()} is this node meanwhile, and what it captured is let go of afterwards.
   */
  <R> R withShipped(byte[] fnBytes, Function<Function<Object, Object>, R> body) {
    Shipping.Shipped shipped = shipping.decode(fnBytes);
    DsmNode outer = RUNNING.get();
    RUNNING.set(node);
    try {
      return body.apply(asFunction(shipped.value()));
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
  private CompletableFuture<HomeReply.TaskResult> submit(
      Supplier<HomeReply.TaskResult> body, Runnable onRefused) {
    CompletableFuture<HomeReply.TaskResult> out = new CompletableFuture<>();
    try {
      if (running.incrementAndGet() > settings.taskThreads + settings.taskQueueLimit) {
        throw new RejectedExecutionException("queue full");
      }
      pool.execute(
          () -> {
            RUNNING.set(node);
            HomeReply.TaskResult result;
            try {
              result = body.get();
            } catch (Throwable t) {
              result = outcome(null, t);
            } finally {
              RUNNING.remove();
              running.decrementAndGet();
            }
            // Counted out before it is answered: whoever places the next task sees this one done.
            out.complete(result);
          });
    } catch (RejectedExecutionException e) {
      running.decrementAndGet();
      onRefused.run();
      out.complete(
          shipping.outcome(
              null,
              new RejectedExecutionException(
                  self
                      + " has "
                      + settings.taskQueueLimit
                      + " tasks waiting (pekko.dsm.tasks.queue-limit), or is shutting down"),
              running.get()));
    }
    return out;
  }

  /**
   * The answer of a task that is ending on this thread. The load it reports is what goes on after
   * it: counting the ending task itself made a node that had just run one look busy for the
   * report's lifetime, and placement passed it over.
   */
  private HomeReply.TaskResult outcome(Object result, Throwable error) {
    return shipping.outcome(result, error, Math.max(0, running.get() - 1));
  }

  /**
   * A local run's answer is awaited as long as a remote one's: {@code pekko.dsm.tasks.timeout}. An
   * answer that comes later is let go of (nobody will read it).
   */
  <R> CompletableFuture<R> withDeadline(CompletableFuture<R> local, GlobalAddress at, String what) {
    if (local.isDone()) {
      return local;
    }
    long millis = settings.taskTimeout.toMillis();
    CompletableFuture<R> out = new CompletableFuture<>();
    AtomicBoolean settled = new AtomicBoolean();
    Timing.Cancellable deadline =
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
          } else if (value instanceof HomeReply.TaskResult r) {
            shipping.discard(r); // nobody will read it: what it carried is let go of
          }
        });
    return out;
  }

  /** How long a caller waits for tasks: a task's timeout plus a borrow wait and a request. */
  Duration budget() {
    return settings
        .taskTimeout
        .plus(settings.borrowTimeout)
        .plus(settings.askTimeout)
        .plusSeconds(1);
  }

  void close() {
    pool.shutdownNow();
    if (waiters != null) {
      waiters.shutdownNow();
    }
  }
}
