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

  /** The weight of a fresh lend. Leaves room for 2^23 concurrent lends in a signed total. */
  public static final long INITIAL_WEIGHT = 1L << 40;

  /** A holder whose weight falls below this asks the owner for more before splitting again. */
  public static final long TOP_UP_BELOW = 1L << 16;

  private static final class Account {
    long weight;
    int refs;
  }

  private Map<NodeId, Account> accounts = Collections.emptyMap();
  private long total;

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

  /** Records a new reference of {@code weight} lent to {@code holder}. */
  public void grant(NodeId holder, long weight) {
    requirePositive(weight);
    Account a = account(holder);
    a.weight += weight;
    a.refs++;
    total += weight;
  }

  /** Adds weight to a holder's existing reference (a top-up); the reference count is unchanged. */
  public void topUp(NodeId holder, long weight) {
    requirePositive(weight);
    account(holder).weight += weight;
    total += weight;
  }

  /**
   * Records that a reference of {@code weight} sent by {@code from} now lives on {@code to}. If
   * {@code from} has departed, its balance was already reclaimed, so the weight is counted afresh.
   */
  public void adopt(NodeId from, NodeId to, long weight, boolean fromDeparted) {
    requirePositive(weight);
    if (fromDeparted) {
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

  private static void requirePositive(long weight) {
    if (weight <= 0) {
      throw new IllegalArgumentException("weight=" + weight + " must be > 0");
    }
  }
}
