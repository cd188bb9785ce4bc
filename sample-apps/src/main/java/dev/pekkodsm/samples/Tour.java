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
import dev.pekkodsm.coherence.NodeId;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * A walk through the DSM on three nodes: allocate, share and read one-sided, transfer, write (the
 * object moves), write again (the color changes), a released reference rejected, a write waiting
 * for a lent reference, drop; then a mutex every node updates, code run where the data is, a
 * distributed vector, and tasks placed by load. Each step prints what happened and the counters
 * that prove it, and checks them.
 *
 * <p>Node 1 is this JVM's node; nodes 2 and 3 act only through tasks node 1 places on them, which
 * take the handles they use with them and hand back what node 1 needs. So the same steps run on an
 * embedded cluster ({@link #run()}) and against other JVMs ({@link #run(TourNodes)}). Counters of a
 * node are read inside the task running on it, and messages are counted on the node that acts,
 * while it acts: the tasks' own messages (the task and its result) fall outside what is counted.
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
  private TourNodes nodes;

  public Tour(PrintStream out) {
    this.out = out;
  }

  /** Runs the tour on an embedded three-node cluster; throws if a step does not behave as said. */
  public void run() {
    try (TourNodes embedded = startEmbedded()) {
      run(embedded);
    }
  }

  /** Starts the embedded three-node cluster the tour runs on by default, saying so. */
  TourNodes startEmbedded() {
    out.println("pekko-dsm tour: an embedded three-node Pekko cluster in one JVM, the nodes");
    out.println("talking Artery TCP over 127.0.0.1. Starting the nodes...");
    long started = System.nanoTime();
    TourNodes embedded = TourNodes.embedded();
    out.printf(
        Locale.ROOT,
        "Cluster up in %d ms.%n",
        TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started));
    return embedded;
  }

  /**
   * Runs the tour on {@code nodes} (which stay open); throws if a step does not behave as said.
   * Nodes 2 and 3 must have this class and its registrations (both come with the samples' jar).
   */
  void run(TourNodes nodes) {
    this.nodes = nodes;
    out.println("The tour runs on " + nodes.description() + ".");
    out.printf(
        Locale.ROOT,
        "Node 1 = %s, node 2 = %s, node 3 = %s. Nodes 2 and 3 act through tasks node 1 places"
            + " on them.%n",
        nodes.id(1).hex(),
        nodes.id(2).hex(),
        nodes.id(3).hex());
    steps();
    sharedState();
    table();
    out.println();
    out.println("Tour complete.");
  }

  /** Steps 1 to 8: one object's life. */
  private void steps() {
    Dsm dsm1 = nodes.first();
    heading(1, "Allocate an object on node 1");
    quiet(dsm1);
    DsmCounters start = dsm1.counters();
    DBox<Account> box = dsm1.alloc(new Account("ada", 100));
    DsmCounters alloc = dsm1.counters().minus(start);
    say("DBox<Account> box = dsm1.alloc(new Account(\"ada\", 100))");
    check(
        alloc.messagesSent() == 0 && alloc.snapshotsPublished() == 0,
        "alloc sent " + alloc.messagesSent() + " messages");
    say(
        "-> address %s, %s; nothing serialized, no message sent",
        box.address(), where(box.address()));

    heading(2, "Lend a shared reference and read it on nodes 2 and 3");
    DRef<Account> ref = box.share();
    say("DRef<Account> ref = box.share(); a task on node 2 takes a copy, one on node 3 two copies");
    DRef<Account> on2 = ref.copy();
    print(
        nodes.on(
            2,
            () -> {
              Dsm here = Dsm.current();
              quiet(here); // the copy's arrival is announced to its home: let that go first
              DsmCounters reads = here.counters();
              DsmCounters c = here.counters();
              String said = line("node 2: ref.get() = %s   %s", on2.get(), delta(here, c));
              check(here.counters().minus(c).oneSidedReads() == 1, "node 2's first read");
              c = here.counters();
              said += line("node 2: ref.get() = %s   %s", on2.get(), delta(here, c));
              long sent = here.counters().minus(reads).messagesSent();
              check(sent == 0, "node 2's reads sent " + sent + " messages");
              on2.release();
              return said;
            }));
    DRef<Account> on3 = ref.copy();
    DRef<Account> second = ref.copy();
    print(
        nodes.on(
            3,
            () -> {
              Dsm here = Dsm.current();
              quiet(here);
              DsmCounters reads = here.counters();
              DsmCounters c = here.counters();
              String said = line("node 3: ref.get() = %s   %s", on3.get(), delta(here, c));
              check(here.counters().minus(c).oneSidedReads() == 1, "node 3's first read");
              c = here.counters();
              said +=
                  line(
                      "node 3: another reference to the same version: get() = %s   %s",
                      second.get(), delta(here, c));
              check(here.counters().minus(c).cacheHits() == 1, "node 3's cached read");
              long sent = here.counters().minus(reads).messagesSent();
              check(sent == 0, "node 3's reads sent " + sent + " messages");
              on3.release();
              second.release();
              return said;
            }));
    quiet(dsm1);
    DsmCounters n1 = dsm1.counters();
    say(
        "node 1 (the home): box.read(a -> a) = %s   %s",
        box.read(a -> a.toString()), delta(dsm1, n1));
    check(dsm1.counters().minus(n1).messagesSent() == 0, "node 1's read sent a message");
    say(
        "-> 0 DSM messages sent by each node while it read (counted on the reader): reads never"
            + " ask the owner; a node's first read is one-sided, later ones hit its cache");
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
    GlobalAddress home = moved.address();
    DBox<Account> travelled =
        report(
            nodes.on(
                2,
                () -> {
                  check(moved.address().equals(home), "the box's address changed in transit");
                  return new Object[] {
                    moved, line("node 2: the box arrived with the task: address %s", home)
                  };
                }));
    check(travelled.address().equals(home), "the box came back with another address");
    say("moved travels to node 2 inside a task (and back with its result). Only the handle did:");
    say("-> address still %s (%s)", travelled.address(), where(travelled.address()));

    heading(4, "Write on node 2: the object moves to its writer");
    GlobalAddress before = travelled.address();
    quiet(dsm1);
    DsmCounters atHome = dsm1.counters();
    DBox<Account> writer =
        report(
            nodes.on(
                2,
                () -> {
                  Dsm here = Dsm.current();
                  quiet(here);
                  DsmCounters c = here.counters();
                  long balance = travelled.write(a -> a.deposit(25));
                  DsmCounters d = here.counters().minus(c);
                  check(
                      d.messagesSent() == 1 && d.movesIn() == 1,
                      "the move sent " + d.messagesSent() + " messages from node 2");
                  check(
                      travelled.address().node().equals(here.self()),
                      "the object did not move to node 2");
                  return new Object[] {
                    travelled,
                    line("node 2: box.write(a -> a.deposit(25)) = %d", balance)
                        + line(
                            "-> node 2 put %d message on the wire, the hand-over request;"
                                + " moves in +%d",
                            d.messagesSent(), d.movesIn())
                  };
                }));
    DsmCounters gave = dsm1.counters().minus(atHome);
    check(gave.movesOut() == 1, "node 1 moved out " + gave.movesOut() + " objects");
    say(
        "-> node 1 answered with the value: moves out +%d; objects on node 1: %d -> %d",
        gave.movesOut(), atHome.liveObjects(), gave.liveObjects());
    say(
        "-> address %s -> %s (%s): a new address, so no copy of the old one can be confused "
            + "with it",
        before, writer.address(), where(writer.address()));

    heading(5, "Write again on node 2: in place, and the color changes");
    DBox<Account> inPlace =
        report(
            nodes.on(
                2,
                () -> {
                  Dsm here = Dsm.current();
                  quiet(here);
                  GlobalAddress was = writer.address();
                  DsmCounters c = here.counters();
                  writer.write(a -> a.deposit(25));
                  DsmCounters d = here.counters().minus(c);
                  GlobalAddress now = writer.address();
                  check(
                      d.messagesSent() == 0 && d.localWrites() == 1,
                      "an in-place write sent " + d.messagesSent() + " messages");
                  check(
                      now.node().equals(was.node()) && now.color() == was.color() + 1,
                      "the color did not advance: " + was + " -> " + now);
                  return new Object[] {
                    writer,
                    line(
                            "node 2: box.write(a -> a.deposit(25)); address %s -> %s, %d"
                                + " messages sent",
                            was, now, d.messagesSent())
                        + line(
                            "-> copies cached under color %d can never be reached again, so"
                                + " none is invalidated",
                            was.color())
                  };
                }));

    heading(6, "A released reference is rejected, never served stale");
    NodeId third = nodes.id(3);
    DBox<Account> lender =
        report(
            nodes.on(
                2,
                () -> {
                  DRef<Account> lent = inPlace.share();
                  String said =
                      Dsm.current()
                          .spawnOn(
                              third,
                              () -> {
                                String seen = line("node 3: ref.get() = %s", lent.get());
                                lent.release();
                                try {
                                  lent.get();
                                  throw new IllegalStateException(
                                      "a released reference was readable");
                                } catch (StaleReferenceException e) {
                                  return seen
                                      + line(
                                          "node 3: ref.release(); ref.get() ->"
                                              + " StaleReferenceException: %s",
                                          e.getMessage());
                                }
                              })
                          .toCompletableFuture()
                          .get(TourNodes.TASK_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
                  return new Object[] {
                    inPlace, line("node 2: box.share(), sent to node 3 with a task") + said
                  };
                }));

    heading(7, "A write waits for lent references");
    Object[] lent = nodes.on(2, () -> new Object[] {lender, lender.share()});
    DBox<Account> waiting = cast(lent[0]);
    DRef<Account> held = cast(lent[1]);
    say("node 1 holds a reference lent by node 2 (%s)", held.get());
    DBox<Account> blocked =
        report(
            nodes.on(
                2,
                () -> {
                  long started = System.nanoTime();
                  try {
                    waiting.write(a -> a.deposit(1));
                    throw new IllegalStateException(
                        "a write went through while a reference was lent");
                  } catch (BorrowConflictException e) {
                    double waited = (System.nanoTime() - started) / 1e9;
                    return new Object[] {
                      waiting,
                      line(
                              "node 2: box.write(...) waited %.1f s (pekko.dsm.borrow-timeout),"
                                  + " then",
                              waited)
                          + line("  BorrowConflictException: %s", e.getMessage())
                    };
                  }
                }));
    held.release();
    DBox<Account> released =
        report(
            nodes.on(
                2,
                () ->
                    new Object[] {
                      blocked,
                      line(
                          "node 1 releases it; node 2: box.write(a -> a.deposit(1)) = %d",
                          retryWrite(blocked))
                    }));

    heading(8, "Drop");
    print(
        nodes.on(
            2,
            () -> {
              long objects = Dsm.current().counters().liveObjects();
              released.drop();
              String said =
                  line(
                      "node 2: box.drop(); objects on node 2: %d -> %d",
                      objects, Dsm.current().counters().liveObjects());
              try {
                released.read(a -> a);
                throw new IllegalStateException("a dropped box was readable");
              } catch (UseAfterMoveException e) {
                return said
                    + line("node 2: box.read(...) -> UseAfterMoveException: %s", e.getMessage());
              }
            }));
  }

  /** Steps 9 to 12: a mutex, code shipped to the data, a vector, tasks placed by load. */
  private void sharedState() {
    Dsm dsm1 = nodes.first();
    heading(9, "A counter every node updates: a DMutex");
    DMutex<Long> counter = dsm1.mutex(0L);
    say("DMutex<Long> counter = dsm1.mutex(0L); tasks on nodes 2 and 3 take a clone each");
    List<CompletableFuture<Integer>> others = new ArrayList<>();
    for (int node = 2; node <= 3; node++) {
      DMutex<Long> clone = counter.clone();
      others.add(nodes.onAsync(node, () -> addHundred(clone)));
    }
    addHundred(counter.clone());
    for (CompletableFuture<Integer> other : others) {
      other.join();
    }
    say("each node at once: 100 x counter.replace(v -> v + 1), the function shipped to the home");
    DMutex<Long> reader = counter.clone();
    print(
        nodes.on(
            3,
            () -> {
              Dsm here = Dsm.current();
              quiet(here);
              DsmCounters c = here.counters();
              long total = reader.read(v -> v);
              long sent = here.counters().minus(c).messagesSent();
              check(total == 300, "the counter ended at " + total);
              check(sent == 0, "a mutex read sent " + sent + " messages");
              String said = line("node 3: counter.read(v -> v) = %d   %s", total, delta(here, c));
              reader.drop();
              return said
                  + line(
                      "-> every update counted, under a FIFO lock at node 1; the read sent no"
                          + " message");
            }));
    counter.drop();

    heading(10, "Run code where the data is: spawnTo");
    DBox<Account> ledger = dsm1.alloc(new Account("bob", 10));
    NodeId first = nodes.id(1);
    say("a box of node 1's object goes to node 3 with a task; node 3 owns it, the object stays");
    print(
        nodes.on(
            3,
            () -> {
              String ran =
                  Dsm.current()
                      .spawnTo(ledger, a -> a.deposit(5) + " on " + Dsm.current().self().hex())
                      .toCompletableFuture()
                      .get(TourNodes.TASK_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
              check(ran.endsWith(first.hex()), "spawnTo ran elsewhere: " + ran);
              check(ledger.address().node().equals(first), "the object moved: " + ledger.address());
              String said =
                  line(
                          "node 3: dsm.spawnTo(box, a -> a.deposit(5) + \" on \" +"
                              + " Dsm.current().self()) = %s",
                          ran)
                      + line(
                          "-> the function ran on node 1, where the object lives; it did not"
                              + " move: still on node 1 (%s)",
                          ledger.address());
              ledger.drop();
              return said;
            }));

    heading(11, "A distributed vector: chunks placed round-robin, computed where they live");
    List<Long> numbers = new ArrayList<>();
    for (long i = 1; i <= 3000; i++) {
      numbers.add(i);
    }
    DVec<Long> column = dsm1.vec(numbers, 250, DVec.Placement.ROUND_ROBIN);
    int[] perNode = new int[4];
    for (int k = 0; k < column.chunkCount(); k++) {
      perNode[nodes.number(column.chunkAddress(k).node())]++;
    }
    say(
        "DVec<Long> column = dsm1.vec(1..3000, 250, ROUND_ROBIN): %d chunks, %d/%d/%d on nodes"
            + " 1/2/3%s",
        column.chunkCount(), perNode[1], perNode[2], perNode[3], elsewhere(perNode[0]));
    List<Long> sums =
        column
            .mapChunks(c -> c.stream().mapToLong(Long::longValue).sum())
            .toCompletableFuture()
            .join();
    long sum = sums.stream().mapToLong(Long::longValue).sum();
    check(sum == 4_501_500L, "the vector's sum was " + sum);
    say(
        "column.mapChunks(c -> sum(c)): %d partial sums computed on the chunks' nodes, total %d",
        sums.size(), sum);
    DVec<Long> view = column.share();
    int remote = column.chunkCount() - perNode[3];
    print(
        nodes.on(
            3,
            () -> {
              Dsm here = Dsm.current();
              quiet(here);
              DsmCounters c = here.counters();
              long[] scanned = {0};
              view.forEach((v, i) -> scanned[0] += v);
              long reads = here.counters().minus(c).oneSidedReads();
              check(scanned[0] == sum, "node 3 scanned " + scanned[0]);
              check(reads == remote, reads + " one-sided reads for " + remote + " remote chunks");
              String said =
                  line("node 3: view.forEach(...) total %d   %s", scanned[0], delta(here, c));
              view.drop();
              return said
                  + line(
                      "-> one one-sided read per chunk that lives elsewhere (%d); node 3's own"
                          + " chunks are read in place",
                      remote);
            }));
    column.drop();

    heading(12, "Tasks placed by load: spawn");
    List<CompletableFuture<NodeId>> tasks = new ArrayList<>();
    for (int i = 0; i < 9; i++) {
      tasks.add(
          dsm1.spawn(
                  () -> {
                    Thread.sleep(50);
                    return Dsm.current().self();
                  })
              .toCompletableFuture());
    }
    int[] ranOn = new int[4];
    java.util.Set<NodeId> distinct = new java.util.HashSet<>();
    for (CompletableFuture<NodeId> t : tasks) {
      NodeId where = t.join();
      distinct.add(where);
      ranOn[nodes.number(where)]++;
    }
    int members = nodes.upMembers();
    say("node 1: 9 x dsm.spawn(() -> { sleep 50 ms; return Dsm.current().self(); })");
    check(
        distinct.size() == Math.min(members, tasks.size()),
        "spawn used " + distinct.size() + " of " + members + " members");
    say(
        "-> ran %d/%d/%d on nodes 1/2/3%s: each goes where the fewest tasks are, so they spread"
            + " over %d of the %d members Up",
        ranOn[1], ranOn[2], ranOn[3], elsewhere(ranOn[0]), distinct.size(), members);
  }

  private void table() {
    out.println();
    out.println(
        "Counters per node (cumulative since each node started; messages include the tour's"
            + " tasks):");
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
    out.println(row("node 1", nodes.first().counters()));
    out.println(nodes.on(2, () -> row("node 2", Dsm.current().counters())));
    out.println(nodes.on(3, () -> row("node 3", Dsm.current().counters())));
  }

  private static String row(String node, DsmCounters k) {
    return String.format(
        Locale.ROOT,
        "  %-6s %11d %12d %10d %15d %11d %8d %9d %10d",
        node,
        k.localReads(),
        k.localWrites(),
        k.cacheHits(),
        k.oneSidedReads(),
        k.bytesRead(),
        k.movesIn(),
        k.movesOut(),
        k.messagesSent());
  }

  private static int addHundred(DMutex<Long> counter) {
    for (int i = 0; i < 100; i++) {
      counter.replace(v -> v + 1);
    }
    counter.drop();
    return 100;
  }

  private static long retryWrite(DBox<Account> box) {
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

  /**
   * Waits until {@code dsm}'s node has sent no DSM message for a moment, so that what it sends next
   * is counted apart from what earlier steps set off (a handle's arrival is announced to its home
   * asynchronously).
   */
  private static void quiet(Dsm dsm) {
    long quietNs = TimeUnit.MILLISECONDS.toNanos(500);
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    long last = dsm.counters().messagesSent();
    long since = System.nanoTime();
    while (System.nanoTime() - since < quietNs) {
      check(System.nanoTime() - deadline < 0, "node " + dsm.self() + " kept sending messages");
      try {
        Thread.sleep(25);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted", e);
      }
      long now = dsm.counters().messagesSent();
      if (now != last) {
        last = now;
        since = System.nanoTime();
      }
    }
  }

  private String where(GlobalAddress a) {
    int n = nodes.number(a.node());
    return n == 0 ? "homed on another member" : "homed on node " + n;
  }

  private static String elsewhere(int count) {
    return count == 0
        ? ""
        : String.format(Locale.ROOT, " and %d on the cluster's other members", count);
  }

  private static String delta(Dsm dsm, DsmCounters before) {
    DsmCounters d = dsm.counters().minus(before);
    return String.format(
        Locale.ROOT,
        "[one-sided reads +%d (%d bytes%s), cache hits +%d, local reads +%d]",
        d.oneSidedReads(),
        d.bytesRead(),
        (d.shmReads() > 0 ? ", shm" : "")
            + (d.tcpReads() > 0 ? ", tcp" : "")
            + (d.rdmaReads() > 0 ? ", rdma" : ""),
        d.cacheHits(),
        d.localReads());
  }

  /** A line of a step's output, made where the step ran (perhaps on another node). */
  private static String line(String format, Object... args) {
    return "   " + String.format(Locale.ROOT, format, args) + System.lineSeparator();
  }

  /** Prints the lines a task made and returns the handle it handed back. */
  private <T> T report(Object[] result) {
    print((String) result[1]);
    return cast(result[0]);
  }

  @SuppressWarnings("unchecked")
  private static <T> T cast(Object value) {
    return (T) value;
  }

  private void print(String lines) {
    out.print(lines);
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
