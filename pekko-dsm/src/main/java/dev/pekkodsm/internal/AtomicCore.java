package dev.pekkodsm.internal;

import dev.pekkodsm.DsmException;
import dev.pekkodsm.coherence.AtomicCell;
import dev.pekkodsm.coherence.GlobalAddress;
import dev.pekkodsm.coherence.OwnedObject;
import dev.pekkodsm.coherence.home.HomeReply;
import dev.pekkodsm.coherence.home.HomeRequest;
import java.util.concurrent.CompletableFuture;

/**
 * The client side of a {@code DAtomicLong}: operations applied at the home (in place there, one
 * request and one reply from elsewhere) and one-sided reads of the latest value. Built on the
 * handle's {@link LendCore}, which holds its share.
 *
 * <p>Thread-safe.
 */
public final class AtomicCore {

  private final LendCore lend;
  private final ClientContext ctx;

  public AtomicCore(LendCore lend) {
    this.lend = lend;
    this.ctx = lend.context();
  }

  /** The share this handle holds. */
  public LendCore lend() {
    return lend;
  }

  public GlobalAddress address() {
    return lend.address();
  }

  /** The current value: one-sided on a node that is not the home. */
  public CompletableFuture<Long> get() {
    if (lend.form() == LendCore.Form.LOCAL) {
      return apply(AtomicCell.Op.GET, 0, 0).thenApply(AtomicCell.Result::value);
    }
    return lend.checkLiveAsync()
        .thenCompose(ok -> lend.readLatest(false))
        .thenApply(latest -> (Long) latest.value());
  }

  /** Applies {@code op} at the home. */
  public CompletableFuture<AtomicCell.Result> apply(AtomicCell.Op op, long a, long b) {
    if (lend.form() == LendCore.Form.LOCAL) {
      try {
        lend.checkLive();
        OwnedObject obj = lend.localObject();
        return CompletableFuture.completedFuture(
            obj.atomicCell().apply(ctx.publisher(), obj, op, a, b));
      } catch (RuntimeException e) {
        return CompletableFuture.failedFuture(e);
      }
    }
    GlobalAddress at = address();
    return lend.checkLiveAsync()
        .thenCompose(
            ok ->
                ctx.homes()
                    .ask(
                        at,
                        new HomeRequest.AtomicOp(at.node().value(), at.object(), op, a, b),
                        ctx.settings().askTimeout,
                        "update the atomic"))
        .thenApply(
            reply -> {
              if (reply instanceof HomeReply.AtomicDone d) {
                return new AtomicCell.Result(d.value(), d.done());
              }
              throw new DsmException(at, "the atomic " + at + " refused: " + reply);
            });
  }
}
