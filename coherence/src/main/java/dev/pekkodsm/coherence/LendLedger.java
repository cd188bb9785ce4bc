package dev.pekkodsm.coherence;

import java.util.Collections;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * The owner's account of shared references it has lent, by weighted reference counting.
 *
 * <p>A lend starts with {@link #INITIAL_WEIGHT}. A holder that copies a reference to another node
 * splits its weight without telling the owner; the receiver later reports the move with {@link
 * #adopt}, so the owner can attribute weight to nodes and reclaim a departed node's share. The
 * owner may write only when the total outstanding weight is zero, which no message ordering can
 * fake: every unit of weight was granted here and comes back here exactly once.
 *
 * <p>Per-holder balances may dip below zero while an adoption is in flight; only the total decides.
 * Not thread-safe: owned by the object's {@link BorrowState}.
 */
public final class LendLedger {

  /**
   * The weight of a fresh lend. The outstanding total is a signed {@code long}, so it holds up to
   * {@link #MAX_FRESH_LENDS} fresh lends at once.
   */
  public static final long INITIAL_WEIGHT = 1L << 40;

  /**
   * The most outstanding weight one object's ledger holds: weight that would take the total beyond
   * it is refused (see {@link #grant}).
   */
  public static final long MAX_TOTAL_WEIGHT = Long.MAX_VALUE;

  /** How many fresh lends ({@link #INITIAL_WEIGHT} each) fit at once: 2^23 - 1. */
  public static final long MAX_FRESH_LENDS = MAX_TOTAL_WEIGHT / INITIAL_WEIGHT;

  /**
   * A holder whose weight falls below this asks the owner for more (once, until it arrives; again
   * if it falls below {@link #TOP_UP_AGAIN_BELOW} meanwhile), and a reference that arrives holding
   * less asks on arrival. A copy ({@link #COPY_WEIGHT}) is copied six times before it asks, with 21
   * halvings left while the weight travels.
   */
  public static final long TOP_UP_BELOW = 1L << 22;

  /** A holder whose top-up has not arrived asks again below this. */
  public static final long TOP_UP_AGAIN_BELOW = 1L << 10;

  /**
   * The most weight a copy of a reference takes from the reference it is copied from: a holder with
   * a fresh lend's weight makes 4,095 copies before copies start to halve what it holds, where
   * halving from the first copy would ask for more after 18 and run dry after 40. A service that
   * keeps a reference and hands a copy to every reader is the common case; a copy that is copied on
   * still has 2^28 to halve.
   */
  public static final long COPY_WEIGHT = 1L << 28;

  private static final class Account {
    long weight;
    int refs;
  }

  private final long maxTotalWeight;
  private Map<NodeId, Account> accounts = Collections.emptyMap();
  private long total;

  /** An empty ledger holding up to {@link #MAX_TOTAL_WEIGHT}. */
  public LendLedger() {
    this(MAX_TOTAL_WEIGHT);
  }

  /** An empty ledger holding up to {@code maxTotalWeight}; a lower limit lets tests reach it. */
  LendLedger(long maxTotalWeight) {
    requirePositive(maxTotalWeight);
    this.maxTotalWeight = maxTotalWeight;
  }

  private Account account(NodeId holder) {
    if (accounts.isEmpty()) {
      accounts = new HashMap<>(4);
    }
    return accounts.computeIfAbsent(holder, h -> new Account());
  }

  private void prune(NodeId holder, Account a) {
    if (a.weight == 0) {
      accounts.remove(holder);
    }
  }

  /**
   * Records a new reference of {@code weight} lent to {@code holder}.
   *
   * @throws IllegalStateException if the outstanding weight would exceed the ledger's limit (with
   *     fresh lends: {@link #MAX_FRESH_LENDS} of them at once); the ledger is unchanged then
   */
  public void grant(NodeId holder, long weight) {
    requirePositive(weight);
    requireRoomFor(weight, "lend a reference to " + holder);
    Account a = account(holder);
    a.weight += weight;
    a.refs++;
    total += weight;
  }

  /**
   * Adds weight to a holder's existing reference (a top-up); the reference count is unchanged.
   *
   * @throws IllegalStateException as {@link #grant} does
   */
  public void topUp(NodeId holder, long weight) {
    requirePositive(weight);
    requireRoomFor(weight, "top up the reference of " + holder);
    account(holder).weight += weight;
    total += weight;
  }

  /**
   * Records that a reference of {@code weight} sent by {@code from} now lives on {@code to}. If
   * {@code from} has departed, its balance was already reclaimed, so the weight is counted afresh.
   *
   * @throws IllegalStateException if {@code from} has departed and counting the weight afresh would
   *     exceed the limit, as in {@link #grant}; the ledger is unchanged then
   */
  public void adopt(NodeId from, NodeId to, long weight, boolean fromDeparted) {
    requirePositive(weight);
    if (fromDeparted) {
      requireRoomFor(weight, "adopt on " + to + " a reference sent by departed " + from);
      total += weight;
    } else {
      Account source = account(from);
      source.weight -= weight;
      source.refs--;
      prune(from, source);
    }
    Account target = account(to);
    target.weight += weight;
    target.refs++;
  }

  /** A holder returns one reference of {@code weight}. */
  public void release(NodeId holder, long weight) {
    requirePositive(weight);
    Account a = account(holder);
    a.weight -= weight;
    a.refs--;
    total -= weight;
    prune(holder, a);
  }

  /**
   * Forgets everything lent to a departed holder.
   *
   * @return the number of references reclaimed (as far as the owner knew)
   */
  public int reclaim(NodeId holder) {
    Account a = accounts.get(holder);
    if (a == null) {
      return 0;
    }
    accounts.remove(holder);
    total -= a.weight;
    return a.weight > 0 ? Math.max(1, a.refs) : Math.max(0, a.refs);
  }

  /** True if no weight is outstanding: the owner may write, move or drop. */
  public boolean isEmpty() {
    return total == 0;
  }

  /** The outstanding weight. */
  public long totalWeight() {
    return total;
  }

  /**
   * The references each holder has, as far as the owner knows, for diagnostics. Copies made on a
   * node without a message are not known; a holder with weight counts at least once.
   */
  public Map<NodeId, Integer> refsByHolder() {
    Map<NodeId, Integer> out = new TreeMap<>();
    accounts.forEach(
        (holder, a) -> {
          if (a.weight > 0 || a.refs > 0) {
            out.put(holder, Math.max(1, a.refs));
          }
        });
    return out;
  }

  /** True if {@code holder} has any outstanding weight. */
  public boolean holds(NodeId holder) {
    Account a = accounts.get(holder);
    return a != null && a.weight > 0;
  }

  /** The most outstanding weight this ledger holds. */
  public long maxTotalWeight() {
    return maxTotalWeight;
  }

  private void requireRoomFor(long weight, String what) {
    if (total > maxTotalWeight - weight) { // both positive: the subtraction cannot overflow
      throw new IllegalStateException(
          "cannot "
              + what
              + ": the object's outstanding lend weight "
              + total
              + " plus "
              + weight
              + " would exceed its limit of "
              + maxTotalWeight
              + " (about "
              + maxTotalWeight / INITIAL_WEIGHT
              + " references at once); release references to this object before lending more");
    }
  }

  private static void requirePositive(long weight) {
    if (weight <= 0) {
      throw new IllegalArgumentException("weight=" + weight + " must be > 0");
    }
  }
}
