package dev.pekkodsm;

import dev.pekkodsm.testkit.LocalCluster;
import java.util.Arrays;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorRefResolver;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

/** Value types, messages and helpers shared by the multi-node tests. */
final class Fixtures {

  private Fixtures() {}

  /** A small immutable value. */
  record Account(String owner, long balance) {}

  /**
   * A mutable value whose elements must always be equal: a reader that sees two different elements
   * saw a torn write.
   */
  static final class Counter {
    long[] cells;

    Counter(int width) {
      this.cells = new long[width];
    }

    long version() {
      return cells[0];
    }

    /** Advances every cell; returns the new version. */
    long bump() {
      long next = cells[0] + 1;
      for (int i = 0; i < cells.length; i++) {
        cells[i] = next;
      }
      return next;
    }

    boolean consistent() {
      return Arrays.stream(cells).allMatch(c -> c == cells[0]);
    }
  }

  /** A user message carrying a handle, serialized by the DSM's Kryo. */
  record ReadThis(DRef<Counter> ref, long expectedVersion, ActorRef<ReadResult> replyTo) {}

  /** What a reader saw. */
  record ReadResult(long version, boolean consistent, String error) {}

  /** Registers the fixtures' classes with every node. */
  static LocalCluster.Builder registered(LocalCluster.Builder b) {
    return b.register(Account.class, 100)
        .register(Counter.class, 101)
        .register(ReadThis.class, 102)
        .register(ReadResult.class, 103)
        .config(
            "pekko.actor.serialization-bindings {\n"
                + "  \"dev.pekkodsm.Fixtures$ReadThis\" = pekko-dsm\n"
                + "  \"dev.pekkodsm.Fixtures$ReadResult\" = pekko-dsm\n"
                + "}");
  }

  /** A reader: reads the reference it is sent, checks it, releases it, replies. */
  static Behavior<ReadThis> reader() {
    return Behaviors.receive(ReadThis.class)
        .onMessage(
            ReadThis.class,
            m -> {
              ReadResult result;
              try {
                Counter c = m.ref().get();
                result = new ReadResult(c.version(), c.consistent(), null);
              } catch (RuntimeException e) {
                result = new ReadResult(-1, false, e.toString());
              } finally {
                m.ref().release();
              }
              m.replyTo().tell(result);
              return Behaviors.same();
            })
        .build();
  }

  /**
   * Spawns a reader on node {@code on} and returns a reference to it usable from node {@code from}.
   */
  static ActorRef<ReadThis> spawnReader(LocalCluster cluster, int on, int from, String name) {
    ActorRef<ReadThis> local = cluster.system(on).systemActorOf(reader(), name, Props.empty());
    String path = ActorRefResolver.get(cluster.system(on)).toSerializationFormat(local);
    return ActorRefResolver.get(cluster.system(from)).resolveActorRef(path);
  }

  /** Waits for a future, failing the test after {@code seconds}. */
  static <T> T await(CompletableFuture<T> f, int seconds) {
    try {
      return f.get(seconds, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new AssertionError("did not complete within " + seconds + " s", e);
    }
  }

  /**
   * Replaces a box's value as soon as no lent reference blocks the write any more (references are
   * returned asynchronously), failing after {@code seconds}.
   */
  static <T> void eventuallyReplace(
      String what, int seconds, DBox<T> box, java.util.function.UnaryOperator<T> fn) {
    eventually(
        what,
        seconds,
        () -> {
          try {
            box.replace(fn);
            return true;
          } catch (BorrowConflictException stillBlocked) {
            return false;
          }
        });
  }

  /** Polls a condition until it holds, failing after {@code seconds}. */
  static void eventually(String what, int seconds, BooleanSupplier condition) {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("not within " + seconds + " s: " + what);
      }
      try {
        Thread.sleep(20);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError(e);
      }
    }
  }
}
