package dev.pekkodsm.metrics;

import dev.pekkodsm.memory.ActiveValue;
import dev.pekkodsm.memory.ArenaEndpoint;
import dev.pekkodsm.memory.PeerReader;
import dev.pekkodsm.memory.ReadBuffer;
import dev.pekkodsm.memory.ReadStatus;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

/**
 * Latencies of one node's one-sided reads, per transport, as HdrHistogram percentiles since the
 * node started. A read is timed from the call to the transport until the checked copy of the
 * snapshot is in the reader's buffer (decoding is not included); only successful reads of a whole
 * snapshot count (header-only version checks do not).
 *
 * <p>One read in {@value #SAMPLE_EVERY} is timed, chosen at random per thread: an untimed read
 * costs a random draw, so reads that take a tenth of a microsecond are not slowed by two clock
 * reads and a shared histogram. Percentiles of a uniform sample estimate those of every read.
 *
 * <p>Thread-safe.
 */
public final class ReadLatencies {

  /** One read in this many is timed. */
  public static final int SAMPLE_EVERY = 8;

  /** The transports reads are counted for. */
  public static final List<String> TRANSPORTS = List.of("shm", "tcp", "rdma");

  private static final long HIGHEST_NS = TimeUnit.SECONDS.toNanos(60);

  private final Map<String, Series> series =
      Map.of("shm", new Series(), "tcp", new Series(), "rdma", new Series());

  /** Percentiles of one transport's timed reads, in nanoseconds; zeros when none was timed. */
  public record Percentiles(long samples, long p50Ns, long p99Ns, long p999Ns, long maxNs) {}

  /** The reads of {@code reader}, timed into its transport's histogram. */
  public PeerReader timed(PeerReader reader) {
    Series s = series.get(reader.transport());
    return s == null ? reader : new TimedReader(reader, s.recorder);
  }

  /**
   * The percentiles of {@code transport}'s timed reads since the node started.
   *
   * @throws IllegalArgumentException if {@code transport} is not one of {@link #TRANSPORTS}
   */
  public Percentiles percentiles(String transport) {
    Series s = series.get(transport);
    if (s == null) {
      throw new IllegalArgumentException(
          "transport " + transport + " is not one of " + String.join(", ", TRANSPORTS));
    }
    return s.percentiles();
  }

  /** One transport's recorder and everything it recorded so far. */
  private static final class Series {
    final Recorder recorder = new Recorder(HIGHEST_NS, 2);
    private final Histogram total = new Histogram(HIGHEST_NS, 2);
    private Histogram interval;

    synchronized Percentiles percentiles() {
      interval = recorder.getIntervalHistogram(interval);
      total.add(interval);
      if (total.getTotalCount() == 0) {
        return new Percentiles(0, 0, 0, 0, 0);
      }
      return new Percentiles(
          total.getTotalCount(),
          total.getValueAtPercentile(50),
          total.getValueAtPercentile(99),
          total.getValueAtPercentile(99.9),
          total.getMaxValue());
    }
  }

  /** A reader whose successful reads are sampled into a recorder. */
  private static final class TimedReader implements PeerReader {
    private final PeerReader reader;
    private final Recorder recorder;

    TimedReader(PeerReader reader, Recorder recorder) {
      this.reader = reader;
      this.recorder = recorder;
    }

    @Override
    public ArenaEndpoint endpoint() {
      return reader.endpoint();
    }

    @Override
    public String transport() {
      return reader.transport();
    }

    @Override
    public ReadStatus read(long locator, long object, int color, ReadBuffer out, long deadlineNs) {
      if (!sampled()) {
        return reader.read(locator, object, color, out, deadlineNs);
      }
      long startNs = System.nanoTime();
      return recorded(startNs, reader.read(locator, object, color, out, deadlineNs));
    }

    private static boolean sampled() {
      return ThreadLocalRandom.current().nextInt(SAMPLE_EVERY) == 0;
    }

    /** Records a successful read that started at {@code startNs}; returns its status. */
    private ReadStatus recorded(long startNs, ReadStatus status) {
      if (status == ReadStatus.OK) {
        recorder.recordValue(Math.min(System.nanoTime() - startNs, HIGHEST_NS));
      }
      return status;
    }

    @Override
    public long peekColor(long locator, long object, long deadlineNs) {
      return reader.peekColor(locator, object, deadlineNs);
    }

    @Override
    public long load(long cell, long object, int field, long deadlineNs) {
      return reader.load(cell, object, field, deadlineNs);
    }

    @Override
    public long compareAndExchange(
        long cell, long object, int field, long expected, long update, long deadlineNs) {
      return reader.compareAndExchange(cell, object, field, expected, update, deadlineNs);
    }

    @Override
    public long getAndAdd(long cell, long object, int field, long delta, long deadlineNs) {
      return reader.getAndAdd(cell, object, field, delta, deadlineNs);
    }

    @Override
    public void writeValue(long locator, byte[] frame, int length, long deadlineNs) {
      reader.writeValue(locator, frame, length, deadlineNs);
    }

    /** A read of a mutex's value: a one-sided read like {@link #read}, timed alike. */
    @Override
    public ReadStatus readValue(
        long locator, long object, int color, ReadBuffer out, long deadlineNs) {
      if (!sampled()) {
        return reader.readValue(locator, object, color, out, deadlineNs);
      }
      long startNs = System.nanoTime();
      return recorded(startNs, reader.readValue(locator, object, color, out, deadlineNs));
    }

    @Override
    public long writeThenExchange(
        long cell,
        long object,
        int slotField,
        byte[] frame,
        int length,
        long expected,
        long update,
        long deadlineNs) {
      return reader.writeThenExchange(
          cell, object, slotField, frame, length, expected, update, deadlineNs);
    }

    /** A read of a mutex's committed value, timed like {@link #read} when it copied a frame. */
    @Override
    public ActiveValue readActive(
        long cell, long object, int selectorBit, long knownColor, ReadBuffer out, long deadlineNs) {
      if (!sampled()) {
        return reader.readActive(cell, object, selectorBit, knownColor, out, deadlineNs);
      }
      long startNs = System.nanoTime();
      ActiveValue v = reader.readActive(cell, object, selectorBit, knownColor, out, deadlineNs);
      if (!v.known()) {
        recorded(startNs, v.status());
      }
      return v;
    }

    /** A lock taken with a read of the value, timed like {@link #readActive}. */
    @Override
    public ActiveValue exchangeThenRead(
        long cell,
        long object,
        int selectorBit,
        long expected,
        long update,
        long knownColor,
        ReadBuffer out,
        long deadlineNs) {
      if (!sampled()) {
        return reader.exchangeThenRead(
            cell, object, selectorBit, expected, update, knownColor, out, deadlineNs);
      }
      long startNs = System.nanoTime();
      ActiveValue v =
          reader.exchangeThenRead(
              cell, object, selectorBit, expected, update, knownColor, out, deadlineNs);
      if (!v.known()) {
        recorded(startNs, v.status());
      }
      return v;
    }

    @Override
    public long peekValueColor(long locator, long object, long deadlineNs) {
      return reader.peekValueColor(locator, object, deadlineNs);
    }

    @Override
    public void close() {
      reader.close();
    }
  }
}
