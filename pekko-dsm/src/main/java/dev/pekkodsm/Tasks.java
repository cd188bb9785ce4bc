package dev.pekkodsm;

import dev.pekkodsm.coherence.GlobalAddress;
import dev.pekkodsm.internal.DsmNode;
import dev.pekkodsm.internal.Protocol;
import java.util.concurrent.CompletableFuture;

/** What the shared handles have in common when they run a function where their value lives. */
final class Tasks {

  private Tasks() {}

  /**
   * Runs a shipped function on the value of a shared handle, at its home: the outcome, or the
   * home's refusal as the public exception.
   */
  static CompletableFuture<Object> runAtHome(
      Lend<?> lend, Protocol.RunMode mode, byte[] fn, String operation) {
    DsmNode node = lend.node();
    GlobalAddress at = lend.address();
    CompletableFuture<Void> live = lend.checkLiveAsync();
    return live.thenCompose(ok -> node.runAt(at, mode, fn))
        .handle(
            (reply, failure) -> {
              if (failure != null) {
                if (live.isCompletedExceptionally()) {
                  node.discardShipped(fn); // it never left
                }
                Throwable cause = DBox.unwrap(failure);
                throw cause instanceof RuntimeException r
                    ? r
                    : new java.util.concurrent.CompletionException(cause);
              }
              if (reply instanceof Protocol.TaskResult r) {
                return node.taskValue(at.node(), at, r);
              }
              node.discardShipped(fn); // refused: it did not run
              throw refused(node, at, (Protocol.Refused) reply, operation);
            });
  }

  /**
   * Completes when every stage has: with their results in order, or with the first failure in
   * order, the others suppressed in it.
   */
  @SuppressWarnings("unchecked")
  static <R> CompletableFuture<java.util.List<R>> allInOrder(
      java.util.List<? extends CompletableFuture<?>> stages) {
    return CompletableFuture.allOf(stages.toArray(CompletableFuture[]::new))
        .handle(
            (ok, ignored) -> {
              Throwable first = null;
              java.util.List<R> out = new java.util.ArrayList<>(stages.size());
              for (CompletableFuture<?> stage : stages) {
                try {
                  out.add((R) stage.join());
                } catch (java.util.concurrent.CompletionException
                    | java.util.concurrent.CancellationException e) {
                  Throwable cause = DBox.unwrap(e);
                  if (first == null) {
                    first = cause;
                  } else if (cause != first) {
                    first.addSuppressed(cause);
                  }
                }
              }
              if (first != null) {
                throw first instanceof RuntimeException r
                    ? r
                    : new java.util.concurrent.CompletionException(first);
              }
              return out;
            });
  }

  /** A home's refusal of a shared handle's task, as the public exception. */
  static RuntimeException refused(
      DsmNode node, GlobalAddress at, Protocol.Refused r, String operation) {
    return switch (r.reason()) {
      case CONFLICT ->
          node.conflict(
              at,
              operation,
              r.readers(),
              null,
              DsmNode.holders(r.lent()),
              node.settings().borrowTimeout.toNanos());
      case LOST -> node.lost(at);
      case MOVED, DROPPED, UNKNOWN, STALE ->
          new StaleReferenceException(
              at, operation + " of " + at + " found it gone at its home: " + r.detail());
      case FAILED -> new DsmException(at, operation + " of " + at + " failed: " + r.detail());
    };
  }
}
