package dev.pekkodsm;

import dev.pekkodsm.coherence.GlobalAddress;
import dev.pekkodsm.internal.AtomicCell;
import dev.pekkodsm.internal.DsmNode;
import dev.pekkodsm.internal.Protocol;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * A {@code long} with shared ownership, updated atomically at its home: Rust's {@code
 * Arc<AtomicI64>} across a cluster.
 *
 * <p>{@link #get()} is a one-sided read on any node (no message to the home) and sees every update
 * that completed before it started. Updates run at the home: in place on the home node, one request
 * and one reply from anywhere else. Handles are cloned, sent and dropped like {@link DArc} handles;
 * the value is freed when the last handle is dropped.
 *
 * <p>Created with {@link Dsm#atomicLong(long)}. Every blocking call has an {@code ...Async} twin.
 * Thread-safe.
 */
public final class DAtomicLong implements AutoCloseable {

  final Lend<Object> lend;
  private volatile long locator; // of a remote home's snapshot: it moves if it outgrows its slot

  DAtomicLong(Lend<Object> lend) {
    this.lend = lend;
    this.locator = lend.locator();
  }

  /** The atomic's address; it never changes. */
  public GlobalAddress address() {
    return lend.address();
  }

  /** The current value. One-sided on a node that is not the home. */
  public long get() {
    return await(getAsync(), "read");
  }

  /** {@link #get()} without blocking. */
  public CompletionStage<Long> getAsync() {
    if (lend.kind() == Lend.Kind.LENT_LOCAL) {
      return apply(AtomicCell.Op.GET, 0, 0).thenApply(AtomicCell.Result::value);
    }
    DsmNode node = lend.node();
    return node.handOff(
        lend.checkLiveAsync()
            .thenCompose(
                ok ->
                    node.readLatest(address(), locator)
                        .exceptionallyCompose(
                            failure ->
                                DBox.unwrap(failure) instanceof StaleReferenceException
                                    ? relocate().thenCompose(at -> node.readLatest(address(), at))
                                    : CompletableFuture.failedFuture(failure)))
            .thenApply(latest -> (Long) latest.value()));
  }

  /** Sets the value; returns the previous one. */
  public long getAndSet(long value) {
    return await(apply(AtomicCell.Op.SET, value, 0), "set").value();
  }

  /** Adds one and returns the new value. */
  public long incrementAndGet() {
    return addAndGet(1);
  }

  /** Subtracts one and returns the new value. */
  public long decrementAndGet() {
    return addAndGet(-1);
  }

  /** Adds {@code delta} and returns the new value. */
  public long addAndGet(long delta) {
    return await(apply(AtomicCell.Op.ADD_AND_GET, delta, 0), "add to").value();
  }

  /** {@link #addAndGet} without blocking. */
  public CompletionStage<Long> addAndGetAsync(long delta) {
    return lend.node()
        .handOff(apply(AtomicCell.Op.ADD_AND_GET, delta, 0).thenApply(AtomicCell.Result::value));
  }

  /** {@link #incrementAndGet} without blocking. */
  public CompletionStage<Long> incrementAndGetAsync() {
    return addAndGetAsync(1);
  }

  /** Adds {@code delta} and returns the previous value. */
  public long getAndAdd(long delta) {
    return await(apply(AtomicCell.Op.GET_AND_ADD, delta, 0), "add to").value();
  }

  /** {@link #getAndAdd} without blocking. */
  public CompletionStage<Long> getAndAddAsync(long delta) {
    return lend.node()
        .handOff(apply(AtomicCell.Op.GET_AND_ADD, delta, 0).thenApply(AtomicCell.Result::value));
  }

  /** Sets the value to {@code update} if it is {@code expect}; true if it did. */
  public boolean compareAndSet(long expect, long update) {
    return await(apply(AtomicCell.Op.COMPARE_AND_SET, expect, update), "compare and set").done();
  }

  /** {@link #compareAndSet} without blocking. */
  public CompletionStage<Boolean> compareAndSetAsync(long expect, long update) {
    return lend.node()
        .handOff(
            apply(AtomicCell.Op.COMPARE_AND_SET, expect, update)
                .thenApply(AtomicCell.Result::done));
  }

  /** Another handle to the same atomic, owning a share of it. Costs no message. */
  @Override
  public DAtomicLong clone() {
    return new DAtomicLong(lend.copy());
  }

  /** Gives up this handle's share; the last one dropped anywhere frees the atomic. Idempotent. */
  public void drop() {
    lend.release();
  }

  /** Same as {@link #drop()}. */
  @Override
  public void close() {
    drop();
  }

  @Override
  public String toString() {
    return lend.toString();
  }

  private CompletableFuture<AtomicCell.Result> apply(AtomicCell.Op op, long a, long b) {
    DsmNode node = lend.node();
    if (lend.kind() == Lend.Kind.LENT_LOCAL) {
      try {
        lend.checkLive();
        AtomicCell cell = (AtomicCell) lend.localObject().value();
        return CompletableFuture.completedFuture(cell.apply(node, lend.localObject(), op, a, b));
      } catch (RuntimeException e) {
        return CompletableFuture.failedFuture(e);
      }
    }
    GlobalAddress at = address();
    return lend.checkLiveAsync()
        .thenCompose(
            ok ->
                node.ask(
                    at,
                    replyTo ->
                        new Protocol.AtomicOp(at.node().value(), at.object(), op, a, b, replyTo),
                    node.settings().askTimeout,
                    "update the atomic"))
        .thenApply(
            reply -> {
              if (reply instanceof Protocol.AtomicDone d) {
                return new AtomicCell.Result(d.value(), d.done());
              }
              throw new DsmException(at, "the atomic " + at + " refused: " + reply);
            });
  }

  /** Asks the home where the snapshot lives now, and remembers it. */
  private CompletableFuture<Long> relocate() {
    return lend.locateSnapshot()
        .thenApply(
            at -> {
              locator = at;
              return at;
            });
  }

  private <R> R await(CompletionStage<R> stage, String what) {
    return lend.node().await(stage.toCompletableFuture(), address(), what + " " + address());
  }
}
