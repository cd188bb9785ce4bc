package dev.pekkodsm;

import static dev.pekkodsm.Fixtures.eventually;
import static dev.pekkodsm.Fixtures.eventuallyReplace;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pekkodsm.Fixtures.Account;
import dev.pekkodsm.Fixtures.Counter;
import dev.pekkodsm.testkit.LocalClusterExtension;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.apache.pekko.serialization.SerializationExtension;
import org.apache.pekko.serialization.SerializerWithStringManifest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Every row of the borrow-rule table, on a real three-node cluster. */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class BorrowRulesTest {

  static final long BORROW_TIMEOUT_MS = 1000;

  @RegisterExtension
  static final LocalClusterExtension cluster =
      LocalClusterExtension.withNodes(
          3, b -> Fixtures.registered(b).config("pekko.dsm.borrow-timeout = 1s"));

  /** Every operation of a box, blocking and asynchronous. */
  static List<Consumer<DBox<Account>>> everyOperation() {
    List<Consumer<DBox<Account>>> ops = new ArrayList<>();
    ops.add(b -> b.read(a -> a));
    ops.add(b -> b.write(a -> a));
    ops.add(b -> b.replace(a -> a));
    ops.add(b -> b.borrow().close());
    ops.add(b -> b.borrowMut().close());
    ops.add(b -> b.share().release());
    ops.add(DBox::transfer);
    ops.add(DBox::drop);
    ops.add(DBox::address);
    ops.add(DBox::isLocal);
    ops.add(b -> join(b.readAsync(a -> a)));
    ops.add(b -> join(b.writeAsync(a -> a)));
    ops.add(b -> join(b.replaceAsync(a -> a)));
    ops.add(b -> join(b.borrowAsync()));
    ops.add(b -> join(b.borrowMutAsync()));
    ops.add(b -> join(b.shareAsync()));
    ops.add(b -> join(b.transferAsync()));
    ops.add(b -> join(b.dropAsync()));
    return ops;
  }

  /** Waits for a stage and rethrows its failure unwrapped. */
  static <T> T join(java.util.concurrent.CompletionStage<T> stage) {
    try {
      return stage.toCompletableFuture().join();
    } catch (CompletionException e) {
      throw (RuntimeException) e.getCause();
    }
  }

  static void assertDead(DBox<Account> dead, String because) {
    for (Consumer<DBox<Account>> op : everyOperation()) {
      var e = assertThrows(UseAfterMoveException.class, () -> op.accept(dead));
      assertTrue(e.getMessage().contains(e.address().objectName()), e.getMessage());
      assertTrue(e.getMessage().contains(because), e.getMessage());
    }
    dead.close(); // a dead box closes quietly
  }

  @Test
  void shouldRejectEveryUseOfABoxAfterTransfer() {
    DBox<Account> box = cluster.dsm(0).alloc(new Account("a", 1));
    DBox<Account> moved = box.transfer();
    assertDead(box, "transfer()");
    moved.drop();
  }

  @Test
  void shouldRejectEveryUseOfABoxAfterDrop() {
    DBox<Account> box = cluster.dsm(0).alloc(new Account("a", 1));
    box.drop();
    assertDead(box, "dropped");
  }

  @Test
  void shouldRejectEveryUseOfABoxAfterItWasSentToAnotherNode() {
    DBox<Account> box = cluster.dsm(0).alloc(new Account("a", 1));
    DBox<Account> there = cluster.cluster().send(0, 1, box);
    assertDead(box, "sent to another node");
    there.drop();
  }

  @Test
  void shouldRefuseToSerializeTheSameBoxTwice() throws Exception {
    DBox<Account> box = cluster.dsm(0).alloc(new Account("a", 1));
    var serialization = SerializationExtension.get(cluster.system(0).classicSystem());
    var serializer = (SerializerWithStringManifest) serialization.findSerializerFor(box);
    byte[] once = serializer.toBinary(box);
    var e = assertThrows(UseAfterMoveException.class, () -> serializer.toBinary(box));
    assertTrue(e.getMessage().contains("sent to another node"), e.getMessage());
    // The first copy is good: node 1 owns the object now.
    var serializer1 =
        (SerializerWithStringManifest)
            SerializationExtension.get(cluster.system(1).classicSystem()).findSerializerFor(box);
    @SuppressWarnings("unchecked")
    DBox<Account> there = (DBox<Account>) serializer1.fromBinary(once, serializer.manifest(box));
    assertEquals(new Account("a", 1), there.read(a -> a));
    there.drop();
  }

  @Test
  void shouldKeepTheBoxWhenTheMessageCarryingItCannotBeSerialized() throws Exception {
    DBox<Account> box = cluster.dsm(0).alloc(new Account("a", 1));
    var serialization = SerializationExtension.get(cluster.system(0).classicSystem());
    var serializer =
        (SerializerWithStringManifest)
            serialization.findSerializerFor(new dev.pekkodsm.internal.Protocol.Carried(1, box));
    final class NotRegistered {}
    var failing = new dev.pekkodsm.internal.Protocol.Carried(1, List.of(box, new NotRegistered()));
    assertThrows(IllegalArgumentException.class, () -> serializer.toBinary(failing));
    assertEquals(new Account("a", 1), box.read(a -> a), "ownership was not lost");
    box.drop();
  }

  @Test
  void shouldMakeAWriterWaitForLentReferencesThenNameThem() {
    DBox<Account> box = cluster.dsm(0).alloc(new Account("a", 1));
    DRef<Account> onB = cluster.cluster().send(0, 1, box.share());
    DRef<Account> onC1 = cluster.cluster().send(0, 2, box.share());
    DRef<Account> onC2 = cluster.cluster().send(0, 2, box.share());
    eventually(
        "the receivers' adoptions reach the home",
        10,
        () -> box.address() != null && holders(box).size() == 2);

    long start = System.nanoTime();
    var e =
        assertThrows(BorrowConflictException.class, () -> box.replace(a -> new Account("a", 2)));
    long waitedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
    assertTrue(waitedMs >= BORROW_TIMEOUT_MS - 50, "waited only " + waitedMs + " ms");
    assertEquals(3, e.lentCount());
    assertEquals(Map.of(cluster.nodeId(1), 1, cluster.nodeId(2), 2), e.lentReferences());
    assertTrue(e.getMessage().contains(box.address().objectName()), e.getMessage());
    assertTrue(e.getMessage().contains("3 lent references"), e.getMessage());
    assertTrue(e.getMessage().contains("pekko.dsm.borrow-timeout"), e.getMessage());

    assertThrows(BorrowConflictException.class, box::transfer);
    assertThrows(BorrowConflictException.class, box::drop);
    assertEquals(new Account("a", 1), box.read(a -> a), "reads are never blocked by lends");

    onB.release();
    onC1.release();
    onC2.release();
    eventuallyReplace(
        "the write goes through once every reference is back", 10, box, a -> new Account("a", 2));
    box.drop();
  }

  private static Map<dev.pekkodsm.coherence.NodeId, Integer> holders(DBox<Account> box) {
    return cluster.dsm(0).internalNode().object(box.address().object()).holders().lentRefs();
  }

  @Test
  void shouldLetAWaitingWriterThroughWhenTheReferenceComesBackInTime() throws Exception {
    DBox<Account> box = cluster.dsm(0).alloc(new Account("a", 1));
    DRef<Account> onB = cluster.cluster().send(0, 1, box.share());
    CompletableFuture<Void> write =
        box.replaceAsync(a -> new Account("a", 2)).toCompletableFuture();
    Thread.sleep(300);
    assertTrue(!write.isDone(), "the write waits for the reference");
    onB.release();
    write.get(5, TimeUnit.SECONDS);
    assertEquals(2, box.read(Account::balance));
    box.drop();
  }

  @Test
  void shouldFailAReadOfAReleasedReference() {
    DBox<Account> box = cluster.dsm(0).alloc(new Account("a", 1));
    DRef<Account> local = box.share();
    DRef<Account> remote = cluster.cluster().send(0, 1, box.share());
    remote.get();
    local.release();
    remote.release();
    for (DRef<Account> ref : List.of(local, remote)) {
      var e = assertThrows(StaleReferenceException.class, ref::get);
      assertTrue(e.getMessage().contains("released"), e.getMessage());
      assertInstanceOf(
          StaleReferenceException.class,
          assertThrows(CompletionException.class, () -> ref.getAsync().toCompletableFuture().join())
              .getCause());
      ref.release(); // releasing twice is harmless
    }
    box.drop();
  }

  @Test
  void shouldRefuseToSendADeadOrScopedReference() {
    DBox<Account> box = cluster.dsm(0).alloc(new Account("a", 1));
    var serializer =
        (SerializerWithStringManifest)
            SerializationExtension.get(cluster.system(0).classicSystem()).findSerializerFor(box);
    DRef<Account> released = box.share();
    released.release();
    assertThrows(StaleReferenceException.class, () -> serializer.toBinary(released));
    try (DRef<Account> scoped = box.borrow()) {
      var e = assertThrows(IllegalArgumentException.class, () -> serializer.toBinary(scoped));
      assertTrue(e.getMessage().contains("share()"), e.getMessage());
      assertThrows(IllegalStateException.class, scoped::copy);
    }
    box.drop();
  }

  @Test
  void shouldNeverServeAVersionThatIsNoLongerCurrent() throws Exception {
    DBox<Account> box = cluster.dsm(0).alloc(new Account("a", 1));
    DRef<Account> ref = box.share();
    var serializer =
        (SerializerWithStringManifest)
            SerializationExtension.get(cluster.system(0).classicSystem()).findSerializerFor(ref);
    String manifest = serializer.manifest(ref);
    byte[] wire = serializer.toBinary(ref);
    var serializer2 =
        (SerializerWithStringManifest)
            SerializationExtension.get(cluster.system(2).classicSystem()).findSerializerFor(ref);
    @SuppressWarnings("unchecked")
    DRef<Account> first = (DRef<Account>) serializer2.fromBinary(wire, manifest);
    first.release();
    eventuallyReplace("the write goes through", 10, box, a -> new Account("a", 2));
    // The same bytes again, as a replayed message would bring them: color 0 is gone.
    @SuppressWarnings("unchecked")
    DRef<Account> replayed = (DRef<Account>) serializer2.fromBinary(wire, manifest);
    var e = assertThrows(StaleReferenceException.class, replayed::get);
    assertTrue(e.getMessage().contains(String.valueOf(ref.address().color())), e.getMessage());
    eventually(
        "the home revokes the replayed reference",
        10,
        () -> {
          try {
            replayed.get();
            return false;
          } catch (StaleReferenceException revoked) {
            return revoked.getMessage().contains("refused");
          }
        });
    assertEquals(2, box.read(Account::balance));
    box.drop();
  }

  @Test
  void shouldRefuseAnUnregisteredClassAtAllocNamingItAndHowToRegister() {
    final class Unregistered {}
    var e =
        assertThrows(
            IllegalArgumentException.class, () -> cluster.dsm(0).alloc(new Unregistered()));
    assertTrue(e.getMessage().contains(Unregistered.class.getName()), e.getMessage());
    assertTrue(e.getMessage().contains("pekko.dsm.serialization.classes"), e.getMessage());

    record Holder(Account account, Unregistered inner) {}
    assertThrows(
        IllegalArgumentException.class,
        () -> cluster.dsm(0).alloc(new Holder(new Account("a", 1), new Unregistered())));
    assertThrows(NullPointerException.class, () -> cluster.dsm(0).alloc(null));
  }

  @Test
  void shouldEndAMutableBorrowGuardOnlyOnce() {
    DBox<Counter> box = cluster.dsm(1).alloc(new Counter(4));
    DMut<Counter> guard = box.borrowMut();
    guard.get().bump();
    int color = guard.address().color();
    guard.close();
    guard.close();
    assertThrows(IllegalStateException.class, guard::get);
    assertEquals(color + 1, box.address().color());
    assertEquals(1, box.read(Counter::version));
    box.drop();
  }

  @Test
  void shouldTimeOutAReadInsideAWriteOfTheSameBoxInsteadOfDeadlocking() {
    DBox<Account> box = cluster.dsm(0).alloc(new Account("a", 1));
    var e = assertThrows(BorrowConflictException.class, () -> box.write(a -> box.read(b -> b)));
    assertTrue(e.getMessage().contains("mutable borrow"), e.getMessage());
    assertEquals(new Account("a", 1), box.read(a -> a), "the box is usable afterwards");
    box.drop();
  }

  @Test
  void shouldOrderReadsAndWritesThroughOneBoxFromManyThreads() throws Exception {
    DBox<Counter> box = cluster.dsm(0).alloc(new Counter(64));
    int threads = 4;
    int rounds = 500;
    List<Thread> workers = new ArrayList<>();
    List<Throwable> failures = java.util.Collections.synchronizedList(new ArrayList<>());
    for (int t = 0; t < threads; t++) {
      final boolean writer = t % 2 == 0;
      Thread w =
          new Thread(
              () -> {
                try {
                  for (int i = 0; i < rounds; i++) {
                    if (writer) {
                      box.write(
                          c -> {
                            c.bump();
                            return null;
                          });
                    } else {
                      assertTrue(box.read(Counter::consistent));
                    }
                  }
                } catch (Throwable e) {
                  failures.add(e);
                }
              });
      workers.add(w);
      w.start();
    }
    for (Thread w : workers) {
      w.join();
    }
    assertEquals(List.of(), failures);
    assertEquals(2L * rounds, box.read(Counter::version));
    box.drop();
  }
}
