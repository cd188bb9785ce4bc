package dev.pekkodsm.coherence.mutex;

import dev.pekkodsm.memory.ActiveValue;
import dev.pekkodsm.memory.ReadBuffer;
import dev.pekkodsm.memory.ReadStatus;
import dev.pekkodsm.memory.SyncAccess;
import dev.pekkodsm.memory.SyncFailedException;
import dev.pekkodsm.memory.SyncLayout;
import dev.pekkodsm.memory.SyncStatus;
import dev.pekkodsm.serialization.internal.SnapshotCodec;

/**
 * The one-sided steps of the mutex protocol, on any node, through {@link SyncAccess}: the owner's
 * own mapping at the home, a peer's transport elsewhere. A lock is taken with one
 * compare-and-exchange of the {@link LockWord} when it is free and nobody queues at the home; a
 * commit writes the new frame into the inactive value slot and then flips the word; a read takes
 * the word, then the frame of the slot it names.
 *
 * <p>Stateless; the caller holds the word it last saw.
 */
public final class MutexSteps {

  /** How a commit or a release ended. */
  public enum Outcome {
    /** Done; the lock is free. */
    RELEASED,
    /** Done; lockers wait at the home, which now holds the lock and must be told to pass it on. */
    HANDED_OFF,
    /** The lock was taken back from this holder (its node was thought gone): nothing changed. */
    FENCED
  }

  private MutexSteps() {}

  /** What {@link #tryLock} answers when the lock must be asked for at the home. */
  public static final long NOT_FREE = -1;

  /**
   * Takes the lock for {@code tag} if it is free and nobody waits at the home.
   *
   * @return the word now held (never {@link #NOT_FREE}: a held word's holder is a node's tag), or
   *     {@link #NOT_FREE}
   */
  public static long tryLock(SyncAccess sync, long cell, long object, long token, long deadlineNs) {
    return tryLock(sync, cell, object, token, NOT_FREE, deadlineNs);
  }

  /**
   * {@link #tryLock(SyncAccess, long, long, long, long)} starting from {@code guess}, the word the
   * caller last saw: if it is free, the exchange is tried at once (one operation instead of a load
   * and an exchange), and a wrong guess costs nothing more, since the exchange returns the word.
   */
  public static long tryLock(
      SyncAccess sync, long cell, long object, long token, long guess, long deadlineNs) {
    long word = lockable(guess) ? guess : sync.load(cell, object, SyncLayout.WORD, deadlineNs);
    return lockFrom(sync, cell, object, token, word, deadlineNs);
  }

  /**
   * What {@link #tryLockAndRead} did.
   *
   * @param word the word now held, or {@link #NOT_FREE}
   * @param value the committed value read with the lock, as {@link SyncAccess#exchangeThenRead}
   *     reports it (the frame in the caller's buffer, or the caller's version named), if the lock
   *     was taken by the exchange of the caller's guess; null if it was taken otherwise (then the
   *     value is read on its own) or not at all
   */
  public record Locked(long word, ActiveValue value) {}

  /**
   * {@link #tryLock(SyncAccess, long, long, long, long, long)} that, when {@code guess} is free and
   * nobody waits, exchanges it and reads the committed value in one operation ({@link
   * SyncAccess#exchangeThenRead}): a right guess costs one round trip for the lock and the value
   * (its frame copied into {@code out} unless its version is {@code knownColor}). A wrong guess
   * goes on from the witness as {@code tryLock} does, and an exchange whose outcome is unknown is
   * judged by the word, as there: either way the value is left unread. The caller judges whether
   * the word names the version it got.
   *
   * @param knownColor the version the caller has decoded, or {@link Long#MIN_VALUE} for none
   */
  public static Locked tryLockAndRead(
      SyncAccess sync,
      long cell,
      long object,
      long token,
      long guess,
      long knownColor,
      ReadBuffer out,
      long deadlineNs) {
    if (!lockable(guess)) {
      return new Locked(tryLock(sync, cell, object, token, guess, deadlineNs), null);
    }
    long held = LockWord.heldBy(guess, token);
    ActiveValue v;
    try {
      v =
          sync.exchangeThenRead(
              cell, object, LockWord.ACTIVE_BIT, guess, held, knownColor, out, deadlineNs);
    } catch (SyncFailedException e) {
      if (!ambiguous(e)) {
        throw e;
      }
      return new Locked(afterUnknownLock(sync, cell, object, token, deadlineNs), null);
    }
    if (v.word() == guess) {
      return new Locked(held, v);
    }
    return new Locked(lockFrom(sync, cell, object, token, v.word(), deadlineNs), null);
  }

  /** True if a lock may be taken from {@code word} one-sided: it is free and nobody waits. */
  private static boolean lockable(long word) {
    return word != NOT_FREE && LockWord.isFree(word) && !LockWord.hasWaiters(word);
  }

  /**
   * Exchanges {@code word}, the word as last seen, for one held by {@code token} while it is free.
   */
  private static long lockFrom(
      SyncAccess sync, long cell, long object, long token, long word, long deadlineNs) {
    while (lockable(word)) {
      long held = LockWord.heldBy(word, token);
      long witness;
      try {
        witness = sync.compareAndExchange(cell, object, SyncLayout.WORD, word, held, deadlineNs);
      } catch (SyncFailedException e) {
        if (!ambiguous(e)) {
          throw e;
        }
        return afterUnknownLock(sync, cell, object, token, deadlineNs);
      }
      if (witness == word) {
        return held;
      }
      word = witness;
    }
    return NOT_FREE;
  }

  /**
   * What a locking exchange whose outcome is unknown (its reply was lost) did: the word tells,
   * since {@code token} is this attempt's. The held word, or {@link #NOT_FREE}.
   */
  private static long afterUnknownLock(
      SyncAccess sync, long cell, long object, long token, long deadlineNs) {
    long now = sync.load(cell, object, SyncLayout.WORD, deadlineNs);
    return LockWord.holder(now) == token ? now : NOT_FREE;
  }

  /** True for a failure after which an operation may or may not have happened. */
  static boolean ambiguous(SyncFailedException e) {
    return e.status() == SyncStatus.UNAVAILABLE || e.status() == SyncStatus.TIMED_OUT;
  }

  /** The locator of the value slot {@code slot} (0 for A, 1 for B). */
  public static long slot(SyncAccess sync, long cell, long object, int slot, long deadlineNs) {
    return sync.load(
        cell, object, slot == 0 ? SyncLayout.LOCATOR_A : SyncLayout.LOCATOR_B, deadlineNs);
  }

  /**
   * Commits a new value: writes its frame (whose color is the new version) into the slot {@code
   * held} does not name, then flips the word, releasing the lock (or handing it to the home).
   *
   * @param held the word as the holder took it (or last saw it)
   * @throws dev.pekkodsm.memory.SyncFailedException with {@code TOO_LARGE} if the frame does not
   *     fit the slot: nothing changed, the lock is still held
   */
  public static Outcome commit(
      SyncAccess sync,
      long cell,
      long object,
      long held,
      byte[] frame,
      int length,
      int color,
      long deadlineNs) {
    int inactive = LockWord.activeSlot(held) == 0 ? SyncLayout.LOCATOR_B : SyncLayout.LOCATOR_A;
    long word = held;
    while (true) {
      long next = LockWord.committed(word, color);
      long witness;
      try {
        // The frame into the inactive slot, then the word flipped: one operation where the
        // transport chains them. A holder that lost its lock writes a slot no word names yet.
        witness =
            sync.writeThenExchange(cell, object, inactive, frame, length, word, next, deadlineNs);
      } catch (SyncFailedException e) {
        if (!ambiguous(e)) {
          throw e;
        }
        // It may have happened: the word tells; if it still names this holder, write and
        // exchange again (the holder may rewrite the slot it alone writes).
        witness = sync.load(cell, object, SyncLayout.WORD, deadlineNs);
        Outcome known = afterUnknownExchange(witness, held);
        if (known != null) {
          return known;
        }
        word = witness;
        continue;
      }
      if (witness == word) {
        return LockWord.holder(next) == LockWord.HANDED_OFF ? Outcome.HANDED_OFF : Outcome.RELEASED;
      }
      if (LockWord.withWaiters(witness, false) != LockWord.withWaiters(word, false)) {
        return Outcome.FENCED; // anything but the waiters flag changed: the lock is not ours
      }
      // Lockers began to wait at the home meanwhile, perhaps before the frame was written (it is
      // written only while the word is as expected): write and exchange again from this word.
      word = witness;
    }
  }

  /**
   * {@link #commit} that keeps the lock: the new value is committed (readers see it) and the lock
   * stays with its holder, who lets go of it with {@link #release}. For a holder with something to
   * do between the two (a writer of a replicated home, whose backup may have changed meanwhile).
   *
   * @return the word now held, or {@link #NOT_FREE} if the lock was taken back (nothing changed)
   * @throws SyncFailedException as {@link #commit} does
   */
  public static long commitHolding(
      SyncAccess sync,
      long cell,
      long object,
      long held,
      byte[] frame,
      int length,
      int color,
      long deadlineNs) {
    int inactive = LockWord.activeSlot(held) == 0 ? SyncLayout.LOCATOR_B : SyncLayout.LOCATOR_A;
    long word = held;
    while (true) {
      long next = LockWord.heldBy(LockWord.committed(word, color), LockWord.holder(word));
      long witness;
      try {
        witness =
            sync.writeThenExchange(cell, object, inactive, frame, length, word, next, deadlineNs);
      } catch (SyncFailedException e) {
        if (!ambiguous(e)) {
          throw e;
        }
        witness = sync.load(cell, object, SyncLayout.WORD, deadlineNs);
        if (LockWord.withWaiters(witness, false) == LockWord.withWaiters(next, false)) {
          return witness; // it happened
        }
        if (LockWord.withWaiters(witness, false) != LockWord.withWaiters(word, false)) {
          return NOT_FREE;
        }
        word = witness; // it did not happen: try again
        continue;
      }
      if (witness == word) {
        return next;
      }
      if (LockWord.withWaiters(witness, false) != LockWord.withWaiters(word, false)) {
        return NOT_FREE; // anything but the waiters flag changed: the lock is not ours
      }
      word = witness; // lockers began to wait at the home meanwhile
    }
  }

  /** Lets go of the lock without a new value: the committed value stands. */
  public static Outcome release(
      SyncAccess sync, long cell, long object, long held, long deadlineNs) {
    return exchange(sync, cell, object, held, 0, false, deadlineNs);
  }

  private static Outcome exchange(
      SyncAccess sync,
      long cell,
      long object,
      long held,
      int color,
      boolean commit,
      long deadlineNs) {
    long word = held;
    while (true) {
      long next = commit ? LockWord.committed(word, color) : LockWord.released(word);
      long witness;
      try {
        witness = sync.compareAndExchange(cell, object, SyncLayout.WORD, word, next, deadlineNs);
      } catch (SyncFailedException e) {
        if (!ambiguous(e)) {
          throw e;
        }
        witness = sync.load(cell, object, SyncLayout.WORD, deadlineNs);
        Outcome known = afterUnknownExchange(witness, held);
        if (known != null) {
          return known;
        }
        word = witness; // it did not happen: try again
        continue;
      }
      if (witness == word) {
        return LockWord.holder(next) == LockWord.HANDED_OFF ? Outcome.HANDED_OFF : Outcome.RELEASED;
      }
      if (LockWord.withWaiters(witness, false) != LockWord.withWaiters(word, false)) {
        return Outcome.FENCED; // anything but the waiters flag changed: the lock is not ours
      }
      word = witness; // lockers began to wait at the home meanwhile: hand the lock to it
    }
  }

  /**
   * What an exchange of the holder of {@code held} whose outcome is unknown (its reply was lost)
   * did, judged by the word as it is now: null while the word still names the holder (it did not
   * happen); {@link Outcome#FENCED} if the lock was taken back; otherwise it happened (nobody else
   * could change the word before), reported as {@link Outcome#HANDED_OFF} so that the home is told
   * in case lockers wait: an extra word to it changes nothing.
   */
  private static Outcome afterUnknownExchange(long now, long held) {
    if (LockWord.fence(now) != LockWord.fence(held)) {
      return Outcome.FENCED;
    }
    if (LockWord.holder(now) != LockWord.holder(held)) {
      return Outcome.HANDED_OFF;
    }
    return null;
  }

  /**
   * Reads the committed value: the word, then the frame of the slot it names, checked to be of the
   * version the word names. Retries while commits overtake the read.
   *
   * @return the word the frame in {@code out} belongs to, if {@code status[0]} is {@link
   *     ReadStatus#OK}; otherwise {@code status[0]} says why there is no frame
   */
  public static long readCommitted(
      SyncAccess sync,
      long cell,
      long object,
      ReadBuffer out,
      ReadStatus[] status,
      long deadlineNs) {
    while (true) {
      long word = sync.load(cell, object, SyncLayout.WORD, deadlineNs);
      long at = slot(sync, cell, object, LockWord.activeSlot(word), deadlineNs);
      ReadStatus s = sync.readValue(at, object, SnapshotCodec.ANY_COLOR, out, deadlineNs);
      if (s == ReadStatus.OK && LockWord.names(word, SnapshotCodec.color(out.bytes(), 0))) {
        status[0] = ReadStatus.OK;
        return word;
      }
      if (s != ReadStatus.OK && s != ReadStatus.STALE && s != ReadStatus.FREED) {
        status[0] = s;
        return word;
      }
      // A commit (or two) overtook this read, or the value moved to new slots: look again.
      if (System.nanoTime() - deadlineNs >= 0) {
        status[0] = ReadStatus.CONTENDED;
        return word;
      }
      Thread.onSpinWait();
    }
  }
}
