package dev.pekkodsm;

import static dev.pekkodsm.Fixtures.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.pekkodsm.Fixtures.Account;
import dev.pekkodsm.serialization.SnapshotFormatException;
import dev.pekkodsm.testkit.LocalCluster;
import dev.pekkodsm.testkit.LocalClusterExtension;
import java.io.NotSerializableException;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorRefResolver;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.serialization.SerializationExtension;
import org.apache.pekko.serialization.SerializerWithStringManifest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Handles inside user messages, and what the serializer does with bytes it should not trust. */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class SerializationTest {

  /** Messages bound to Pekko's Jackson serializer. */
  interface JsonMessage {}

  record JsonCarry(String note, DBox<Account> box, DRef<Account> ref) implements JsonMessage {}

  record JsonArc(DArc<Account> arc) implements JsonMessage {}

  record JsonShared(DMutex<Long> mutex, DAtomicLong counter) implements JsonMessage {}

  record JsonVecs(DVec<String> owned, DVec<DMutex<Long>> buckets) implements JsonMessage {}

  /** A message bound to the DSM's Kryo serializer, with a reply address. */
  record KryoCarry(DBox<Account> box, DRef<Account> ref, ActorRef<Long> replyTo) {}

  @RegisterExtension
  static final LocalClusterExtension cluster =
      LocalClusterExtension.withNodes(
          2,
          b ->
              Fixtures.registered(b)
                  .register(KryoCarry.class, 120)
                  .config(
                      "pekko.actor.serialization-bindings {\n"
                          + "  \"dev.pekkodsm.SerializationTest$JsonMessage\" = jackson-json\n"
                          + "  \"dev.pekkodsm.SerializationTest$KryoCarry\" = pekko-dsm\n"
                          + "}\n"
                          + "pekko.dsm.borrow-timeout = 1s"));

  /** Spawns an inbox on node {@code on}; returns its address as seen from node {@code from}. */
  static <T> ActorRef<T> inbox(int on, int from, Class<T> type, CompletableFuture<T> arrival) {
    ActorRef<T> local =
        cluster
            .system(on)
            .systemActorOf(
                Behaviors.receive(type)
                    .onMessage(
                        type,
                        m -> {
                          arrival.complete(m);
                          return Behaviors.same();
                        })
                    .build(),
                "inbox-" + System.nanoTime(),
                Props.empty());
    return ActorRefResolver.get(cluster.system(from))
        .resolveActorRef(ActorRefResolver.get(cluster.system(on)).toSerializationFormat(local));
  }

  @Test
  void shouldCarryHandlesInJacksonMessages() {
    DBox<Account> box = cluster.dsm(0).alloc(new Account("jay", 4));
    DBox<Account> other = cluster.dsm(0).alloc(new Account("kim", 9));
    CompletableFuture<JsonMessage> arrival = new CompletableFuture<>();
    inbox(1, 0, JsonMessage.class, arrival).tell(new JsonCarry("hello", box, other.share()));
    JsonCarry got = (JsonCarry) await(arrival, 20);

    assertEquals("hello", got.note());
    assertEquals(new Account("kim", 9), got.ref().get());
    assertEquals(4, got.box().read(Account::balance));
    assertThrows(UseAfterMoveException.class, () -> box.read(a -> a));
    assertThrows(
        BorrowConflictException.class,
        () -> other.replace(a -> a),
        "the reference on node 1 blocks the owner");
    got.ref().release();
    got.box().replace(a -> new Account("jay", 5));
    assertEquals(cluster.nodeId(1), got.box().address().node());
    got.box().drop();
    Fixtures.eventuallyReplace("the owner can write again", 10, other, a -> new Account("kim", 10));
    other.drop();
  }

  @Test
  void shouldCarryASharedValueInAJacksonMessage() {
    DArc<Account> arc = cluster.dsm(0).arc(new Account("ivy", 3));
    CompletableFuture<JsonMessage> arrival = new CompletableFuture<>();
    inbox(1, 0, JsonMessage.class, arrival).tell(new JsonArc(arc.clone()));
    DArc<Account> there = ((JsonArc) await(arrival, 20)).arc();
    assertEquals(new Account("ivy", 3), there.get());
    there.drop();
    arc.drop();
    var home = cluster.dsm(0).internalNode();
    Fixtures.eventually(
        "the value is freed once both shares are back",
        10,
        () -> home.object(arc.address().object()) == null);
  }

  @Test
  void shouldCarryAMutexAndAnAtomicInAJacksonMessageAndAloneInAMessage() {
    DMutex<Long> mutex = cluster.dsm(0).mutex(41L);
    DAtomicLong counter = cluster.dsm(0).atomicLong(9);
    CompletableFuture<JsonMessage> arrival = new CompletableFuture<>();
    inbox(1, 0, JsonMessage.class, arrival).tell(new JsonShared(mutex.clone(), counter.clone()));
    JsonShared got = (JsonShared) await(arrival, 20);
    assertEquals(42L, (long) got.mutex().replace(v -> v + 1));
    assertEquals(10, got.counter().incrementAndGet());
    assertEquals(42L, (long) mutex.read(v -> v));
    assertEquals(10, counter.get());
    // a handle is a message by itself too (bound to the DSM serializer in reference.conf)
    CompletableFuture<DAtomicLong> alone = new CompletableFuture<>();
    inbox(0, 1, DAtomicLong.class, alone).tell(got.counter());
    DAtomicLong back = await(alone, 20);
    assertEquals(11, back.incrementAndGet());
    back.drop();
    got.mutex().drop();
    mutex.drop();
    counter.drop();
  }

  @Test
  void shouldCarryVectorsInAJacksonMessage() {
    DVec<String> owned = cluster.dsm(0).vec(List.of("x", "y", "z"), 2, DVec.Placement.ROUND_ROBIN);
    DVec<DMutex<Long>> buckets =
        cluster.dsm(0).mutexVec(4, i -> (long) i, DVec.Placement.ROUND_ROBIN);
    CompletableFuture<JsonMessage> arrival = new CompletableFuture<>();
    inbox(1, 0, JsonMessage.class, arrival).tell(new JsonVecs(owned, buckets.share()));
    JsonVecs got = (JsonVecs) await(arrival, 20);
    assertThrows(UseAfterMoveException.class, () -> owned.get(0), "the vector moved");
    assertEquals(List.of("x", "y", "z"), got.owned().toList());
    got.owned().set(2, "w");
    assertEquals("w", got.owned().get(2));
    assertEquals(4L, (long) got.buckets().get(3).replace(v -> v + 1));
    assertEquals(4L, (long) buckets.get(3).read(v -> v));
    got.owned().drop();
    got.buckets().drop();
    buckets.drop();
  }

  @Test
  void shouldCarryHandlesAndReplyAddressesInKryoMessages() throws Exception {
    DBox<Account> box = cluster.dsm(0).alloc(new Account("lee", 7));
    DBox<Account> watched = cluster.dsm(0).alloc(new Account("max", 8));
    ActorRef<KryoCarry> worker =
        cluster
            .system(1)
            .systemActorOf(
                Behaviors.receive(KryoCarry.class)
                    .onMessage(
                        KryoCarry.class,
                        m -> {
                          long sum = m.box().read(Account::balance) + m.ref().get().balance();
                          m.ref().release();
                          m.box().replace(a -> new Account(a.owner(), sum));
                          m.replyTo().tell(sum);
                          return Behaviors.same();
                        })
                    .build(),
                "kryo-worker",
                Props.empty());
    ActorRef<KryoCarry> remote =
        ActorRefResolver.get(cluster.system(0))
            .resolveActorRef(ActorRefResolver.get(cluster.system(1)).toSerializationFormat(worker));
    DRef<Account> ref = watched.share();
    long sum =
        AskPattern.<KryoCarry, Long>ask(
                remote,
                replyTo -> new KryoCarry(box, ref, replyTo),
                Duration.ofSeconds(20),
                cluster.system(0).scheduler())
            .toCompletableFuture()
            .get(20, TimeUnit.SECONDS);
    assertEquals(15, sum);
    watched.drop(); // the worker released the reference
  }

  @Test
  void shouldRejectGarbageForEveryManifestWithoutSurprises() {
    var serializer =
        (SerializerWithStringManifest)
            SerializationExtension.get(cluster.system(0).classicSystem())
                .serializerByIdentity()
                .apply(dev.pekkodsm.internal.DsmSerializer.IDENTIFIER);
    Random random = new Random(11);
    List<String> manifests =
        List.of(
            "HO", "LE", "DR", "RL", "AD", "CO", "HD", "HA", "LT", "DD", "RF", "GE", "EP", "TU",
            "RV", "CR", "CL", "CF", "FZ", "AO", "WH", "LK", "LD", "UL", "UD", "CK", "SP", "RA",
            "TR", "AT", "CD", "K", "RP", "RK", "CQ", "CA", "GO");
    int accepted = 0;
    for (String manifest : manifests) {
      for (int round = 0; round < 300; round++) {
        byte[] garbage = new byte[random.nextInt(80)];
        random.nextBytes(garbage);
        try {
          serializer.fromBinary(garbage, manifest);
          accepted++;
        } catch (IllegalArgumentException
            | SnapshotFormatException
            | NotSerializableException expected) {
          // refused, as it should be
        } catch (Exception e) {
          fail("manifest " + manifest + " threw " + e, e);
        }
      }
    }
    assertTrue(accepted < manifests.size() * 300 / 10, "most garbage is refused: " + accepted);
    assertThrows(NotSerializableException.class, () -> serializer.fromBinary(new byte[4], "ZZ"));
  }

  @Test
  void shouldRefuseToReadFromANodeWithAnotherClassRegistry() {
    var e =
        assertThrows(
            IllegalStateException.class,
            () ->
                LocalCluster.withNodes(2)
                    .register(Account.class, 100)
                    .nodeConfig(
                        1,
                        "pekko.dsm.serialization.classes {"
                            + " \"dev.pekkodsm.Fixtures$Counter\" = 101 }")
                    .startTimeout(java.time.Duration.ofSeconds(30))
                    .start());
    assertTrue(e.getMessage().contains("different class registry"), e.getMessage());
    assertTrue(e.getMessage().contains("pekko.dsm.serialization.classes"), e.getMessage());
  }

  @Test
  void shouldDetectAMutatedSharedValueInDebugMode() {
    try (LocalCluster debug =
        LocalCluster.withNodes(2)
            .register(Fixtures.Counter.class, 101)
            .config("pekko.dsm.debug.detect-shared-mutation = on")
            .start()) {
      DBox<Fixtures.Counter> box = debug.dsm(0).alloc(new Fixtures.Counter(4));
      var local =
          assertThrows(
              SharedMutationException.class,
              () ->
                  box.read(
                      c -> {
                        c.cells[0] = 99;
                        return null;
                      }));
      assertTrue(local.getMessage().contains("write()"), local.getMessage());
      box.write(
          c -> {
            c.cells[0] = 0;
            return null;
          });
      DRef<Fixtures.Counter> there = debug.send(0, 1, box.share());
      there.get().cells[1] = 42;
      assertThrows(SharedMutationException.class, there::release);
      assertEquals(0L, (long) box.read(c -> c.cells[1]), "the owner's value was never touched");
    }
  }
}
