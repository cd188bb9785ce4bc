package dev.pekkodsm.internal;

import dev.pekkodsm.DsmException;
import dev.pekkodsm.DsmTimeoutException;
import dev.pekkodsm.coherence.GlobalAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;
import java.util.function.Supplier;

/** The DSM's one way of completing, unwrapping and waiting for futures. */
public final class Futures {

  private Futures() {}

  /**
   * A plain future completed on the thread that completes {@code stage}. Futures from Pekko's Java
   * ask run even non-async callbacks on the common pool, which on a machine with one or two
   * processors means a new thread per reply; everything derived from them inherits that.
   */
  public static <T> CompletableFuture<T> plain(CompletionStage<T> stage) {
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

  /** The failure inside a {@link CompletionException}. */
  public static Throwable unwrap(Throwable t) {
    while (t instanceof CompletionException && t.getCause() != null) {
      t = t.getCause();
    }
    return t;
  }

  /**
   * A failure to throw from inside a future's stage: the unwrapped failure if unchecked (so callers
   * see the DSM's own exception), else wrapped.
   */
  public static RuntimeException propagate(Throwable failure) {
    Throwable cause = unwrap(failure);
    return cause instanceof RuntimeException r ? r : new CompletionException(cause);
  }

  /**
   * Waits for a future that the DSM guarantees to complete within its own deadlines, and rethrows
   * its failure as is. If the caller gives up first (interrupted, or past {@code budget}), {@code
   * onAbandon} undoes whatever the future still grants later, so that nothing is left held by
   * nobody.
   */
  public static <T> T await(
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

  /**
   * The stage handed to a user: if it is not complete yet, its continuations will run on {@code
   * executor}, never on the node's timer thread or on an actor's.
   */
  public static <T> CompletableFuture<T> handOff(CompletableFuture<T> future, Executor executor) {
    if (future.isDone()) {
      return future;
    }
    return future.whenCompleteAsync((v, e) -> {}, executor);
  }

  /**
   * Runs {@code attempt} until it settles. An empty answer means the state the attempt relied on
   * changed under it (a box moved, its place was replaced), so it is made afresh: at once when the
   * answer was immediate, after the answer otherwise. A failure ends it.
   */
  public static <T> CompletableFuture<T> untilSettled(
      Supplier<CompletableFuture<Optional<T>>> attempt) {
    while (true) {
      CompletableFuture<Optional<T>> f = attempt.get();
      if (!f.isDone() || f.isCompletedExceptionally()) {
        return f.thenCompose(
            answer ->
                answer.isPresent()
                    ? CompletableFuture.completedFuture(answer.get())
                    : untilSettled(attempt));
      }
      Optional<T> answer = f.join();
      if (answer.isPresent()) {
        return CompletableFuture.completedFuture(answer.get());
      }
    }
  }

  /**
   * Completes when every stage has: with their results in order, or with the first failure in
   * order, the others suppressed in it.
   */
  @SuppressWarnings("unchecked")
  public static <R> CompletableFuture<List<R>> allInOrder(
      List<? extends CompletableFuture<?>> stages) {
    return CompletableFuture.allOf(stages.toArray(CompletableFuture[]::new))
        .handle(
            (ok, ignored) -> {
              Throwable first = null;
              List<R> out = new ArrayList<>(stages.size());
              for (CompletableFuture<?> stage : stages) {
                try {
                  out.add((R) stage.join());
                } catch (CompletionException | CancellationException e) {
                  Throwable cause = unwrap(e);
                  if (first == null) {
                    first = cause;
                  } else if (cause != first) {
                    first.addSuppressed(cause);
                  }
                }
              }
              if (first != null) {
                throw propagate(first);
              }
              return out;
            });
  }
}
