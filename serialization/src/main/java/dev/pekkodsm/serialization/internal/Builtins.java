package dev.pekkodsm.serialization.internal;

import com.esotericsoftware.kryo.Kryo;
import com.esotericsoftware.kryo.Serializer;
import com.esotericsoftware.kryo.serializers.DefaultArraySerializers;
import com.esotericsoftware.kryo.serializers.DefaultSerializers;
import com.esotericsoftware.kryo.serializers.TimeSerializers;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.LocalTime;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.Collections;
import java.util.Date;
import java.util.HashMap;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.LinkedList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;

/**
 * The JDK value types every node registers with fixed ids, each with a serializer that bounds the
 * lengths it reads. Kryo's own defaults cover ids 0-9 (primitives, their boxes and {@code String});
 * this table uses 10-89. Ids 90-99 are for the DSM's handle types.
 *
 * <p>Changing an id or a serializer's format changes {@link #VERSION}, which is part of every
 * registry fingerprint, so mixed versions refuse each other instead of misreading.
 */
public final class Builtins {

  /**
   * Bumped whenever the table or a built-in wire format changes. 3: {@code int[]} and {@code
   * long[]} at fixed width (see {@link BulkOutput}) instead of one varint per element.
   */
  public static final int VERSION = 3;

  /** First id reserved for the DSM's own handle types. */
  public static final int FIRST_HANDLE_ID = 90;

  /** Last id reserved for the DSM's own handle types. */
  public static final int LAST_HANDLE_ID = 99;

  private record Entry(int id, Class<?> type, Function<Kryo, Serializer<?>> serializer) {}

  private static final List<Entry> ENTRIES =
      List.of(
          new Entry(10, byte[].class, k -> new DefaultArraySerializers.ByteArraySerializer()),
          new Entry(11, char[].class, k -> new DefaultArraySerializers.CharArraySerializer()),
          new Entry(12, short[].class, k -> new DefaultArraySerializers.ShortArraySerializer()),
          new Entry(13, int[].class, k -> new DefaultArraySerializers.IntArraySerializer()),
          new Entry(14, long[].class, k -> new DefaultArraySerializers.LongArraySerializer()),
          new Entry(15, float[].class, k -> new DefaultArraySerializers.FloatArraySerializer()),
          new Entry(16, double[].class, k -> new DefaultArraySerializers.DoubleArraySerializer()),
          new Entry(17, boolean[].class, k -> new BoundedSerializers.BooleanArraySerializer()),
          new Entry(18, String[].class, k -> new BoundedSerializers.StringArraySerializer()),
          new Entry(19, Object[].class, k -> new BoundedSerializers.ObjectArraySerializer(k)),
          new Entry(20, ArrayList.class, k -> new BoundedSerializers.CollectionSerializer()),
          new Entry(21, LinkedList.class, k -> new BoundedSerializers.CollectionSerializer()),
          new Entry(22, HashMap.class, k -> new BoundedSerializers.MapSerializer()),
          new Entry(23, LinkedHashMap.class, k -> new BoundedSerializers.MapSerializer()),
          new Entry(24, TreeMap.class, k -> new BoundedSerializers.SortedMapSerializer()),
          new Entry(25, HashSet.class, k -> new BoundedSerializers.CollectionSerializer()),
          new Entry(26, LinkedHashSet.class, k -> new BoundedSerializers.CollectionSerializer()),
          new Entry(27, TreeSet.class, k -> new BoundedSerializers.SortedSetSerializer()),
          new Entry(28, ArrayDeque.class, k -> new BoundedSerializers.CollectionSerializer()),
          new Entry(29, ConcurrentHashMap.class, k -> new BoundedSerializers.MapSerializer()),
          new Entry(30, IdentityHashMap.class, k -> new BoundedSerializers.MapSerializer()),
          new Entry(31, BigInteger.class, k -> new DefaultSerializers.BigIntegerSerializer()),
          new Entry(32, BigDecimal.class, k -> new DefaultSerializers.BigDecimalSerializer()),
          new Entry(33, UUID.class, k -> new DefaultSerializers.UUIDSerializer()),
          new Entry(34, Date.class, k -> new DefaultSerializers.DateSerializer()),
          new Entry(35, Instant.class, k -> new TimeSerializers.InstantSerializer()),
          new Entry(36, Duration.class, k -> new TimeSerializers.DurationSerializer()),
          new Entry(37, LocalDate.class, k -> new TimeSerializers.LocalDateSerializer()),
          new Entry(38, LocalDateTime.class, k -> new TimeSerializers.LocalDateTimeSerializer()),
          new Entry(39, LocalTime.class, k -> new TimeSerializers.LocalTimeSerializer()),
          new Entry(40, BitSet.class, k -> new DefaultSerializers.BitSetSerializer()),
          new Entry(41, StringBuilder.class, k -> new DefaultSerializers.StringBuilderSerializer()),
          new Entry(
              42,
              Collections.emptyList().getClass(),
              k -> new DefaultSerializers.CollectionsEmptyListSerializer()),
          new Entry(
              43,
              Collections.emptyMap().getClass(),
              k -> new DefaultSerializers.CollectionsEmptyMapSerializer()),
          new Entry(
              44,
              Collections.emptySet().getClass(),
              k -> new DefaultSerializers.CollectionsEmptySetSerializer()),
          new Entry(
              45,
              Collections.singletonList(null).getClass(),
              k -> new DefaultSerializers.CollectionsSingletonListSerializer()),
          new Entry(
              46,
              Collections.singletonMap(null, null).getClass(),
              k -> new DefaultSerializers.CollectionsSingletonMapSerializer()),
          new Entry(
              47,
              Collections.singleton(null).getClass(),
              k -> new DefaultSerializers.CollectionsSingletonSetSerializer()),
          new Entry(
              48, Arrays.asList().getClass(), k -> new BoundedSerializers.ArraysAsListSerializer()),
          new Entry(
              49, List.of(1).getClass(), k -> new BoundedSerializers.ImmutableListSerializer()),
          new Entry(
              50,
              List.of(1, 2, 3).getClass(),
              k -> new BoundedSerializers.ImmutableListSerializer()),
          new Entry(
              51,
              List.of(1, 2, 3).subList(0, 1).getClass(),
              k -> new BoundedSerializers.ImmutableListSerializer()),
          new Entry(52, Set.of(1).getClass(), k -> new BoundedSerializers.ImmutableSetSerializer()),
          new Entry(
              53, Set.of(1, 2, 3).getClass(), k -> new BoundedSerializers.ImmutableSetSerializer()),
          new Entry(
              54, Map.of(1, 2).getClass(), k -> new BoundedSerializers.ImmutableMapSerializer()),
          new Entry(
              55,
              Map.of(1, 2, 3, 4).getClass(),
              k -> new BoundedSerializers.ImmutableMapSerializer()),
          // Every lambda class is written under this one registration (Kryo's closure marker).
          new Entry(
              56,
              com.esotericsoftware.kryo.serializers.ClosureSerializer.Closure.class,
              k -> new LambdaSerializer()));

  private static final Map<Class<?>, Integer> IDS = new HashMap<>();

  static {
    for (Entry e : ENTRIES) {
      if (IDS.put(e.type(), e.id()) != null) {
        throw new ExceptionInInitializerError("duplicate builtin " + e.type());
      }
    }
  }

  private Builtins() {}

  /** The builtin id of {@code type}, or -1 if it is not a builtin. */
  public static int idOf(Class<?> type) {
    Integer id = IDS.get(type);
    return id == null ? -1 : id;
  }

  /** Registers every builtin with {@code kryo}, each with a fresh serializer. */
  static void registerAll(Kryo kryo) {
    for (Entry e : ENTRIES) {
      kryo.register(e.type(), e.serializer().apply(kryo), e.id());
    }
  }
}
