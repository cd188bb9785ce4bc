package dev.pekkodsm.samples.kv;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Messages per operation are counted over the measured window only: not over the load, not over the
 * warm-up, not after the window ends.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class KvBenchWindowTest {

  private static final int MESSAGES_PER_OP = 2;

  /**
   * A store that sends exactly {@value #MESSAGES_PER_OP} messages per operation, the load's and the
   * warm-up's included: a window that began earlier or ended later than the operations' would count
   * more per operation.
   */
  private static final class CountingKv extends InMemoryKv {
    private final LongAdder messages = new LongAdder();

    @Override
    public long messagesSent() {
      return messages.sum();
    }

    @Override
    byte[] get(long key) {
      return op(super.get(key));
    }

    @Override
    void set(long key, byte[] value) {
      super.set(key, value);
      op(null);
    }

    @Override
    boolean delete(long key) {
      boolean present = super.delete(key);
      op(null);
      return present;
    }

    private byte[] op(byte[] result) {
      messages.add(MESSAGES_PER_OP);
      LockSupport.parkNanos(20_000); // an op takes a while, so the window's edges matter
      return result;
    }
  }

  @Test
  void shouldCountMessagesAndOperationsOverTheSameWindow() throws Exception {
    KvSpec spec = new KvSpec(2_000, 32, 16);
    int threadsPerNode = 2;
    // A warm-up as long as the window: counting from before it would double the messages.
    Workload workload =
        new Workload(0.9, 0.99, threadsPerNode, Duration.ofMillis(800), Duration.ofMillis(800), 3);
    KvBench bench = new KvBench(spec, workload, System.out, false);
    KvResult r = bench.run("counting", true, new CountingKv());
    assertEquals(0, r.errors(), r.firstError());
    assertTrue(r.ops() > 1_000, "too few operations to tell: " + r);
    // Operations in flight at the window's edges are the only difference: one per client thread
    // at each edge, each worth MESSAGES_PER_OP.
    double slack = 2.0 * 2 * threadsPerNode * MESSAGES_PER_OP / r.ops();
    assertEquals(
        MESSAGES_PER_OP,
        r.messagesPerOp(),
        slack,
        "messages and operations counted over different intervals: " + r);
  }
}
