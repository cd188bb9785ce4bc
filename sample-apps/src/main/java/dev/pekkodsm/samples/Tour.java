package dev.pekkodsm.samples;

import dev.pekkodsm.BorrowConflictException;
import dev.pekkodsm.DBox;
import dev.pekkodsm.DMutex;
import dev.pekkodsm.DRef;
import dev.pekkodsm.DVec;
import dev.pekkodsm.Dsm;
import dev.pekkodsm.DsmCounters;
import dev.pekkodsm.StaleReferenceException;
import dev.pekkodsm.UseAfterMoveException;
import dev.pekkodsm.coherence.GlobalAddress;
import dev.pekkodsm.testkit.LocalCluster;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * A walk through the DSM on an embedded three-node cluster: allocate, share and read one-sided,
 * transfer, write (the object moves), write again (the color changes), a released reference
 * rejected, a write waiting for a lent reference, drop; then a mutex every node updates, code run
 * where the data is, a distributed vector, and tasks placed by load. Each step prints what happened
 * and the counters that prove it.
 */
public final class Tour {

  /** The value the tour works on: mutable, so writes change it in place. */
  public static final class Account {
    private final String owner;
    private long balance;

    public Account(String owner, long balance) {
      this.owner = owner;
      this.balance = balance;
    }

    public long deposit(long amount) {
      balance += amount;
      return balance;
    }

    public long balance() {
      return balance;
    }

    @Override
    public String toString() {
      return owner + ":" + balance;
    }
  }

  private final PrintStream out;
  private LocalCluster cluster;

  public Tour(PrintStream out) {
    this.out = out;
  }

  /** Runs the tour; throws if any step does not behave as the tour says. */
  public void run() {
    out.println("pekko-dsm tour: an embedded three-node Pekko cluster in one JVM, the nodes");
    out.println("talking Artery TCP over 127.0.0.1. Starting the nodes...");
    long started = System.nanoTime();
    try (LocalCluster c =
        LocalCluster.withNodes(3)
            .name("tour")
            .register(Account.class, 100)
            .config("pekko.dsm.borrow-timeout = 1s")
            .start()) {
      cluster = c;
      out.printf(
          Locale.ROOT,
          "Cluster up in %d ms. Node 1 = %s, node 2 = %s, node 3 = %s.%n",
          TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started),
          c.nodeId(0).hex(),
          c.nodeId(1).hex(),
          c.nodeId(2).hex());
      steps();
    }
  }

  private void steps() {
    heading(1, "Allocate an object on node 1");
    DBox<Account> box = cluster.dsm(0).alloc(new Account("ada", 100));
    say("DBox<Account> box = dsm1.alloc(new Account(\"ada\", 100))");
    say(
        "-> address %s, %s; nothing serialized, no message sent",
        box.address(), where(box.address()));

    heading(2, "Lend a shared reference and read it on nodes 2 and 3");
    DRef<Account> ref = box.share();
    say("DRef<Account> ref = box.share(); a copy of it is sent to node 2 and node 3 in a message");
    DRef<Account> on2 = cluster.send(0, 1, ref.copy());
    DRef<Account> on3 = cluster.send(0, 2, ref.copy());
    DRef<Account> second = cluster.send(0, 2, ref.copy());
    settle();
    long wire = wireMessages();
    DsmCounters n2 = counters(1);
    say("node 2: ref.get() = %s   %s", on2.get(), delta(1, n2));
    n2 = counters(1);
    say("node 2: ref.get() = %s   %s", on2.get(), delta(1, n2));
    DsmCounters n3 = counters(2);
    say("node 3: ref.get() = %s   %s", on3.get(), delta(2, n3));
    n3 = counters(2);
    say(
        "node 3: another reference to the same version: get() = %s   %s",
        second.get(), delta(2, n3));
    DsmCounters n1 = counters(0);
    say("node 1 (the home): box.read(a -> a) = %s   %s", box.read(a -> a.toString()), delta(0, n1));
    settle();
    check(wireMessages() == wire, "reads sent messages");
    say(
        "-> %d DSM messages were sent by all these reads: reads never ask the owner",
        wireMessages() - wire);
    on2.release();
    on3.release();
    second.release();
    ref.release();

    heading(3, "Transfer ownership and send the box to node 2");
    DBox<Account> moved = box.transfer();
    say("DBox<Account> moved = box.transfer(); the old handle is dead:");
    try {
      box.read(a -> a);
      throw new IllegalStateException("a transferred box was readable");
    } catch (UseAfterMoveException e) {
      say("  box.read(...) -> UseAfterMoveException: %s", e.getMessage());
    }
    DBox<Account> on2box = cluster.send(0, 1, moved);
    say("moved is sent to node 2 in a message; node 2 owns it. Only the handle travelled:");
    say("-> address still %s (%s)", on2box.address(), where(on2box.address()));

    heading(4, "Write on node 2: the object moves to its writer");
    GlobalAddress before = on2box.address();
    settle();
    wire = wireMessages();
    long objectsOn1 = counters(0).liveObjects();
    long balance = on2box.write(a -> a.deposit(25));
    settle();
    long moveMessages = wireMessages() - wire;
    say("node 2: box.write(a -> a.deposit(25)) = %d", balance);
    say(
        "-> address %s -> %s (%s): a new address, so no copy of the old one can be confused "
            + "with it",
        before, on2box.address(), where(on2box.address()));
    say(
        "-> %d messages on the wire (the hand-over request and its reply, carrying the value);"
            + " objects on node 1: %d -> %d",
        moveMessages, objectsOn1, counters(0).liveObjects());
    check(moveMessages == 2, "a move took " + moveMessages + " messages");

    heading(5, "Write again on node 2: in place, and the color changes");
    GlobalAddress beforeSecond = on2box.address();
    wire = wireMessages();
    on2box.write(a -> a.deposit(25));
    settle();
    say(
        "node 2: box.write(a -> a.deposit(25)); address %s -> %s, %d messages on the wire",
        beforeSecond, on2box.address(), wireMessages() - wire);
    say(
        "-> copies cached under color %d can never be reached again, so none is invalidated",
        beforeSecond.color());

    heading(6, "A released reference is rejected, never served stale");
    DRef<Account> late = cluster.send(1, 2, on2box.share());
    say("node 3: ref.get() = %s", late.get());
    late.release();
    try {
      late.get();
      throw new IllegalStateException("a released reference was readable");
    } catch (StaleReferenceException e) {
      say("node 3: ref.release(); ref.get() -> StaleReferenceException: %s", e.getMessage());
    }

    heading(7, "A write waits for lent references");
    DRef<Account> held = cluster.send(1, 0, on2box.share());
    say("node 1 holds a reference lent by node 2 (%s)", held.get());
    try {
      on2box.write(a -> a.deposit(1));
      throw new IllegalStateException("a write went through while a reference was lent");
    } catch (BorrowConflictException e) {
      say("node 2: box.write(...) waits pekko.dsm.borrow-timeout (1 s here), then");
      say("  BorrowConflictException: %s", e.getMessage());
    }
    held.release();
    long after = retryWrite(on2box);
    say("node 1 releases it; node 2: box.write(a -> a.deposit(1)) = %d", after);

    heading(8, "Drop");
    long objectsOn2 = counters(1).liveObjects();
    on2box.drop();
    say("node 2: box.drop(); objects on node 2: %d -> %d", objectsOn2, counters(1).liveObjects());
    try {
      on2box.read(a -> a);
      throw new IllegalStateException("a dropped box was readable");
    } catch (UseAfterMoveException e) {
      say("node 2: box.read(...) -> UseAfterMoveException: %s", e.getMessage());
    }

    sharedState();

    out.println();
    out.println("Counters per node (cumulative):");
    out.printf(
        Locale.ROOT,
        "  %-6s %11s %12s %10s %15s %11s %8s %9s %10s%n",
        "node",
        "local reads",
        "local writes",
        "cache hits",
        "one-sided reads",
        "bytes read",
        "moves in",
        "moves out",
        "messages");
    for (int i = 0; i < 3; i++) {
      DsmCounters k = counters(i);
      out.printf(
          Locale.ROOT,
          "  %-6s %11d %12d %10d %15d %11d %8d %9d %10d%n",
          "node " + (i + 1),
          k.localReads(),
          k.localWrites(),
          k.cacheHits(),
          k.oneSidedReads(),
          k.bytesRead(),
          k.movesIn(),
          k.movesOut(),
          k.messagesSent());
    }
    out.println();
    out.println("Tour complete.");
  }

  /** Steps 9 to 12: a mutex, code shipped to the data, a vector, tasks placed by load. */
  private void sharedState() {
    heading(9, "A counter every node updates: a DMutex");
    DMutex<Long> counter = cluster.dsm(0).mutex(0L);
    List<DMutex<Long>> handles =
        List.of(counter, cluster.send(0, 1, counter.clone()), cluster.send(0, 2, counter.clone()));
    say("DMutex<Long> counter = dsm1.mutex(0L); a clone is sent to nodes 2 and 3");
    List<CompletableFuture<Void>> nodes = new ArrayList<>();
    for (DMutex<Long> h : handles) {
      nodes.add(
          CompletableFuture.runAsync(
              () -> {
                for (int i = 0; i < 100; i++) {
                  h.replace(v -> v + 1);
                }
              }));
    }
    CompletableFuture.allOf(nodes.toArray(CompletableFuture[]::new)).join();
    say("each node at once: 100 x counter.replace(v -> v + 1), the function shipped to the home");
    settle();
    long wire = wireMessages();
    DsmCounters n3 = counters(2);
    long total = handles.get(2).read(v -> v);
    say("node 3: counter.read(v -> v) = %d   %s", total, delta(2, n3));
    check(total == 300, "the counter ended at " + total);
    check(wireMessages() == wire, "a mutex read sent a message");
    say("-> every update counted, under a FIFO lock at node 1; the read sent no message");
    handles.forEach(DMutex::drop);

    heading(10, "Run code where the data is: spawnTo");
    DBox<Account> ledger = cluster.dsm(0).alloc(new Account("bob", 10));
    DBox<Account> owned = cluster.send(0, 2, ledger);
    say("a box of node 1's object is sent to node 3; node 3 owns it, the object stays on node 1");
    String ran =
        cluster
            .dsm(2)
            .spawnTo(owned, a -> a.deposit(5) + " on " + Dsm.current().self().hex())
            .toCompletableFuture()
            .join();
    say("node 3: dsm.spawnTo(box, a -> a.deposit(5) + \" on \" + Dsm.current().self()) = %s", ran);
    check(ran.endsWith(cluster.nodeId(0).hex()), "spawnTo ran elsewhere: " + ran);
    say(
        "-> the function ran on node 1, where the object lives; it did not move: %s",
        where(owned.address()));
    owned.drop();

    heading(11, "A distributed vector: chunks placed round-robin, computed where they live");
    List<Long> numbers = new ArrayList<>();
    for (long i = 1; i <= 3000; i++) {
      numbers.add(i);
    }
    DVec<Long> column = cluster.dsm(0).vec(numbers, 250, DVec.Placement.ROUND_ROBIN);
    int[] perNode = new int[3];
    for (int k = 0; k < column.chunkCount(); k++) {
      perNode[cluster.indexOf(column.chunkAddress(k).node())]++;
    }
    say(
        "DVec<Long> column = dsm1.vec(1..3000, 250, ROUND_ROBIN): %d chunks, %d/%d/%d on nodes"
            + " 1/2/3",
        column.chunkCount(), perNode[0], perNode[1], perNode[2]);
    List<Long> sums =
        column
            .mapChunks(c -> c.stream().mapToLong(Long::longValue).sum())
            .toCompletableFuture()
            .join();
    long sum = sums.stream().mapToLong(Long::longValue).sum();
    say(
        "column.mapChunks(c -> sum(c)): %d partial sums computed on the chunks' nodes, total %d",
        sums.size(), sum);
    DVec<Long> view = cluster.send(0, 2, column.share());
    DsmCounters before3 = counters(2);
    long[] scanned = {0};
    view.forEach((v, i) -> scanned[0] += v);
    say("node 3: view.forEach(...) total %d   %s", scanned[0], delta(2, before3));
    check(
        sum == 4_501_500L && scanned[0] == sum,
        "the vector's sums were " + sum + ", " + scanned[0]);
    say(
        "-> one one-sided read per chunk that lives elsewhere; node 3's own chunks are read in place");
    view.drop();
    column.drop();

    heading(12, "Tasks placed by load: spawn");
    List<CompletableFuture<String>> tasks = new ArrayList<>();
    for (int i = 0; i < 9; i++) {
      tasks.add(
          cluster
              .dsm(0)
              .spawn(
                  () -> {
                    Thread.sleep(50);
                    return Dsm.current().self().hex();
                  })
              .toCompletableFuture());
    }
    int[] ranOn = new int[3];
    for (CompletableFuture<String> t : tasks) {
      String hex = t.join();
      for (int i = 0; i < 3; i++) {
        if (cluster.nodeId(i).hex().equals(hex)) {
          ranOn[i]++;
        }
      }
    }
    say("node 1: 9 x dsm.spawn(() -> { sleep 50 ms; return Dsm.current().self(); })");
    say(
        "-> ran %d/%d/%d on nodes 1/2/3: each goes where the fewest tasks are",
        ranOn[0], ranOn[1], ranOn[2]);
    check(ranOn[0] > 0 && ranOn[1] > 0 && ranOn[2] > 0, "spawn did not spread the tasks");
  }

  private long retryWrite(DBox<Account> box) {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (true) {
      try {
        return box.write(a -> a.deposit(1));
      } catch (BorrowConflictException e) {
        if (System.nanoTime() > deadline) {
          throw e;
        }
      }
    }
  }

  private String where(GlobalAddress a) {
    int index = cluster.indexOf(a.node());
    return "homed on node " + (index + 1);
  }

  private DsmCounters counters(int node) {
    return cluster.dsm(node).counters();
  }

  private String delta(int node, DsmCounters before) {
    DsmCounters d = counters(node).minus(before);
    return String.format(
        Locale.ROOT,
        "[one-sided reads +%d (%d bytes), cache hits +%d, local reads +%d]",
        d.oneSidedReads(),
        d.bytesRead(),
        d.cacheHits(),
        d.localReads());
  }

  private long wireMessages() {
    return cluster.messagesSent();
  }

  /** Waits until no DSM message has been sent for a moment (adoptions are asynchronous). */
  private void settle() {
    cluster.awaitQuiet(java.time.Duration.ofMillis(200));
  }

  private void heading(int n, String title) {
    out.println();
    out.println(n + ". " + title);
  }

  private void say(String format, Object... args) {
    out.println("   " + String.format(Locale.ROOT, format, args));
  }

  private static void check(boolean ok, String what) {
    if (!ok) {
      throw new IllegalStateException("the tour went wrong: " + what);
    }
  }
}
