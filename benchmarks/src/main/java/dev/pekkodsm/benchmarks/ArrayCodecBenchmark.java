package dev.pekkodsm.benchmarks;

import dev.pekkodsm.serialization.ClassRegistry;
import dev.pekkodsm.serialization.SerializationSettings;
import dev.pekkodsm.serialization.internal.KryoContext;
import dev.pekkodsm.serialization.internal.KryoPool;
import dev.pekkodsm.serialization.internal.Purpose;
import java.util.Arrays;
import java.util.SplittableRandom;
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
 * The DSM's Kryo encoding and decoding of one 1 MiB primitive array, as a snapshot, a moved value
 * or a message carries it: what a DataFrame partial of that size costs on each side besides its
 * bytes.
 *
 * <p>One pooled Kryo context is held for the trial, so neither side pays the pool. {@link #encode}
 * writes the array (class, reference marker, length, elements) into the context's output; {@link
 * #decode} reads it back into a new array from bytes encoded once at setup. {@link #values} is
 * {@code small} (uniform in [-64, 64), one byte as a zigzag varint) or {@code full} (uniform over
 * the type, five or ten bytes as a varint), since a varint encoder's cost depends on the values.
 * Setup prints the encoded size ({@code ENCODED BYTES}).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(
    value = 1,
    jvmArgs = {"-Xms1g", "-Xmx1g", "-XX:+UseParallelGC"})
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
public class ArrayCodecBenchmark {

  private static final int ARRAY_BYTES = 1 << 20;

  /** The element type: {@code int}, {@code long} or {@code double} (the fixed-width reference). */
  @Param({"int", "long", "double"})
  public String type;

  /** The range of the elements: {@code small} or {@code full}. */
  @Param({"small", "full"})
  public String values;

  private KryoPool pool;
  private KryoContext context;
  private Object array;
  private byte[] encoded;

  /** Builds the array and encodes it once, checking that it decodes to an equal array. */
  @Setup(Level.Trial)
  public void start() {
    pool = new KryoPool(ClassRegistry.empty(), SerializationSettings.DEFAULTS, k -> {}, "builtin");
    context = pool.acquire();
    SplittableRandom random = new SplittableRandom(42);
    boolean small =
        switch (values) {
          case "small" -> true;
          case "full" -> false;
          default -> throw new IllegalArgumentException("values=" + values + ": small or full");
        };
    array =
        switch (type) {
          case "int" ->
              small
                  ? random.ints(ARRAY_BYTES / 4, -64, 64).toArray()
                  : random.ints(ARRAY_BYTES / 4).toArray();
          case "long" ->
              small
                  ? random.longs(ARRAY_BYTES / 8, -64, 64).toArray()
                  : random.longs(ARRAY_BYTES / 8).toArray();
          case "double" ->
              small
                  ? random.ints(ARRAY_BYTES / 8, -64, 64).asDoubleStream().toArray()
                  : random.doubles(ARRAY_BYTES / 8).toArray();
          default -> throw new IllegalArgumentException("type=" + type + ": int, long or double");
        };
    encoded = pool.toBytes(array, Purpose.SNAPSHOT);
    if (!Arrays.deepEquals(new Object[] {array}, new Object[] {decode()})) {
      throw new IllegalStateException("the decoded " + type + "[] differs from the encoded one");
    }
    System.out.println("ENCODED BYTES " + type + "[] " + values + ": " + encoded.length);
  }

  /** Gives the context back. */
  @TearDown(Level.Trial)
  public void stop() {
    pool.release(context);
  }

  /** Writes the array into the context's output; returns the end of the payload. */
  @Benchmark
  public int encode() {
    pool.write(context, array, Purpose.SNAPSHOT, 0);
    return pool.position(context);
  }

  /** Reads the array back from its bytes into a new array. */
  @Benchmark
  public Object decode() {
    return pool.read(context, encoded, 0, encoded.length, Purpose.SNAPSHOT);
  }
}
