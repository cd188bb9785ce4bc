package dev.pekkodsm.serialization.internal;

import com.esotericsoftware.kryo.Kryo;
import com.esotericsoftware.kryo.KryoException;
import com.esotericsoftware.kryo.io.Input;
import com.esotericsoftware.kryo.serializers.DefaultArraySerializers;
import com.esotericsoftware.kryo.serializers.DefaultSerializers;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Serializers for containers that check a decoded element count against the bytes left in the input
 * before allocating anything. Every element takes at least one byte on the wire, so a count larger
 * than the remaining bytes is hostile or corrupt, and is rejected instead of becoming a
 * multi-gigabyte allocation.
 */
public final class BoundedSerializers {

  private BoundedSerializers() {}

  /** Throws if {@code count} elements cannot possibly fit in the rest of {@code input}. */
  public static void checkCount(Input input, int count) {
    int remaining = input.limit() - input.position();
    if (count < 0 || count > remaining) {
      throw new KryoException(
          "element count " + count + " exceeds the " + remaining + " bytes left in the input");
    }
  }

  /** Reads a varint length at the current position without consuming it. */
  static int peekVarInt(Input input) {
    int position = input.position();
    int value = input.readVarInt(true);
    input.setPosition(position);
    return value;
  }

  /**
   * Checks the length prefix of an array at the current position without consuming it. Kryo writes
   * the length + 1, and 0 for a null array (which reaches the serializer when references are off).
   */
  static void checkArrayLength(Input input) {
    int lengthPlusOne = peekVarInt(input);
    if (lengthPlusOne != Kryo.NULL) {
      checkCount(input, lengthPlusOne - 1);
    }
  }

  /**
   * The most elements a collection whose elements are all null may announce. Kryo writes such a
   * collection as its length and one byte, so the bytes left cannot bound its length; this does.
   */
  public static final int MAX_ALL_NULL_ELEMENTS = 1 << 20;

  /**
   * {@code ArrayList}, {@code HashSet} and other collections with a no-arg constructor. A count
   * larger than the bytes left is accepted only where Kryo writes nothing per element (all of them
   * null: the next byte is the null class), up to {@link #MAX_ALL_NULL_ELEMENTS}, and then nothing
   * is allocated up front.
   */
  @SuppressWarnings({"rawtypes", "unchecked"})
  public static class CollectionSerializer
      extends com.esotericsoftware.kryo.serializers.CollectionSerializer<Collection> {
    @Override
    protected Collection create(
        Kryo kryo, Input input, Class<? extends Collection> type, int size) {
      int remaining = input.limit() - input.position();
      if (size > remaining && remaining > 0 && input.getBuffer()[input.position()] == Kryo.NULL) {
        if (size > MAX_ALL_NULL_ELEMENTS) {
          throw new KryoException(
              "a collection of "
                  + size
                  + " null elements exceeds the limit of "
                  + MAX_ALL_NULL_ELEMENTS);
        }
        return super.create(kryo, input, type, 0); // grows as the nulls are added
      }
      checkCount(input, size);
      return super.create(kryo, input, type, size);
    }
  }

  /** {@code HashMap} and other maps with a no-arg constructor. */
  @SuppressWarnings({"rawtypes", "unchecked"})
  public static class MapSerializer
      extends com.esotericsoftware.kryo.serializers.MapSerializer<Map> {
    @Override
    protected Map create(Kryo kryo, Input input, Class<? extends Map> type, int size) {
      checkCount(input, size);
      return super.create(kryo, input, type, size);
    }
  }

  /** {@code TreeMap} (its comparator travels with it and must be registered). */
  @SuppressWarnings({"rawtypes"})
  public static final class SortedMapSerializer extends DefaultSerializers.TreeMapSerializer {
    @Override
    protected TreeMap create(Kryo kryo, Input input, Class<? extends TreeMap> type, int size) {
      checkCount(input, size);
      return super.create(kryo, input, type, size);
    }
  }

  /** {@code TreeSet} (its comparator travels with it and must be registered). */
  @SuppressWarnings({"rawtypes"})
  public static final class SortedSetSerializer extends DefaultSerializers.TreeSetSerializer {
    @Override
    protected TreeSet create(Kryo kryo, Input input, Class<? extends TreeSet> type, int size) {
      checkCount(input, size);
      return super.create(kryo, input, type, size);
    }
  }

  /** {@code Arrays.asList(...)}. */
  @SuppressWarnings({"rawtypes"})
  public static final class ArraysAsListSerializer
      extends DefaultSerializers.ArraysAsListSerializer {
    @Override
    protected List create(Kryo kryo, Input input, Class type, int size) {
      checkCount(input, size);
      return super.create(kryo, input, type, size);
    }
  }

  /** {@code Object[]} and other reference arrays (the default for user-registered ones too). */
  public static final class ObjectArraySerializer
      extends DefaultArraySerializers.ObjectArraySerializer {
    public ObjectArraySerializer(Kryo kryo) {
      super(kryo, Object[].class);
    }

    @SuppressWarnings("rawtypes")
    public ObjectArraySerializer(Kryo kryo, Class type) {
      super(kryo, type);
    }

    @Override
    @SuppressWarnings("rawtypes")
    public Object[] read(Kryo kryo, Input input, Class type) {
      checkArrayLength(input);
      return super.read(kryo, input, type);
    }
  }

  /**
   * {@code boolean[]}: Kryo's serializer allocates the announced length before reading a byte; each
   * element takes one byte.
   */
  public static final class BooleanArraySerializer
      extends DefaultArraySerializers.BooleanArraySerializer {
    @Override
    @SuppressWarnings("rawtypes")
    public boolean[] read(Kryo kryo, Input input, Class type) {
      checkArrayLength(input);
      return super.read(kryo, input, type);
    }
  }

  /** {@code String[]}. */
  public static final class StringArraySerializer
      extends DefaultArraySerializers.StringArraySerializer {
    @Override
    @SuppressWarnings("rawtypes")
    public String[] read(Kryo kryo, Input input, Class type) {
      checkArrayLength(input);
      return super.read(kryo, input, type);
    }
  }

  /** The JDK's {@code List.of} family; read back as an unmodifiable list. */
  @SuppressWarnings({"rawtypes", "unchecked"})
  public static final class ImmutableListSerializer extends CollectionSerializer {
    @Override
    protected Collection create(
        Kryo kryo, Input input, Class<? extends Collection> type, int size) {
      checkCount(input, size);
      return new ArrayList<>(size);
    }

    @Override
    public Collection read(Kryo kryo, Input input, Class<? extends Collection> type) {
      List list = (List) super.read(kryo, input, type);
      if (list == null) {
        return null;
      }
      // Stream.toList() yields the same class but allows nulls; List.copyOf does not.
      return list.contains(null) ? Collections.unmodifiableList(list) : List.copyOf(list);
    }
  }

  /** The JDK's {@code Set.of} family; read back as an unmodifiable set. */
  @SuppressWarnings({"rawtypes", "unchecked"})
  public static final class ImmutableSetSerializer extends CollectionSerializer {
    @Override
    protected Collection create(
        Kryo kryo, Input input, Class<? extends Collection> type, int size) {
      checkCount(input, size);
      return new ArrayList<>(size);
    }

    @Override
    public Collection read(Kryo kryo, Input input, Class<? extends Collection> type) {
      Collection elements = super.read(kryo, input, type);
      return elements == null ? null : Set.copyOf(elements);
    }
  }

  /** The JDK's {@code Map.of} family; read back as an unmodifiable map. */
  @SuppressWarnings({"rawtypes", "unchecked"})
  public static final class ImmutableMapSerializer extends MapSerializer {
    @Override
    protected Map create(Kryo kryo, Input input, Class<? extends Map> type, int size) {
      checkCount(input, size);
      return new HashMap<>(Math.max(16, (int) (size / 0.75f) + 1));
    }

    @Override
    public Map read(Kryo kryo, Input input, Class<? extends Map> type) {
      Map entries = super.read(kryo, input, type);
      return entries == null ? null : Map.copyOf(entries);
    }
  }
}
