package dev.pekkodsm.internal;

import dev.pekkodsm.DsmException;
import dev.pekkodsm.DsmTimeoutException;
import dev.pekkodsm.StaleReferenceException;
import dev.pekkodsm.coherence.AtomicCell;
import dev.pekkodsm.coherence.GlobalAddress;
import dev.pekkodsm.coherence.home.HomeReply;
import dev.pekkodsm.coherence.home.HomeRequest;
import dev.pekkodsm.memory.SyncAccess;
import dev.pekkodsm.memory.SyncFailedException;
import dev.pekkodsm.memory.SyncStatus;
import java.util.concurrent.CompletableFuture;

/**
 * The client side of a {@code DAtomicLong}: every operation is one atomic operation on the atomic's
 * cell in its home's sync region, one-sided from every node (the home's own mapping on the home,
 * the transport's atomics elsewhere). Where the transport has no one-sided atomics, or the home
 * keeps a backup ({@code pekko.dsm.replication.factor} 1: the backup must hold a new value before
 * it can be seen), a change is sent to the home, which applies it; a read stays one-sided. Built on
 * the handle's {@link LendCore}, which holds its share.
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

  private long cell() {
    return lend.form() == LendCore.Form.LOCAL
        ? lend.localObject().atomicCell().cell()
        : lend.locator();
  }

  /** The current value. */
  public CompletableFuture<Long> get() {
    return apply(AtomicCell.Op.GET, 0, 0).thenApply(AtomicCell.Result::value);
  }

  /** Applies {@code op} one-sided, or at the home if the transport has no atomics. */
  public CompletableFuture<AtomicCell.Result> apply(AtomicCell.Op op, long a, long b) {
    if (op != AtomicCell.Op.GET && ctx.replicated() && lend.form() != LendCore.Form.LOCAL) {
      // The home's backup must hold the new value before it is seen: the home changes it.
      return lend.checkLiveAsync().thenCompose(ok -> applyAtReplicatedHome(op, a, b));
    }
    CompletableFuture<Void> live = lend.checkLiveAsync();
    if (live.isDone() && !live.isCompletedExceptionally()) {
      CompletableFuture<SyncAccess> sync = ctx.sync(address().node());
      if (sync.isDone() && !sync.isCompletedExceptionally()) {
        return applyOneSided(sync.join(), op, a, b);
      }
    }
    return live.thenCompose(ok -> ctx.sync(address().node()))
        .thenCompose(sync -> applyOneSided(sync, op, a, b));
  }

  private CompletableFuture<AtomicCell.Result> applyOneSided(
      SyncAccess sync, AtomicCell.Op op, long a, long b) {
    try {
      AtomicCell.Result r =
          AtomicCell.apply(sync, cell(), address().object(), op, a, b, ctx.deadlineNs());
      ctx.metrics().oneSided(sync, false, op == AtomicCell.Op.GET, Long.BYTES);
      return CompletableFuture.completedFuture(r);
    } catch (SyncFailedException e) {
      if (e.status() == SyncStatus.UNAVAILABLE && !ctx.isDeparted(address().node())) {
        return applyAtHome(op, a, b);
      }
      return CompletableFuture.failedFuture(ctx.reader().syncFailed(address(), e));
    }
  }

  /** Asks the home over its tcp server, or through sharding if that cannot be sent. */
  private CompletableFuture<AtomicCell.Result> applyAtReplicatedHome(
      AtomicCell.Op op, long a, long b) {
    HomeSync home = ctx.homeSync(address().node());
    if (home.available()) {
      try {
        return CompletableFuture.completedFuture(
            home.atomic(cell(), address().object(), op, a, b, ctx.deadlineNs()));
      } catch (SyncFailedException e) {
        if (e.status() != SyncStatus.UNAVAILABLE) {
          // The home answered, or may have: the object is not lost even if its node left (a
          // promoter answers for it), so the status says what happened.
          return CompletableFuture.failedFuture(atHomeFailed(e));
        }
        // not sent: asked through sharding below
      }
    }
    return applyAtHome(op, a, b);
  }

  private RuntimeException atHomeFailed(SyncFailedException e) {
    GlobalAddress at = address();
    return switch (e.status()) {
      case TIMED_OUT ->
          new DsmTimeoutException(
              at, "the home of " + at + " did not answer in time: " + e.getMessage(), e);
      case NOT_THIS_OBJECT, OUT_OF_RANGE ->
          new StaleReferenceException(
              at, at.objectName() + " is gone at its home: " + e.getMessage());
      default -> new DsmException(at, "the home of " + at + " failed the operation: " + e, e);
    };
  }

  private CompletableFuture<AtomicCell.Result> applyAtHome(AtomicCell.Op op, long a, long b) {
    GlobalAddress at = address();
    return ctx.homes()
        .ask(
            at,
            new HomeRequest.AtomicOp(at.node().value(), at.object(), op, a, b),
            ctx.settings().askTimeout,
            "update the atomic")
        .thenApply(
            reply -> {
              if (reply instanceof HomeReply.AtomicDone d) {
                return new AtomicCell.Result(d.value(), d.done());
              }
              throw new DsmException(at, "the atomic " + at + " refused: " + reply);
            });
  }
}
