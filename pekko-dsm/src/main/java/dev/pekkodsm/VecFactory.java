package dev.pekkodsm;

import dev.pekkodsm.coherence.NodeId;
import dev.pekkodsm.internal.ClientContext;
import dev.pekkodsm.internal.Futures;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;

/**
 * Builds distributed vectors: chunks computed or settled on the nodes they are placed on, and the
 * vector assembled once every chunk is there (or every chunk made so far dropped, if one failed).
 */
final class VecFactory {

  private static final int MUTEXES_PER_TASK = 512;

  private VecFactory() {}

  /** A vector of {@code values}, chunked and placed. */
  static <T> CompletableFuture<DVec<T>> ofValues(
      Dsm dsm, List<? extends T> values, int chunkSize, DVec.Placement placement) {
    ClientContext ctx = dsm.context();
    int size = values.size();
    checkShape(size, chunkSize);
    java.util.Set<Class<?>> checked = new java.util.HashSet<>();
    for (T v : values) {
      Objects.requireNonNull(v, "a DSM value must not be null");
      if (checked.add(v.getClass())) {
        dsm.requireRegistered(v);
      }
    }
    List<NodeId> targets = targets(ctx, placement);
    List<CompletableFuture<Object>> parts = new ArrayList<>();
    int chunks = DVec.slotCount(DVec.Kind.VALUES, size, chunkSize);
    for (int k = 0; k < chunks; k++) {
      int from = k * chunkSize;
      Object[] chunk =
          values.subList(from, Math.min(size, from + chunkSize)).toArray(new Object[0]);
      NodeId target = targets.get(k % targets.size());
      DBox<Object[]> box = dsm.alloc(chunk);
      parts.add(
          target.equals(ctx.self())
              ? CompletableFuture.completedFuture(box)
              : settle(ctx, box, target));
    }
    return assemble(ctx, DVec.Kind.VALUES, size, chunkSize, parts);
  }

  /**
   * Moves a chunk allocated here to {@code target}: a task there writes it (which moves it) and
   * returns the box, so this node owns a chunk that lives there.
   */
  private static CompletableFuture<Object> settle(
      ClientContext ctx, DBox<Object[]> box, NodeId target) {
    DCallable<DBox<Object[]>> settle =
        () -> {
          box.write(c -> c.length);
          return box;
        };
    return spawn(ctx, target, ctx.shipping().encode(settle, "a chunk"));
  }

  /** A vector whose element {@code i} is {@code init.apply(i)}, computed on its chunk's node. */
  static <T> CompletableFuture<DVec<T>> generated(
      Dsm dsm,
      int size,
      int chunkSize,
      DFunction<Integer, ? extends T> init,
      DVec.Placement placement) {
    ClientContext ctx = dsm.context();
    checkShape(size, chunkSize);
    ctx.shipping().encodeForMany(init, "the initializer"); // fails here if it cannot travel
    List<NodeId> targets = targets(ctx, placement);
    List<CompletableFuture<Object>> parts = new ArrayList<>();
    int chunks = DVec.slotCount(DVec.Kind.VALUES, size, chunkSize);
    for (int k = 0; k < chunks; k++) {
      int base = k * chunkSize;
      int length = Math.min(size, base + chunkSize) - base;
      NodeId target = targets.get(k % targets.size());
      DCallable<DBox<Object[]>> build = () -> buildChunk(init, base, length);
      parts.add(spawn(ctx, target, ctx.shipping().encode(build, "the initializer")));
    }
    return assemble(ctx, DVec.Kind.VALUES, size, chunkSize, parts);
  }

  private static DBox<Object[]> buildChunk(DFunction<Integer, ?> init, int base, int length) {
    Object[] chunk = new Object[length];
    for (int j = 0; j < length; j++) {
      chunk[j] =
          Objects.requireNonNull(
              init.apply(base + j), "the initializer returned null for element " + (base + j));
    }
    return Dsm.current().alloc(chunk);
  }

  /** A vector of mutexes, mutex {@code i} holding {@code init.apply(i)} and homed where placed. */
  static <V> CompletableFuture<DVec<DMutex<V>>> ofMutexes(
      Dsm dsm, int size, DFunction<Integer, ? extends V> init, DVec.Placement placement) {
    ClientContext ctx = dsm.context();
    checkShape(size, 1);
    ctx.shipping().encodeForMany(init, "the initializer");
    List<NodeId> targets = targets(ctx, placement);
    List<int[]> batches = new ArrayList<>();
    List<CompletableFuture<Object>> parts = new ArrayList<>();
    for (int t = 0; t < targets.size(); t++) {
      NodeId target = targets.get(t);
      List<Integer> mine = new ArrayList<>();
      for (int i = t; i < size; i += targets.size()) {
        mine.add(i);
      }
      for (int from = 0; from < mine.size(); from += MUTEXES_PER_TASK) {
        int[] batch =
            mine.subList(from, Math.min(mine.size(), from + MUTEXES_PER_TASK)).stream()
                .mapToInt(Integer::intValue)
                .toArray();
        DCallable<ArrayList<Object>> make = () -> makeMutexes(init, batch);
        batches.add(batch);
        parts.add(spawn(ctx, target, ctx.shipping().encode(make, "the initializer")));
      }
    }
    return CompletableFuture.allOf(parts.toArray(CompletableFuture[]::new))
        .handle(
            (ok, failure) -> {
              Object[] slots = new Object[size];
              List<Object> made = new ArrayList<>();
              for (int b = 0; b < parts.size(); b++) {
                CompletableFuture<Object> part = parts.get(b);
                if (!part.isCompletedExceptionally()) {
                  List<?> handles = (List<?>) part.join();
                  made.addAll(handles);
                  int[] batch = batches.get(b);
                  for (int j = 0; j < batch.length; j++) {
                    slots[batch[j]] = handles.get(j);
                  }
                }
              }
              if (failure != null) {
                made.forEach(DVec::dropSlot);
                throw Futures.propagate(failure);
              }
              return new DVec<>(ctx, DVec.Kind.HANDLES, size, 1, slots);
            });
  }

  private static ArrayList<Object> makeMutexes(DFunction<Integer, ?> init, int[] indices) {
    Dsm dsm = Dsm.current();
    ArrayList<Object> out = new ArrayList<>(indices.length);
    for (int i : indices) {
      out.add(
          dsm.mutex(
              Objects.requireNonNull(
                  init.apply(i), "the initializer returned null for element " + i)));
    }
    return out;
  }

  private static <T> CompletableFuture<DVec<T>> assemble(
      ClientContext ctx,
      DVec.Kind kind,
      int size,
      int chunkSize,
      List<CompletableFuture<Object>> parts) {
    return CompletableFuture.allOf(parts.toArray(CompletableFuture[]::new))
        .handle(
            (ok, failure) -> {
              Object[] slots = new Object[parts.size()];
              for (int k = 0; k < slots.length; k++) {
                CompletableFuture<Object> part = parts.get(k);
                slots[k] = part.isCompletedExceptionally() ? null : part.join();
              }
              if (failure != null) {
                for (Object slot : slots) {
                  if (slot != null) {
                    DVec.dropSlot(slot);
                  }
                }
                throw Futures.propagate(failure);
              }
              return new DVec<>(ctx, kind, size, chunkSize, slots);
            });
  }

  private static void checkShape(int size, int chunkSize) {
    if (size < 0) {
      throw new IllegalArgumentException("size " + size + " is negative");
    }
    if (chunkSize < 1) {
      throw new IllegalArgumentException("chunk size " + chunkSize + " must be at least 1");
    }
  }

  /** Where chunk {@code k} goes: {@code targets[k % targets.size()]}. */
  private static List<NodeId> targets(ClientContext ctx, DVec.Placement placement) {
    Objects.requireNonNull(placement, "placement");
    if (placement == DVec.Placement.LOCAL) {
      return List.of(ctx.self());
    }
    List<NodeId> members = ctx.upMembers();
    int me = Math.max(0, members.indexOf(ctx.self()));
    List<NodeId> out = new ArrayList<>(members.size());
    for (int i = 0; i < members.size(); i++) {
      out.add(members.get((me + i) % members.size()));
    }
    return out;
  }

  /** Runs a shipped task on {@code target} and reads its result here. */
  private static CompletableFuture<Object> spawn(ClientContext ctx, NodeId target, byte[] task) {
    return ctx.tasks().spawn(target, task).thenApply(r -> ctx.shipping().value(target, null, r));
  }
}
