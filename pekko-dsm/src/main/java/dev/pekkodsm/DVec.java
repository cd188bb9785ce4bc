package dev.pekkodsm;

import dev.pekkodsm.coherence.GlobalAddress;
import dev.pekkodsm.coherence.NodeId;
import dev.pekkodsm.coherence.home.RunMode;
import dev.pekkodsm.internal.ClientContext;
import dev.pekkodsm.internal.Futures;
import dev.pekkodsm.internal.HomeTasks;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;
import java.util.function.ObjIntConsumer;

/**
 * A distributed vector: Rust's {@code Vec<T>} whose storage is spread over the cluster.
 *
 * <p>A vector of values ({@link Dsm#vec}) keeps its elements in fixed-size chunks, each chunk an
 * object of its own owned by the vector and placed on a node of the cluster (round-robin, or all on
 * the creating node). Reading an element or iterating reads whole chunks one-sided into the read
 * cache, where they stay for later reads; {@link #set} and {@link #update} ship the change to the
 * chunk's node, so chunks stay where they were placed; {@link #mapChunks} and {@link #updateChunks}
 * run a function on every chunk where it lives, in parallel. Choose the chunk size by the access
 * pattern: 1 for large elements (a matrix split into tiles, each tile an element), thousands for
 * small ones (a column of numbers).
 *
 * <p>A vector of shared handles ({@link Dsm#mutexVec}) holds one handle per element, each homed on
 * the node it was placed on: a vector of {@link DMutex} buckets is a distributed hash table. {@link
 * #get} returns the element's handle, which stays valid while the vector does ({@code clone()} it
 * to keep it longer).
 *
 * <p>Ownership follows {@link DBox}: the vector owns its chunks, sending it in a message moves it
 * (its chunks stay where they are), and {@link #drop()} frees them. {@link #share()} returns a
 * read-only view that holds a shared reference to every chunk; it may be sent to any node, and
 * until every view is released the owner cannot change the values (Rust's {@code &Vec<T>}). A view
 * of a vector of handles is simply a clone of its handles.
 *
 * <p>Thread-safe.
 *
 * @param <T> the element's type; its class must be registered with the DSM serializer
 */
public final class DVec<T> implements AutoCloseable {

  /** Where the chunks (or handles) of a new vector are placed. */
  public enum Placement {
    /** Chunk {@code k} on the {@code k}-th Up member (in a fixed order, starting here), cycling. */
    ROUND_ROBIN,
    /** Every chunk on the creating node. */
    LOCAL
  }

  /** What the slots hold. */
  enum Kind {
    /** Chunks of values, each a {@code DBox<Object[]>} owned by the vector. */
    VALUES,
    /** A read-only view of such chunks: a {@code DRef<Object[]>} each. */
    VIEW,
    /** One shared handle per element. */
    HANDLES
  }

  private final ClientContext ctx;
  private final Kind kind;
  private final int size;
  private final int chunkSize;
  private final Object[] slots;
  private String death; // guarded by this; non-null once dropped or sent

  DVec(ClientContext ctx, Kind kind, int size, int chunkSize, Object[] slots) {
    this.ctx = ctx;
    this.kind = kind;
    this.size = size;
    this.chunkSize = chunkSize;
    this.slots = slots;
  }

  // ------------------------------------------------------------------ shape

  /** The number of elements. */
  public int size() {
    return size;
  }

  /** Elements per chunk (the last chunk may hold fewer); 1 for a vector of handles. */
  public int chunkSize() {
    return chunkSize;
  }

  /** The number of chunks (for a vector of handles, of elements). */
  public int chunkCount() {
    return slots.length;
  }

  /** True for a read-only view made by {@link #share()}. */
  public boolean isView() {
    return kind == Kind.VIEW;
  }

  /** The node where element {@code index} lives now. */
  public NodeId nodeOf(int index) {
    return chunkAddress(chunkOf(index)).node();
  }

  /** The address of chunk {@code chunk} (for a vector of handles, of that element's object). */
  public GlobalAddress chunkAddress(int chunk) {
    Objects.checkIndex(chunk, slots.length);
    Object slot = live()[chunk];
    if (slot instanceof DBox<?> b) {
      return b.address();
    } else if (slot instanceof DRef<?> r) {
      return r.address();
    } else if (slot instanceof DMutex<?> m) {
      return m.address();
    } else if (slot instanceof DArc<?> a) {
      return a.address();
    }
    return ((DAtomicLong) slot).address();
  }

  // ------------------------------------------------------------------ elements

  /**
   * Element {@code index}: read from its chunk (one one-sided read the first time the chunk's
   * current version is read on this node, then from the cache). It must not be modified. For a
   * vector of handles, the element's handle.
   *
   * @throws IndexOutOfBoundsException if index is outside the vector
   */
  public T get(int index) {
    return read(index, Function.identity());
  }

  /** {@link #get} without blocking. */
  public CompletionStage<T> getAsync(int index) {
    return readAsync(index, Function.identity());
  }

  /** Applies {@code fn} to element {@code index} under a shared borrow of its chunk. */
  public <R> R read(int index, Function<? super T, ? extends R> fn) {
    Objects.requireNonNull(fn, "fn");
    int offset = checkIndex(index) % chunkSize;
    Object slot = live()[chunkOf(index)];
    return switch (kind) {
      case VALUES -> chunkBox(slot).read(c -> fn.apply(element(c, offset)));
      case VIEW -> fn.apply(element(chunkRef(slot).get(), offset));
      case HANDLES -> fn.apply(handle(slot));
    };
  }

  /** {@link #read} without blocking. */
  public <R> CompletionStage<R> readAsync(int index, Function<? super T, ? extends R> fn) {
    Objects.requireNonNull(fn, "fn");
    int offset;
    Object slot;
    try {
      offset = checkIndex(index) % chunkSize;
      slot = live()[chunkOf(index)];
    } catch (RuntimeException e) {
      return CompletableFuture.failedFuture(e);
    }
    return switch (kind) {
      case VALUES -> chunkBox(slot).readAsync(c -> fn.apply(element(c, offset)));
      case VIEW -> chunkRef(slot).getAsync().thenApply(c -> fn.apply(element(c, offset)));
      case HANDLES -> CompletableFuture.completedFuture(fn.apply(handle(slot)));
    };
  }

  /**
   * Replaces element {@code index}, on its chunk's node: the chunk does not move, and its color
   * advances. Waits like a write for references lent by views.
   *
   * @throws IllegalStateException on a view or a vector of handles
   * @throws IllegalArgumentException if the value's class is not registered
   */
  public void set(int index, T value) {
    ctx.awaitTasks(setFuture(index, value), null, "set an element");
  }

  /** {@link #set} without blocking. */
  public CompletionStage<Void> setAsync(int index, T value) {
    return ctx.handOff(setFuture(index, value));
  }

  private CompletableFuture<Void> setFuture(int index, T value) {
    Objects.requireNonNull(value, "a DSM value must not be null");
    int offset = checkIndex(index) % chunkSize;
    DBox<Object[]> box = chunkBox(owned()[chunkOf(index)]);
    DFunction<Object[], Object> fn =
        c -> {
          c[offset] = value;
          return null;
        };
    return box.core
        .runWhereItLives(ctx.shipping().encode(fn, "the new element"), true)
        .thenApply(ignored -> null);
  }

  /**
   * Replaces element {@code index} with {@code fn(element)}, computed on its chunk's node, and
   * returns the new element. {@code fn} may instead change a mutable element in place and return
   * it. {@code fn} is serialized at this call, as for {@link Dsm#spawn}.
   *
   * @throws IllegalStateException on a view or a vector of handles
   */
  public T update(int index, DFunction<? super T, ? extends T> fn) {
    return ctx.awaitTasks(updateFuture(index, fn), null, "update an element");
  }

  /** {@link #update} without blocking. */
  public CompletionStage<T> updateAsync(int index, DFunction<? super T, ? extends T> fn) {
    return ctx.handOff(updateFuture(index, fn));
  }

  @SuppressWarnings("unchecked")
  private CompletableFuture<T> updateFuture(int index, DFunction<? super T, ? extends T> fn) {
    Objects.requireNonNull(fn, "fn");
    int offset = checkIndex(index) % chunkSize;
    DBox<Object[]> box = chunkBox(owned()[chunkOf(index)]);
    DFunction<Object[], Object> change =
        c -> {
          Object next = Objects.requireNonNull(fn.apply((T) c[offset]), "a DSM value");
          c[offset] = next;
          return next;
        };
    return box.core
        .runWhereItLives(ctx.shipping().encode(change, "the function"), true)
        .thenApply(v -> (T) v);
  }

  // ------------------------------------------------------------------ bulk

  /**
   * Calls {@code action} with every element and its index, in order. Each chunk is read once, as a
   * whole (one-sided when it lives elsewhere); the elements must not be modified.
   */
  public void forEach(ObjIntConsumer<? super T> action) {
    Objects.requireNonNull(action, "action");
    Object[] live = live();
    for (int k = 0; k < live.length; k++) {
      int base = k * chunkSize;
      Object slot = live[k];
      switch (kind) {
        case VALUES ->
            chunkBox(slot)
                .read(
                    c -> {
                      visit(c, base, action);
                      return null;
                    });
        case VIEW -> visit(chunkRef(slot).get(), base, action);
        case HANDLES -> action.accept(handle(slot), k);
      }
    }
  }

  @SuppressWarnings("unchecked")
  private void visit(Object[] chunk, int base, ObjIntConsumer<? super T> action) {
    for (int j = 0; j < chunk.length; j++) {
      action.accept((T) chunk[j], base + j);
    }
  }

  /** A copy of every element, in order; read as {@link #forEach} does. */
  public List<T> toList() {
    List<T> out = new ArrayList<>(size);
    forEach((e, i) -> out.add(e));
    return out;
  }

  /**
   * Runs {@code fn} on every chunk where it lives, all chunks in parallel, under a shared borrow
   * there, and completes with the results in chunk order. The list is the chunk's elements, read
   * only. {@code fn} is serialized at this call, as for {@link Dsm#spawn}.
   *
   * @throws IllegalStateException on a vector of handles (use each handle's own operations)
   */
  public <R> CompletionStage<List<R>> mapChunks(DFunction<? super List<T>, ? extends R> fn) {
    Objects.requireNonNull(fn, "fn");
    if (kind == Kind.HANDLES) {
      throw new IllegalStateException("a vector of handles has no chunks to map");
    }
    DFunction<Object[], Object> onChunk = c -> fn.apply(readOnly(c));
    byte[] bytes = ctx.shipping().encodeForMany(onChunk, "the function");
    List<CompletableFuture<Object>> runs = new ArrayList<>();
    for (Object slot : live()) {
      runs.add(
          kind == Kind.VALUES
              ? chunkBox(slot).core.runWhereItLives(bytes, false)
              : HomeTasks.runAtHome(chunkRef(slot).lend, RunMode.SHARED, bytes, "mapChunks"));
    }
    return ctx.handOff(Futures.<R>allInOrder(runs));
  }

  /**
   * Runs {@code fn} on every chunk where it lives, all chunks in parallel, under a mutable borrow
   * there: {@code fn} may set elements of the list (its size is fixed) or change them in place.
   * Completes with the results in chunk order once every chunk is done. Waits like a write for
   * references lent by views.
   *
   * @throws IllegalStateException on a view or a vector of handles
   */
  public <R> CompletionStage<List<R>> updateChunks(DFunction<? super List<T>, ? extends R> fn) {
    Objects.requireNonNull(fn, "fn");
    Object[] owned = owned();
    DFunction<Object[], Object> onChunk = c -> fn.apply(writable(c));
    byte[] bytes = ctx.shipping().encodeForMany(onChunk, "the function");
    List<CompletableFuture<Object>> runs = new ArrayList<>();
    for (Object slot : owned) {
      runs.add(chunkBox(slot).core.runWhereItLives(bytes, true));
    }
    return ctx.handOff(Futures.<R>allInOrder(runs));
  }

  @SuppressWarnings("unchecked")
  private static <T> List<T> readOnly(Object[] chunk) {
    return Collections.unmodifiableList(Arrays.asList((T[]) chunk));
  }

  @SuppressWarnings("unchecked")
  private static <T> List<T> writable(Object[] chunk) {
    return Arrays.asList((T[]) chunk);
  }

  // ------------------------------------------------------------------ sharing and dropping

  /**
   * A read-only view of this vector, holding a shared reference to every chunk (for a vector of
   * handles, a clone of each handle). Send it to any node; release it with {@link #drop()}.
   */
  public DVec<T> share() {
    return ctx.await(shareFuture(), null, "share a vector", DVec::drop);
  }

  /** {@link #share} without blocking. */
  public CompletionStage<DVec<T>> shareAsync() {
    return ctx.handOff(shareFuture());
  }

  private CompletableFuture<DVec<T>> shareFuture() {
    Object[] live;
    try {
      live = live();
    } catch (RuntimeException e) {
      return CompletableFuture.failedFuture(e);
    }
    List<CompletableFuture<Object>> parts = new ArrayList<>();
    for (Object slot : live) {
      parts.add(
          switch (kind) {
            case VALUES -> chunkBox(slot).shareAsync().toCompletableFuture().thenApply(r -> r);
            case VIEW -> CompletableFuture.completedFuture(chunkRef(slot).copy());
            case HANDLES -> CompletableFuture.completedFuture(cloneHandle(slot));
          });
    }
    return CompletableFuture.allOf(parts.toArray(CompletableFuture[]::new))
        .handle(
            (ok, failure) -> {
              Object[] copies = new Object[parts.size()];
              for (int k = 0; k < copies.length; k++) {
                copies[k] = parts.get(k).isCompletedExceptionally() ? null : parts.get(k).join();
              }
              if (failure != null) {
                for (Object c : copies) {
                  if (c != null) {
                    dropSlot(c);
                  }
                }
                throw Futures.propagate(failure);
              }
              return new DVec<>(
                  ctx, kind == Kind.HANDLES ? Kind.HANDLES : Kind.VIEW, size, chunkSize, copies);
            });
  }

  /**
   * Frees the vector: drops every chunk it owns (like {@link DBox#drop()}, waiting for views of it
   * to be released), or releases every reference of a view, or drops every handle. Idempotent; the
   * vector is dead afterwards.
   *
   * @throws BorrowConflictException if a view was not released within the borrow timeout; the
   *     vector stays usable, and a later {@code drop()} finishes the job
   */
  public void drop() {
    ctx.await(dropFuture(), null, "drop a vector");
  }

  /** Same as {@link #drop()}. */
  @Override
  public void close() {
    drop();
  }

  /** {@link #drop()} without blocking. */
  public CompletionStage<Void> dropAsync() {
    return ctx.handOff(dropFuture());
  }

  private CompletableFuture<Void> dropFuture() {
    Object[] all;
    synchronized (this) {
      if (death != null) {
        return CompletableFuture.completedFuture(null);
      }
      all = slots;
      if (kind != Kind.VALUES) {
        death = "it was dropped";
      }
    }
    if (kind != Kind.VALUES) {
      for (Object slot : all) {
        dropSlot(slot);
      }
      return CompletableFuture.completedFuture(null);
    }
    List<CompletableFuture<Void>> drops = new ArrayList<>();
    for (Object slot : all) {
      drops.add(
          chunkBox(slot)
              .dropAsync()
              .toCompletableFuture()
              .exceptionally(
                  failure -> {
                    if (Futures.unwrap(failure) instanceof UseAfterMoveException) {
                      return null; // dropped by an earlier drop() that did not finish
                    }
                    throw Futures.propagate(failure);
                  }));
    }
    return CompletableFuture.allOf(drops.toArray(CompletableFuture[]::new))
        .whenComplete(
            (ok, failure) -> {
              if (failure == null) {
                synchronized (this) {
                  if (death == null) {
                    death = "it was dropped";
                  }
                }
              }
            });
  }

  static void dropSlot(Object slot) {
    if (slot instanceof DBox<?> b) {
      b.dropAsync();
    } else if (slot instanceof DRef<?> r) {
      r.release();
    } else if (slot instanceof DMutex<?> m) {
      m.drop();
    } else if (slot instanceof DArc<?> a) {
      a.drop();
    } else if (slot instanceof DAtomicLong l) {
      l.drop();
    }
  }

  private static Object cloneHandle(Object slot) {
    if (slot instanceof DMutex<?> m) {
      return m.clone();
    } else if (slot instanceof DArc<?> a) {
      return a.clone();
    }
    return ((DAtomicLong) slot).clone();
  }

  @Override
  public String toString() {
    String state;
    synchronized (this) {
      state = death == null ? "" : ", dead: " + death;
    }
    return "DVec("
        + kind.name().toLowerCase(java.util.Locale.ROOT)
        + ", "
        + size
        + " elements in "
        + slots.length
        + (kind == Kind.HANDLES ? " handles" : " chunks of " + chunkSize)
        + state
        + ")";
  }

  // ------------------------------------------------------------------ internals

  Kind kind() {
    return kind;
  }

  /**
   * The slots, for sending: marks this vector dead (it moved with the message) and returns them;
   * {@link #revive} undoes it if the message cannot be sent.
   */
  synchronized Object[] takeForSend() {
    if (death != null) {
      throw new UseAfterMoveException(null, "this DVec is dead: " + death);
    }
    death = "it was sent to another node in a message, which owns it now";
    return slots.clone();
  }

  synchronized void revive() {
    death = null;
  }

  private synchronized Object[] live() {
    if (death != null) {
      throw new UseAfterMoveException(null, "this DVec is dead: " + death);
    }
    return slots;
  }

  private Object[] owned() {
    if (kind != Kind.VALUES) {
      throw new IllegalStateException(
          kind == Kind.VIEW
              ? "a view of a vector is read-only; change it through the vector that owns it"
              : "the elements of a vector of handles are changed through the handles");
    }
    return live();
  }

  private int checkIndex(int index) {
    return Objects.checkIndex(index, size);
  }

  private int chunkOf(int index) {
    return checkIndex(index) / chunkSize;
  }

  @SuppressWarnings("unchecked")
  private static DBox<Object[]> chunkBox(Object slot) {
    return (DBox<Object[]>) slot;
  }

  @SuppressWarnings("unchecked")
  private static DRef<Object[]> chunkRef(Object slot) {
    return (DRef<Object[]>) slot;
  }

  @SuppressWarnings("unchecked")
  private T element(Object[] chunk, int offset) {
    if (offset >= chunk.length) {
      throw new IllegalStateException(
          "a chunk of this vector holds "
              + chunk.length
              + " elements, not the "
              + chunkSize
              + " its shape says: it did not come from a DVec");
    }
    return (T) chunk[offset];
  }

  @SuppressWarnings("unchecked")
  private T handle(Object slot) {
    return (T) slot;
  }

  /** The slots' expected count for a shape; for validating what arrives on the wire. */
  static int slotCount(Kind kind, int size, int chunkSize) {
    return kind == Kind.HANDLES || size == 0 ? size : (size - 1) / chunkSize + 1;
  }
}
