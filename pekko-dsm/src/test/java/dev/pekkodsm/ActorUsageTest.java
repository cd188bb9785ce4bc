package dev.pekkodsm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import dev.pekkodsm.Fixtures.Account;
import dev.pekkodsm.serialization.ClassRegistry;
import java.time.Duration;
import org.apache.pekko.actor.BootstrapSetup;
import org.apache.pekko.actor.setup.ActorSystemSetup;
import org.apache.pekko.actor.testkit.typed.annotations.JUnit5TestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.JUnit5TestKitBuilder;
import org.apache.pekko.actor.testkit.typed.javadsl.TestKitJUnit5Extension;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Join;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * How an actor uses the DSM: the asynchronous twins with {@code pipeToSelf}, never blocking its
 * thread. A one-node cluster from Pekko's JUnit 5 test kit, with probes.
 */
@ExtendWith(TestKitJUnit5Extension.class)
class ActorUsageTest {

  @JUnit5TestKit
  public ActorTestKit testKit =
      new JUnit5TestKitBuilder()
          .withName("actor-usage")
          .withCustomConfig(
              ConfigFactory.parseString(
                      String.join(
                          "\n",
                          "pekko.actor.provider = cluster",
                          "pekko.remote.artery.canonical.hostname = \"127.0.0.1\"",
                          "pekko.remote.artery.canonical.port = 0",
                          "pekko.dsm.serialization.classes { \"dev.pekkodsm.Fixtures$Account\" = 100 }"))
                  .withFallback(ConfigFactory.load()))
          .build();

  /** A teller that owns an account in the DSM and serves deposits and balance queries. */
  interface Command {}

  record Deposit(long amount, ActorRef<Long> replyTo) implements Command {}

  record Balance(ActorRef<Long> replyTo) implements Command {}

  record Done(long value, ActorRef<Long> replyTo, Throwable failure) implements Command {}

  static Behavior<Command> teller(DBox<Account> box) {
    return Behaviors.setup(
        ctx ->
            Behaviors.receive(Command.class)
                .onMessage(
                    Deposit.class,
                    m -> {
                      ctx.pipeToSelf(
                          box.writeAsync(a -> a.balance() + m.amount())
                              .thenCompose(
                                  v ->
                                      box.replaceAsync(a -> new Account(a.owner(), v))
                                          .thenApply(ignored -> v)),
                          (v, failure) -> new Done(v == null ? -1 : v, m.replyTo(), failure));
                      return Behaviors.same();
                    })
                .onMessage(
                    Balance.class,
                    m -> {
                      ctx.pipeToSelf(
                          box.readAsync(Account::balance),
                          (v, failure) -> new Done(v == null ? -1 : v, m.replyTo(), failure));
                      return Behaviors.same();
                    })
                .onMessage(
                    Done.class,
                    m -> {
                      m.replyTo().tell(m.failure() == null ? m.value() : -1L);
                      return Behaviors.same();
                    })
                .build());
  }

  @BeforeEach
  void joinItself() {
    Cluster cluster = Cluster.get(testKit.system());
    cluster.manager().tell(Join.create(cluster.selfMember().address()));
    Dsm.get(testKit.system()).ready().toCompletableFuture().join();
  }

  @Test
  void shouldServeAnActorThroughTheAsynchronousTwins() {
    Dsm dsm = Dsm.get(testKit.system());
    DBox<Account> box = dsm.alloc(new Account("ada", 10));
    ActorRef<Command> teller = testKit.spawn(teller(box));
    TestProbe<Long> probe = testKit.createTestProbe();

    teller.tell(new Deposit(5, probe.ref()));
    assertEquals(15L, probe.receiveMessage(Duration.ofSeconds(5)));
    teller.tell(new Balance(probe.ref()));
    assertEquals(15L, probe.receiveMessage(Duration.ofSeconds(5)));

    // While a reference is lent the deposit waits, without blocking the teller, which keeps
    // answering balance queries meanwhile.
    DRef<Account> lent = box.share();
    teller.tell(new Deposit(1, probe.ref()));
    teller.tell(new Balance(probe.ref()));
    assertEquals(15L, probe.receiveMessage(Duration.ofSeconds(3)), "reads are not blocked");
    lent.release();
    assertEquals(16L, probe.receiveMessage(Duration.ofSeconds(5)));
    assertTrue(dsm.counters().localWrites() >= 4);
  }

  @Test
  void shouldStartFromASetupWithClassesRegisteredInCode() {
    var setup =
        ActorSystemSetup.create(BootstrapSetup.create(testKit.system().settings().config()))
            .and(
                DsmSetup.create(
                    ClassRegistry.builder().register(Fixtures.Counter.class, 101).build()));
    var other =
        org.apache.pekko.actor.typed.ActorSystem.create(Behaviors.empty(), "with-setup", setup);
    try {
      Cluster.get(other).manager().tell(Join.create(Cluster.get(other).selfMember().address()));
      Dsm dsm = Dsm.get(other);
      DBox<Fixtures.Counter> box = dsm.alloc(new Fixtures.Counter(2));
      DBox<Account> account = dsm.alloc(new Account("from config", 1));
      assertEquals(0, box.read(Fixtures.Counter::version));
      assertEquals(1, account.read(Account::balance));
    } finally {
      ActorTestKit.shutdown(other);
    }
  }
}
