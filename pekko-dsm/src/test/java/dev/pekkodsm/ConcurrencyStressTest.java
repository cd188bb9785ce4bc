package dev.pekkodsm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pekkodsm.Fixtures.Counter;
import dev.pekkodsm.Fixtures.ReadResult;
import dev.pekkodsm.Fixtures.ReadThis;
import dev.pekkodsm.testkit.LocalClusterExtension;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Readers on other nodes and a writer, concurrently, with a checker: every read through a lent
 * reference must return exactly the version that was current when it was lent (never an older one)
 * and never a torn value (cells from two versions); reads on the owner's node meanwhile must never
 * see a torn value either. Bounded in time.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class ConcurrencyStressTest {

  static final Duration PHASE = Duration.ofSeconds(4);

  @RegisterExtension
  static final LocalClusterExtension cluster =
      LocalClusterExtension.withNodes(
          3, b -> Fixtures.registered(b).config("pekko.dsm.borrow-timeout = 10s"));

  @Test
  void shouldNeverObserveATornOrStaleValue() throws Exception {
    DBox<Counter> box = cluster.dsm(0).alloc(new Counter(512));
    long roundsAtHome = phase(box, 0, new int[] {1, 2});

    // Move the object to node 1 (its first write there moves it) and do it all again from there.
    DBox<Counter> onB = cluster.cluster().send(0, 1, box);
    onB.write(
        c -> {
          c.bump();
          return null;
        });
    assertEquals(cluster.nodeId(1), onB.address().node());
    long roundsAway = phase(onB, 1, new int[] {0, 2});

    assertTrue(roundsAtHome >= 10, "rounds at home: " + roundsAtHome);
    assertTrue(roundsAway >= 10, "rounds after the move: " + roundsAway);
    onB.drop();
  }

  /** One phase: the owner on {@code writer} writes in rounds while the others read. */
  private long phase(DBox<Counter> box, int writer, int[] readerNodes) throws Exception {
    List<ActorRef<ReadThis>> readers = new ArrayList<>();
    for (int node : readerNodes) {
      readers.add(
          Fixtures.spawnReader(
              cluster.cluster(), node, writer, "reader-" + node + "-" + System.nanoTime()));
    }
    AtomicBoolean stop = new AtomicBoolean();
    AtomicReference<Throwable> localFailure = new AtomicReference<>();
    AtomicLong localReads = new AtomicLong();
    List<Thread> localReaders = new ArrayList<>();
    for (int t = 0; t < 2; t++) {
      Thread r =
          new Thread(
              () -> {
                try {
                  while (!stop.get()) {
                    if (!box.read(Counter::consistent)) {
                      throw new AssertionError("a local read saw a torn value");
                    }
                    localReads.incrementAndGet();
                  }
                } catch (Throwable e) {
                  localFailure.compareAndSet(null, e);
                }
              });
      r.start();
      localReaders.add(r);
    }

    long rounds = 0;
    long deadline = System.nanoTime() + PHASE.toNanos();
    try {
      while (System.nanoTime() < deadline) {
        long version = box.read(Counter::version);
        List<CompletableFuture<ReadResult>> replies = new ArrayList<>();
        for (ActorRef<ReadThis> reader : readers) {
          DRef<Counter> ref = box.share();
          replies.add(
              AskPattern.<ReadThis, ReadResult>ask(
                      reader,
                      replyTo -> new ReadThis(ref, version, replyTo),
                      Duration.ofSeconds(20),
                      cluster.system(writer).scheduler())
                  .toCompletableFuture());
        }
        // Write at once: the write must wait until every reader has released its reference.
        box.write(
            c -> {
              c.bump();
              return null;
            });
        for (CompletableFuture<ReadResult> reply : replies) {
          ReadResult seen = reply.get(20, TimeUnit.SECONDS);
          assertNull(seen.error(), seen.error());
          assertTrue(seen.consistent(), "a remote read saw a torn value in round " + rounds);
          assertEquals(
              version,
              seen.version(),
              "a remote read saw version " + seen.version() + " of a reference lent at " + version);
        }
        rounds++;
      }
    } finally {
      stop.set(true);
      for (Thread r : localReaders) {
        r.join();
      }
    }
    assertNull(localFailure.get());
    assertTrue(localReads.get() > 0);
    return rounds;
  }
}
