package dev.pekkodsm;

import dev.pekkodsm.internal.Futures;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * A scope for a group of tasks: everything spawned through it is awaited by {@link #join()}, which
 * fails with the first failure (in spawn order) and carries the others as suppressed exceptions.
 * {@link #close()} joins, so a try-with-resources block never leaves a task of its group behind.
 *
 * <pre>{@code
 * try (TaskGroup group = dsm.taskGroup()) {
 *   for (DBox<Tile> tile : tiles) {
 *     group.spawnTo(tile, t -> t.multiply(factor));
 *   }
 * } // every task has ended here; the first failure is thrown
 * }</pre>
 *
 * <p>The stages returned by the spawn methods complete as usual; the group only waits. Thread-safe.
 */
public final class TaskGroup implements AutoCloseable {

  private final Dsm dsm;
  private final List<CompletableFuture<?>> tasks = new ArrayList<>();
  private boolean joined;

  TaskGroup(Dsm dsm) {
    this.dsm = dsm;
  }

  /** {@link Dsm#spawn} in this group. */
  public <R> CompletionStage<R> spawn(DCallable<R> task) {
    return add(dsm.spawn(task));
  }

  /** {@link Dsm#spawnOn} in this group. */
  public <R> CompletionStage<R> spawnOn(dev.pekkodsm.coherence.NodeId node, DCallable<R> task) {
    return add(dsm.spawnOn(node, task));
  }

  /** {@link Dsm#spawnTo(DBox, DFunction)} in this group. */
  public <T, R> CompletionStage<R> spawnTo(DBox<T> box, DFunction<? super T, ? extends R> fn) {
    return add(dsm.spawnTo(box, fn));
  }

  /** {@link Dsm#spawnTo(DRef, DFunction)} in this group. */
  public <T, R> CompletionStage<R> spawnTo(DRef<T> ref, DFunction<? super T, ? extends R> fn) {
    return add(dsm.spawnTo(ref, fn));
  }

  /** {@link Dsm#spawnTo(DArc, DFunction)} in this group. */
  public <T, R> CompletionStage<R> spawnTo(DArc<T> arc, DFunction<? super T, ? extends R> fn) {
    return add(dsm.spawnTo(arc, fn));
  }

  /** {@link Dsm#spawnTo(DMutex, DFunction)} in this group. */
  public <T, R> CompletionStage<R> spawnTo(DMutex<T> mutex, DFunction<? super T, ? extends R> fn) {
    return add(dsm.spawnTo(mutex, fn));
  }

  private synchronized <R> CompletionStage<R> add(CompletionStage<R> stage) {
    if (joined) {
      throw new IllegalStateException("this task group has been joined; start a new one");
    }
    tasks.add(stage.toCompletableFuture());
    return stage;
  }

  /**
   * Completes when every task of the group has ended: normally if all succeeded, otherwise with the
   * first failure in spawn order, the others suppressed in it. No task can be added afterwards.
   */
  public CompletionStage<Void> joinAsync() {
    List<CompletableFuture<?>> all;
    synchronized (this) {
      joined = true;
      all = List.copyOf(tasks);
    }
    return Futures.allInOrder(all).thenApply(results -> null);
  }

  /**
   * Waits for every task of the group (each is bounded by {@code pekko.dsm.tasks.timeout}) and
   * throws the first failure in spawn order.
   */
  public void join() {
    CompletableFuture<Void> all = joinAsync().toCompletableFuture();
    try {
      all.join();
    } catch (java.util.concurrent.CompletionException e) {
      Throwable cause = Futures.unwrap(e);
      if (cause instanceof RuntimeException r) {
        throw r;
      }
      if (cause instanceof Error err) {
        throw err;
      }
      throw e;
    }
  }

  /** Same as {@link #join()}. */
  @Override
  public void close() {
    join();
  }
}
