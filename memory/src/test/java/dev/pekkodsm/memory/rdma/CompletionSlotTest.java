package dev.pekkodsm.memory.rdma;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pekkodsm.memory.ReadStatus;
import java.io.IOException;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The wait for a work request's completion, driven by a stand-in poller: the deadline of a
 * completion that never arrives, a completion that arrives late into an abandoned buffer, and
 * failed completions, all without a NIC.
 */
@Timeout(10)
class CompletionSlotTest {

  /** A poller that delivers what a test tells it to on each poll. */
  static final class FakePoller implements CompletionSlot.Poller {
    Consumer<Integer> onPoll = spins -> {};
    String failure;
    int polls;

    @Override
    public void progress(int spins) {
      polls++;
      onPoll.accept(spins);
    }

    @Override
    public String failure() {
      return failure;
    }

    @Override
    public void markBroken(String reason) {
      if (failure == null) {
        failure = reason;
      }
    }
  }

  static final class Slot extends CompletionSlot {
    int recycled;

    Slot(Poller poller) {
      super(0, poller);
    }

    @Override
    void recycle() {
      recycled++;
    }
  }

  final FakePoller poller = new FakePoller();
  final Slot slot = new Slot(poller);

  static long in(long millis) {
    return System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
  }

  @Test
  void shouldTimeOutAtTheDeadlineWhenTheCompletionNeverArrives() {
    slot.acquired();
    long start = System.nanoTime();
    ReadStatus status = slot.post(() -> {}, in(20));
    long waitedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
    assertEquals(ReadStatus.TIMED_OUT, status);
    assertTrue(waitedMs >= 19, "waited " + waitedMs + " ms");
    assertTrue(poller.polls > 0, "it polled while waiting");
    assertEquals(CompletionSlot.ABANDONED, slot.state());
  }

  @Test
  void shouldKeepAnAbandonedBufferOutOfThePoolUntilItsWorkRequestsComplete() {
    slot.acquired();
    slot.post(() -> {}, in(1));
    slot.release();
    assertEquals(0, slot.recycled, "the NIC may still write into it");
    assertEquals(CompletionSlot.ORPHANED, slot.state());
    slot.completed(true);
    assertEquals(1, slot.recycled);
    assertEquals(CompletionSlot.FREE, slot.state());
  }

  @Test
  void shouldRecycleAtReleaseWhenTheLateCompletionLandedBefore() {
    slot.acquired();
    slot.post(() -> {}, in(1));
    slot.completed(true);
    assertEquals(CompletionSlot.LANDED, slot.state());
    slot.release();
    assertEquals(1, slot.recycled);
  }

  @Test
  void shouldReturnOkWhenTheCompletionArrivesWhileWaiting() {
    poller.onPoll = spins -> slot.completed(true);
    slot.acquired();
    assertEquals(ReadStatus.OK, slot.post(() -> {}, in(5_000)));
    slot.release();
    assertEquals(1, slot.recycled);
  }

  @Test
  void shouldReportAFailedCompletionAsUnavailable() {
    poller.onPoll = spins -> slot.completed(false);
    slot.acquired();
    assertEquals(ReadStatus.UNAVAILABLE, slot.post(() -> {}, in(5_000)));
  }

  @Test
  void shouldStopWaitingWhenTheConnectionIsLost() {
    poller.onPoll = spins -> poller.markBroken("the peer disconnected");
    slot.acquired();
    assertEquals(ReadStatus.UNAVAILABLE, slot.post(() -> {}, in(5_000)));
    assertEquals(CompletionSlot.ABANDONED, slot.state());
  }

  @Test
  void shouldNotPostOnABrokenConnectionAndBreakItWhenPostingFails() {
    slot.acquired();
    assertEquals(
        ReadStatus.UNAVAILABLE,
        slot.post(
            () -> {
              throw new IOException("ibv_post_send failed");
            },
            in(5_000)));
    assertTrue(poller.failure.contains("ibv_post_send failed"), poller.failure);
    assertEquals(CompletionSlot.IDLE, slot.state(), "nothing was posted");
    int[] posts = {0};
    assertEquals(ReadStatus.UNAVAILABLE, slot.post(() -> posts[0]++, in(5_000)));
    assertEquals(0, posts[0]);
  }

  @Test
  void shouldRefuseAReleaseWhileWorkRequestsArePostedAndAwaited() {
    assertThrows(IllegalStateException.class, slot::release, "a free buffer is not owned");
  }
}
