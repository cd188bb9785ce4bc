package dev.pekkodsm.benchmarks;

import dev.pekkodsm.memory.ArenaSettings;
import dev.pekkodsm.memory.PeerEndpoint;
import dev.pekkodsm.memory.PeerReader;
import dev.pekkodsm.memory.ReadBuffer;
import dev.pekkodsm.memory.ReadStatus;
import dev.pekkodsm.memory.ShmTransport;
import dev.pekkodsm.memory.SlotLayout;
import dev.pekkodsm.memory.SnapshotArena;
import dev.pekkodsm.memory.TransportUnavailableException;
import dev.pekkodsm.serialization.ClassRegistry;
import dev.pekkodsm.serialization.DecodeStatus;
import dev.pekkodsm.serialization.SerializationSettings;
import dev.pekkodsm.serialization.internal.KryoPool;
import dev.pekkodsm.serialization.internal.Purpose;
import dev.pekkodsm.serialization.internal.SnapshotCodec;
import java.io.IOException;
import java.nio.ByteOrder;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The cost of an uncached shared read over shm: what the first {@code DRef.get()} of an object
 * homed on another node of the same host pays, without the read cache in front.
 *
 * <p>Why: DESIGN.md section 8 targets "uncached shared read over shm of a 1 KiB object: under 5 µs
 * including deserialization". The benchmark is built directly on the memory and serialization
 * modules, so it measures the read path and nothing else (no actor, no cache, no peer lookup): a
 * home arena in a fresh folder under {@code /dev/shm} holding one published snapshot of a {@link
 * Payload}, and a reader with its own Kryo pool and {@link ShmTransport} that mapped the arena
 * through its endpoint, as a peer node does.
 *
 * <ul>
 *   <li>{@link #uncachedRead()}: the whole path, as in {@code DsmNode.pin} on a cache miss: the
 *       seqlock copy of the slot ({@link PeerReader#read}), the checks (magic, length, CRC32C,
 *       address and color), then Kryo decoding into a new object;
 *   <li>{@link #rawCopy()}: only the memory copy of the same number of bytes (the frame) from the
 *       mapped segment into a byte array;
 *   <li>{@link #verifyOnly()}: only the frame checks, on a byte array (dominated by CRC32C);
 *   <li>{@link #decodeOnly()}: only the Kryo decoding of the payload from a byte array.
 * </ul>
 *
 * <p>{@code uncachedRead} is roughly the sum of the three parts plus the seqlock reads, so the
 * parts say where the time goes. {@link #payloadBytes} is the Kryo payload's size; a frame adds a
 * {@value SnapshotCodec#HEADER_BYTES}-byte header.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(
    value = 1,
    jvmArgs = {"-Xms2g", "-Xmx2g", "-XX:+UseParallelGC"})
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
public class ShmReadBenchmark {

  private static final long HOME_NODE = 0x5eed_0001L;
  private static final long OBJECT = 42;
  private static final int COLOR = 7;
  private static final int SEGMENT_BYTES = 8 << 20;
  private static final int MAX_FRAME_BYTES = 1 << 20;
  private static final long READ_BUDGET_NS = TimeUnit.SECONDS.toNanos(5);
  private static final String HINT = "register it in Payload.registry()";

  /** The serialized size of the value (the Kryo payload, without the frame header). */
  @Param({"64", "1024", "65536"})
  public int payloadBytes;

  private Path directory;
  private SnapshotArena arena;
  private ShmTransport transport;
  private PeerReader reader;
  private KryoPool readerKryo;
  private SnapshotCodec readerCodec;
  private ReadBuffer buffer;
  private long locator;
  private MappedByteBuffer segment;
  private int frameOffset;
  private int frameBytes;
  private byte[] copy;
  private byte[] frame;

  /**
   * Publishes one snapshot in a fresh arena and opens a reader on it, with a separate Kryo pool, as
   * a peer node would; checks that a read returns the published value.
   */
  @Setup(Level.Trial)
  public void start() throws IOException, TransportUnavailableException {
    Path shm = Path.of("/dev/shm");
    directory =
        Files.createTempDirectory(
            Files.isDirectory(shm) ? shm : Path.of(System.getProperty("java.io.tmpdir")),
            "pekko-dsm-bench-");
    ClassRegistry registry = Payload.registry();

    KryoPool homeKryo = new KryoPool(registry, SerializationSettings.DEFAULTS, k -> {}, HINT);
    SnapshotCodec homeCodec = new SnapshotCodec(homeKryo);
    ArenaSettings settings = new ArenaSettings(directory, SEGMENT_BYTES, 1, MAX_FRAME_BYTES, false);
    arena = SnapshotArena.create(settings, HOME_NODE, homeCodec);
    Payload value = Payload.withSerializedSize(homeKryo, payloadBytes);
    locator = homeCodec.encode(value, HOME_NODE, OBJECT, COLOR, Purpose.SNAPSHOT, arena::publish);

    readerKryo = new KryoPool(registry, SerializationSettings.DEFAULTS, k -> {}, HINT);
    readerCodec = new SnapshotCodec(readerKryo);
    transport = new ShmTransport(readerCodec, MAX_FRAME_BYTES);
    reader = transport.open(PeerEndpoint.shmOnly(arena.endpoint(), "this-host"));
    buffer = new ReadBuffer(4096);

    Payload read = (Payload) uncachedRead();
    if (!Arrays.equals(read.bytes(), value.bytes())) {
      throw new IllegalStateException("the value read back differs from the one published");
    }
    frame = buffer.toByteArray();
    frameBytes = frame.length;
    if (frameBytes != SnapshotCodec.HEADER_BYTES + payloadBytes) {
      throw new IllegalStateException(
          "frame of "
              + frameBytes
              + " bytes, expected "
              + (SnapshotCodec.HEADER_BYTES + payloadBytes));
    }

    // The raw-copy baseline maps the same segment file itself, read-only like the transport.
    try (FileChannel channel =
        FileChannel.open(
            SnapshotArena.segmentPath(arena.folder(), SlotLayout.segment(locator)),
            StandardOpenOption.READ)) {
      segment = channel.map(FileChannel.MapMode.READ_ONLY, 0, SEGMENT_BYTES);
      segment.order(ByteOrder.LITTLE_ENDIAN);
    }
    frameOffset = (int) SlotLayout.offset(locator) + SlotLayout.SLOT_HEADER_BYTES;
    copy = new byte[frameBytes];
    if (!Arrays.equals(rawCopy(), frame)) {
      throw new IllegalStateException("the raw copy differs from the frame the reader read");
    }
  }

  /** Closes the reader and deletes the arena. */
  @TearDown(Level.Trial)
  public void stop() throws IOException {
    reader.close();
    transport.close();
    arena.close();
    Files.deleteIfExists(directory);
  }

  /** Seqlock copy, checks and decoding: an uncached {@code DRef.get()} minus the cache. */
  @Benchmark
  public Object uncachedRead() {
    ReadStatus status =
        reader.read(locator, OBJECT, COLOR, buffer, System.nanoTime() + READ_BUDGET_NS);
    if (status != ReadStatus.OK) {
      throw new IllegalStateException("read of the published snapshot returned " + status);
    }
    return readerKryo.fromBytes(
        buffer.bytes(),
        SnapshotCodec.HEADER_BYTES,
        buffer.length() - SnapshotCodec.HEADER_BYTES,
        Purpose.SNAPSHOT);
  }

  /** Baseline: the plain copy of the frame's bytes out of the mapped segment. */
  @Benchmark
  public byte[] rawCopy() {
    segment.get(frameOffset, copy, 0, frameBytes);
    return copy;
  }

  /** Part: the frame checks (magic, length, CRC32C, address, color) on a copied frame. */
  @Benchmark
  public DecodeStatus verifyOnly() {
    return readerCodec.verify(frame, 0, frameBytes, HOME_NODE, OBJECT, COLOR);
  }

  /** Part: Kryo decoding of the payload from a byte array. */
  @Benchmark
  public Object decodeOnly() {
    return readerKryo.fromBytes(frame, SnapshotCodec.HEADER_BYTES, payloadBytes, Purpose.SNAPSHOT);
  }
}
