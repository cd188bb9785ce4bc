package dev.pekkodsm.coherence.mutex;

import dev.pekkodsm.coherence.NodeId;

/**
 * The 64-bit word in a mutex's cell that every locker, on any node, changes with one atomic
 * compare-and-exchange: who holds the lock, whether lockers wait at the home, which of the two
 * value slots holds the committed value, its version, and a fence that a forced release advances.
 *
 * <pre>
 * bits  0-31  holder: 0 free; a node's token; HANDED_OFF while the home passes it on. A token is
 *             the node's 24-bit tag and an 8-bit nonce of the acquisition, so a locker whose
 *             compare-and-exchange got no answer can tell by reading the word whether it holds
 *             the lock, and the home can tell which node holds it
 * bit     32  waiters: lockers queue at the home; the holder hands the lock to it on release
 * bit     33  the active value slot: 0 for A, 1 for B
 * bits 34-39  fence: advanced when the home takes the lock back from a node that left, so that
 *             node's late commit (its compare-and-exchange expects the old fence) is refused
 * bits 40-63  the low 24 bits of the committed value's version (its frame's color)
 * </pre>
 *
 * A commit writes the new frame into the inactive slot, then flips the active slot, advances the
 * version and releases the lock in one exchange: a reader sees the old committed value or the new
 * one, and a holder that lost its lock cannot commit. Pure functions; a node's holder token is
 * {@link #token(NodeId, int)}.
 */
public final class LockWord {

  /** The holder tag of the home while it passes the lock from its releaser to its next waiter. */
  public static final long HANDED_OFF = 0xFFFF_FFFFL;

  private static final long HOLDER_MASK = 0xFFFF_FFFFL;

  /** The bit of the word that selects the active value slot (0: A, 1: B). */
  public static final int ACTIVE_BIT = 33;

  private static final long WAITERS = 1L << 32;
  private static final long BUFFER = 1L << ACTIVE_BIT;
  private static final int FENCE_SHIFT = 34;
  private static final long FENCE_MASK = 0x3FL << FENCE_SHIFT;
  private static final int VERSION_SHIFT = 40;
  private static final long VERSION_MASK = 0xFF_FFFFL;

  private LockWord() {}

  private static final long TAG_MASK = 0xFF_FFFFL;

  /**
   * The 24-bit tag of a node: the low bits of its id, never 0 nor all ones. Two live nodes share a
   * tag with probability 2^-24 per pair; the cost would be that a departure of one also takes a
   * lock back from the other (whose commit is then refused, never lost).
   */
  public static long tag(NodeId node) {
    long t = node.value() & TAG_MASK;
    return t == 0 || t == TAG_MASK ? 1 : t;
  }

  /** The holder token of {@code node}'s acquisition {@code nonce} (its low 8 bits are used). */
  public static long token(NodeId node, int nonce) {
    return (tag(node) << 8) | (nonce & 0xFF);
  }

  /** True if the lock is held by an acquisition of {@code node}. */
  public static boolean heldByNode(long word, NodeId node) {
    long h = holder(word);
    return h != 0 && h != HANDED_OFF && (h >>> 8) == tag(node);
  }

  /** The word of a new mutex: free, slot A, version 0. */
  public static long initial() {
    return 0;
  }

  public static long holder(long word) {
    return word & HOLDER_MASK;
  }

  public static boolean isFree(long word) {
    return holder(word) == 0;
  }

  public static boolean hasWaiters(long word) {
    return (word & WAITERS) != 0;
  }

  /** The active value slot: 0 for A, 1 for B. */
  public static int activeSlot(long word) {
    return (word & BUFFER) != 0 ? 1 : 0;
  }

  public static int fence(long word) {
    return (int) ((word & FENCE_MASK) >>> FENCE_SHIFT);
  }

  /** The low 24 bits of the committed version. */
  public static int version(long word) {
    return (int) ((word >>> VERSION_SHIFT) & VERSION_MASK);
  }

  /** True if a frame of {@code color} is the committed value this word names. */
  public static boolean names(long word, int color) {
    return (color & VERSION_MASK) == version(word);
  }

  /** The word with the lock held by {@code token} (which may be {@link #HANDED_OFF}). */
  public static long heldBy(long word, long token) {
    return (word & ~HOLDER_MASK) | token;
  }

  /** The word with the waiters flag set or cleared. */
  public static long withWaiters(long word, boolean waiters) {
    return waiters ? word | WAITERS : word & ~WAITERS;
  }

  /**
   * The word after its holder commits version {@code color} into the inactive slot: that slot
   * becomes active, and the lock is free, or handed to the home if lockers wait there.
   */
  public static long committed(long word, int color) {
    long next = (word ^ BUFFER) & ~(VERSION_MASK << VERSION_SHIFT);
    next |= (color & VERSION_MASK) << VERSION_SHIFT;
    return released(next);
  }

  /**
   * What a backup holds of the word: the committed value's slot and version, with the lock free,
   * nobody waiting and the fence at 0. A promoted mutex starts from it, so a holder of the lock at
   * the primary, which expects its own token, cannot commit there; the fence is not needed for
   * that.
   */
  public static long committedState(long word) {
    return word & ~(HOLDER_MASK | WAITERS | FENCE_MASK);
  }

  /**
   * True if the version {@code word} names is behind the one {@code than} names: fewer than half
   * the version space (2^23 commits) behind, modulo its 24 bits.
   */
  public static boolean olderVersion(long word, long than) {
    long behind = (version(than) - version(word)) & VERSION_MASK;
    return behind != 0 && behind < (1L << 23);
  }

  /** The word after its holder lets go without a new value: the committed value stands. */
  public static long released(long word) {
    return heldBy(word, hasWaiters(word) ? HANDED_OFF : 0);
  }

  /**
   * The word after the home takes the lock back from its holder (a node that left): the fence
   * advances, so the holder's late commit is refused; the committed value stands.
   */
  public static long fenced(long word) {
    long fence = (fence(word) + 1) & 0x3FL;
    return released((word & ~FENCE_MASK) | (fence << FENCE_SHIFT));
  }

  /** A word for messages: who holds it, the slot, the version. */
  public static String describe(long word) {
    long h = holder(word);
    return (h == 0
            ? "free"
            : h == HANDED_OFF ? "handed to the home" : "held by " + Long.toHexString(h))
        + (hasWaiters(word) ? ", lockers waiting" : "")
        + ", slot "
        + (activeSlot(word) == 0 ? "A" : "B")
        + ", version "
        + version(word)
        + ", fence "
        + fence(word);
  }
}
