package dev.pekkodsm.benchmarks;

import dev.pekkodsm.memory.ArenaSettings;
import dev.pekkodsm.memory.PeerEndpoint;
import dev.pekkodsm.memory.PeerReader;
import dev.pekkodsm.memory.ReadBuffer;
import dev.pekkodsm.memory.ReadStatus;
import dev.pekkodsm.memory.ShmTransport;
import dev.pekkodsm.memory.SlotLayout;
import dev.pekkodsm.memory.SnapshotArena;
import dev.pekkodsm.memory.TcpReadServer;
import dev.pekkodsm.memory.TcpSettings;
import dev.pekkodsm.memory.TcpTransport;
import dev.pekkodsm.memory.TransportUnavailableException;
import dev.pekkodsm.serialization.ClassRegistry;
import dev.pekkodsm.serialization.SerializationSettings;
import dev.pekkodsm.serialization.internal.KryoPool;
import dev.pekkodsm.serialization.internal.Purpose;
import dev.pekkodsm.serialization.internal.SnapshotCodec;
import java.io.IOException;
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
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

/**
 * One uncached one-sided read per transport, against the floor each transport should come close to,
 * for payloads from 64 B to 256 KiB.
 *
 * <p>Why: a read over {@code shm} should cost little more than copying the bytes out of shared
 * memory, and a read over {@code tcp} little more than the plainest request/reply a program could
 * write over the same loopback socket. Every operation here ends the same way, with Kryo decoding
 * the {@link Payload} (a {@code byte[]}) out of the bytes it got, so the differences are the
 * transports' own costs:
 *
 * <ul>
 *   <li>{@link #shm}: {@link PeerReader#read} through {@link ShmTransport} (seqlock copy of the
 *       slot from the mapped segment, frame checks), then decoding;
 *   <li>{@link #shmCopyFloor}: only a copy of the frame's bytes from the same mapped segment into a
 *       byte array, then decoding (the target: {@code shm} within 2x of it);
 *   <li>{@link #tcp}: {@link PeerReader#read} through {@link TcpTransport} to a {@link
 *       TcpReadServer} on loopback (the server copies the slot and sends it; the client checks it),
 *       then decoding;
 *   <li>{@link #tcpEchoFloor}: a minimal blocking echo over loopback: the client writes a 24-byte
 *       request (the size of a tcp read request) and reads the reply fully; a plain server thread
 *       per connection answers each request with a 16-byte header (id, status, length) and the
 *       frame's bytes from a preallocated array, in one write; then decoding. Both sides set
 *       TCP_NODELAY; the reply carries exactly the bytes a tcp read reply carries (the target:
 *       {@code tcp} p50 within 1.5x of the echo's p50).
 * </ul>
 *
 * <p>Each of these runs in {@link Mode#SampleTime} (p50 and p99) and, as {@code *Throughput}, in
 * {@link Mode#Throughput}. {@link #tcpThroughput4Threads} and {@link
 * #tcpEchoFloorThroughput4Threads} run the tcp read and the echo from four threads at once: the tcp
 * transport shares its {@link TcpSettings#connectionsPerPeer()} connections (2) between the threads
 * and pipelines their requests, served by the read server's {@link TcpSettings#serverThreads()} (2)
 * threads, while the echo gives every thread its own connection and server thread.
 *
 * <p>{@link #payloadBytes} is the Kryo payload's size; every frame adds a {@value
 * SnapshotCodec#HEADER_BYTES}-byte header, and every tcp reply a further 16 bytes.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(
    value = 1,
    jvmArgs = {"-Xms2g", "-Xmx2g", "-XX:+UseParallelGC"})
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class TransportReadBenchmark {

  private static final long HOME_NODE = 0x5eed_0002L;
  private static final long OBJECT = 43;
  private static final int COLOR = 5;
  private static final int SEGMENT_BYTES = 8 << 20;
  private static final int MAX_FRAME_BYTES = 1 << 20;
  private static final long READ_BUDGET_NS = TimeUnit.SECONDS.toNanos(5);
  private static final String HINT = "register it in Payload.registry()";
  private static final int ECHO_REQUEST_BYTES = 24;

  /** The serialized size of the value (the Kryo payload, without the frame header). */
  @Param({"64", "1024", "16384", "262144"})
  public int payloadBytes;

  private Path directory;
  private SnapshotArena arena;
  private TcpReadServer tcpServer;
  private ShmTransport shmTransport;
  private TcpTransport tcpTransport;
  private PeerReader shmReader;
  private PeerReader tcpReader;
  private KryoPool readerKryo;
  private long locator;
  private byte[] frame;
  private MappedByteBuffer segment;
  private int frameOffset;
  private EchoServer echoServer;

  /**
   * Publishes one snapshot in a fresh arena under {@code /dev/shm}, starts its tcp read server and
   * an echo server holding the same frame, and opens an shm and a tcp reader on it with their own
   * Kryo pool, as a peer node would.
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
    frame = homeCodec.encode(value, HOME_NODE, OBJECT, COLOR, Purpose.SNAPSHOT);
    tcpServer = TcpReadServer.start(arena, TcpSettings.loopback());

    readerKryo = new KryoPool(registry, SerializationSettings.DEFAULTS, k -> {}, HINT);
    SnapshotCodec readerCodec = new SnapshotCodec(readerKryo);
    shmTransport = new ShmTransport(readerCodec, MAX_FRAME_BYTES);
    shmReader = shmTransport.open(PeerEndpoint.shmOnly(arena.endpoint(), "this-host"));
    tcpTransport = new TcpTransport(readerCodec, MAX_FRAME_BYTES, TcpSettings.loopback());
    tcpReader =
        tcpTransport.open(
            PeerEndpoint.shmOnly(arena.endpoint(), "other-host")
                .withTcp("127.0.0.1", tcpServer.address().getPort()));

    // The copy floor maps the same segment file itself, read-only like the shm transport.
    try (FileChannel channel =
        FileChannel.open(
            SnapshotArena.segmentPath(arena.folder(), SlotLayout.segment(locator)),
            StandardOpenOption.READ)) {
      segment = channel.map(FileChannel.MapMode.READ_ONLY, 0, SEGMENT_BYTES);
    }
    frameOffset = (int) SlotLayout.offset(locator) + SlotLayout.SLOT_HEADER_BYTES;
    echoServer = EchoServer.start(ECHO_REQUEST_BYTES, frame);
  }

  /** Closes the readers, the servers and the arena. */
  @TearDown(Level.Trial)
  public void stop() throws IOException {
    echoServer.close();
    tcpReader.close();
    shmReader.close();
    tcpTransport.close();
    shmTransport.close();
    tcpServer.close();
    arena.close();
    Files.deleteIfExists(directory);
  }

  /**
   * One benchmark thread's buffers and its own echo connection. Setup checks that every path
   * returns the published value.
   */
  @State(Scope.Thread)
  public static class Client {
    private ReadBuffer buffer;
    private byte[] copy;
    private EchoServer.Client echo;

    /** Allocates the thread's buffers, connects to the echo server and checks every path once. */
    @Setup(Level.Trial)
    public void open(TransportReadBenchmark bench) throws IOException {
      int frameBytes = bench.frame.length;
      buffer = new ReadBuffer(frameBytes);
      copy = new byte[frameBytes];
      echo = bench.echoServer.connect();

      byte[] expected = Payload.withSerializedSize(bench.readerKryo, bench.payloadBytes).bytes();
      check("shm", bench.shm(this), expected);
      check("shmCopyFloor", bench.shmCopyFloor(this), expected);
      check("tcp", bench.tcp(this), expected);
      check("tcpEchoFloor", bench.tcpEchoFloor(this), expected);
      if (!Arrays.equals(copy, bench.frame) || !Arrays.equals(buffer.toByteArray(), bench.frame)) {
        throw new IllegalStateException("a copied frame differs from the published one");
      }
    }

    /** Closes the echo connection, which ends its server thread. */
    @TearDown(Level.Trial)
    public void close() throws IOException {
      echo.close();
    }

    private static void check(String path, Object read, byte[] expected) {
      if (!(read instanceof Payload payload) || !Arrays.equals(payload.bytes(), expected)) {
        throw new IllegalStateException(path + " returned another value than the one published");
      }
    }
  }

  /** A read through the shm transport, then decoding. */
  @Benchmark
  public Object shm(Client client) {
    return readAndDecode(shmReader, client.buffer);
  }

  /** Floor of {@link #shm}: a plain copy of the frame out of the mapped segment, then decoding. */
  @Benchmark
  public Object shmCopyFloor(Client client) {
    byte[] copy = client.copy;
    segment.get(frameOffset, copy, 0, copy.length);
    return readerKryo.fromBytes(
        copy,
        SnapshotCodec.HEADER_BYTES,
        copy.length - SnapshotCodec.HEADER_BYTES,
        Purpose.SNAPSHOT);
  }

  /** A read through the tcp transport and its read server on loopback, then decoding. */
  @Benchmark
  public Object tcp(Client client) {
    return readAndDecode(tcpReader, client.buffer);
  }

  /** Floor of {@link #tcp}: one request and reply of the same sizes over a blocking echo. */
  @Benchmark
  public Object tcpEchoFloor(Client client) throws IOException {
    int length = client.echo.call();
    return readerKryo.fromBytes(
        client.echo.reply(),
        EchoServer.HEADER_BYTES + SnapshotCodec.HEADER_BYTES,
        length - SnapshotCodec.HEADER_BYTES,
        Purpose.SNAPSHOT);
  }

  /** {@link #shm} in operations per second. */
  @Benchmark
  @BenchmarkMode(Mode.Throughput)
  @OutputTimeUnit(TimeUnit.SECONDS)
  public Object shmThroughput(Client client) {
    return shm(client);
  }

  /** {@link #shmCopyFloor} in operations per second. */
  @Benchmark
  @BenchmarkMode(Mode.Throughput)
  @OutputTimeUnit(TimeUnit.SECONDS)
  public Object shmCopyFloorThroughput(Client client) {
    return shmCopyFloor(client);
  }

  /** {@link #tcp} in operations per second, one thread. */
  @Benchmark
  @BenchmarkMode(Mode.Throughput)
  @OutputTimeUnit(TimeUnit.SECONDS)
  public Object tcpThroughput(Client client) {
    return tcp(client);
  }

  /** {@link #tcpEchoFloor} in operations per second, one thread. */
  @Benchmark
  @BenchmarkMode(Mode.Throughput)
  @OutputTimeUnit(TimeUnit.SECONDS)
  public Object tcpEchoFloorThroughput(Client client) throws IOException {
    return tcpEchoFloor(client);
  }

  /** {@link #tcp} from four threads sharing the transport's connections, which pipeline reads. */
  @Benchmark
  @BenchmarkMode(Mode.Throughput)
  @OutputTimeUnit(TimeUnit.SECONDS)
  @Threads(4)
  public Object tcpThroughput4Threads(Client client) {
    return tcp(client);
  }

  /** {@link #tcpEchoFloor} from four threads, each with its own connection and server thread. */
  @Benchmark
  @BenchmarkMode(Mode.Throughput)
  @OutputTimeUnit(TimeUnit.SECONDS)
  @Threads(4)
  public Object tcpEchoFloorThroughput4Threads(Client client) throws IOException {
    return tcpEchoFloor(client);
  }

  private Object readAndDecode(PeerReader reader, ReadBuffer buffer) {
    ReadStatus status =
        reader.read(locator, OBJECT, COLOR, buffer, System.nanoTime() + READ_BUDGET_NS);
    if (status != ReadStatus.OK) {
      throw new IllegalStateException(
          reader.transport() + " read of the published snapshot returned " + status);
    }
    return readerKryo.fromBytes(
        buffer.bytes(),
        SnapshotCodec.HEADER_BYTES,
        buffer.length() - SnapshotCodec.HEADER_BYTES,
        Purpose.SNAPSHOT);
  }
}
