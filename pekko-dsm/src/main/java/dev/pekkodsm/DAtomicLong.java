package dev.pekkodsm;

import dev.pekkodsm.coherence.AtomicCell;
import dev.pekkodsm.coherence.GlobalAddress;
import dev.pekkodsm.internal.AtomicCore;
import dev.pekkodsm.internal.ClientContext;
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

  final AtomicCore core;

  DAtomicLong(AtomicCore core) {
    this.core = core;
  }

  /** The atomic's address; it never changes. */
  public GlobalAddress address() {
    return core.address();
  }

  /** The current value. One-sided on a node that is not the home. */
  public long get() {
    return await(getAsync(), "read");
  }

  /** {@link #get()} without blocking. */
  public CompletionStage<Long> getAsync() {
    return ctx().handOff(core.get());
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
    return ctx()
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
    return ctx()
        .handOff(apply(AtomicCell.Op.GET_AND_ADD, delta, 0).thenApply(AtomicCell.Result::value));
  }

  /** Sets the value to {@code update} if it is {@code expect}; true if it did. */
  public boolean compareAndSet(long expect, long update) {
    return await(apply(AtomicCell.Op.COMPARE_AND_SET, expect, update), "compare and set").done();
  }

  /** {@link #compareAndSet} without blocking. */
  public CompletionStage<Boolean> compareAndSetAsync(long expect, long update) {
    return ctx()
        .handOff(
            apply(AtomicCell.Op.COMPARE_AND_SET, expect, update)
                .thenApply(AtomicCell.Result::done));
  }

  /** Another handle to the same atomic, owning a share of it. Costs no message. */
  @Override
  public DAtomicLong clone() {
    return new DAtomicLong(new AtomicCore(core.lend().copy()));
  }

  /** Gives up this handle's share; the last one dropped anywhere frees the atomic. Idempotent. */
  public void drop() {
    core.lend().release();
  }

  /** Same as {@link #drop()}. */
  @Override
  public void close() {
    drop();
  }

  @Override
  public String toString() {
    return core.lend().toString();
  }

  private CompletableFuture<AtomicCell.Result> apply(AtomicCell.Op op, long a, long b) {
    return core.apply(op, a, b);
  }

  private ClientContext ctx() {
    return core.lend().context();
  }

  private <R> R await(CompletionStage<R> stage, String what) {
    return ctx().await(stage.toCompletableFuture(), address(), what + " " + address());
  }
}
