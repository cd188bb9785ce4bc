package dev.pekkodsm.internal;

import dev.pekkodsm.StaleReferenceException;
import dev.pekkodsm.coherence.GlobalAddress;
import dev.pekkodsm.coherence.client.Refusals;
import dev.pekkodsm.coherence.home.HomeReply;
import dev.pekkodsm.coherence.home.RunMode;
import java.util.concurrent.CompletableFuture;

/** Functions run where a shared handle's value lives: at its home, under the mode's borrow. */
public final class HomeTasks {

  private HomeTasks() {}

  /**
   * Runs a shipped function on the value of a shared handle, at its home: the outcome, or the
   * home's refusal as the public exception. A function that did not run is let go of here.
   */
  public static CompletableFuture<Object> runAtHome(
      LendCore lend, RunMode mode, byte[] fn, String operation) {
    ClientContext ctx = lend.context();
    GlobalAddress at = lend.address();
    CompletableFuture<Void> live = lend.checkLiveAsync();
    return live.thenCompose(ok -> ctx.tasks().runAt(at, mode, fn))
        .handle(
            (reply, failure) -> {
              if (failure != null) {
                if (live.isCompletedExceptionally()) {
                  ctx.shipping().discard(fn); // it never left
                }
                throw Futures.propagate(failure);
              }
              if (reply instanceof HomeReply.TaskResult r) {
                return ctx.shipping().value(at.node(), at, r);
              }
              ctx.shipping().discard(fn); // refused: it did not run
              HomeReply.Refused r = (HomeReply.Refused) reply;
              throw switch (Refusals.decide(r)) {
                case CONFLICT -> ctx.errors().conflict(at, operation, r);
                case LOST -> ctx.errors().lost(at);
                case GONE ->
                    new StaleReferenceException(
                        at, operation + " of " + at + " found it gone at its home: " + r.detail());
                case FAILED -> ctx.errors().failedAtHome(at, operation, r);
              };
            });
  }
}
