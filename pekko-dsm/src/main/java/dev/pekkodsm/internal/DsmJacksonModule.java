package dev.pekkodsm.internal;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.SerializerProvider;
import com.fasterxml.jackson.databind.deser.std.StdDeserializer;
import com.fasterxml.jackson.databind.module.SimpleModule;
import com.fasterxml.jackson.databind.ser.std.StdSerializer;
import dev.pekkodsm.DArc;
import dev.pekkodsm.DAtomicLong;
import dev.pekkodsm.DBox;
import dev.pekkodsm.DMutex;
import dev.pekkodsm.DRef;
import dev.pekkodsm.DVec;
import dev.pekkodsm.Dsm;
import java.io.IOException;
import java.util.function.BiFunction;
import org.apache.pekko.serialization.Serialization;

/**
 * Lets {@code DBox} and {@code DRef} fields travel in messages serialized by Pekko's Jackson
 * serializer, with the same semantics as with the DSM's own serializer: a box sent is owned by the
 * receiver, a reference sent is held by the receiver. Registered in {@code reference.conf} through
 * {@code pekko.serialization.jackson.jackson-modules}.
 *
 * <p>The handle's node is found through Pekko's current transport information, which Pekko sets
 * while it serializes a message.
 */
public final class DsmJacksonModule extends SimpleModule {
  private static final long serialVersionUID = 1L;

  @SuppressWarnings({"rawtypes", "unchecked"})
  public DsmJacksonModule() {
    super("pekko-dsm");
    addSerializer(DBox.class, new BoxSerializer());
    addDeserializer(DBox.class, (StdDeserializer) new BoxDeserializer());
    addSerializer(DRef.class, new WeightedSerializer<DRef>(DRef.class, HandleCodec::exportRef));
    addDeserializer(
        DRef.class,
        (StdDeserializer) new WeightedDeserializer<>(DRef.class, HandleCodec::importRef));
    addSerializer(DArc.class, new WeightedSerializer<DArc>(DArc.class, HandleCodec::exportArc));
    addSerializer(
        DMutex.class, new WeightedSerializer<DMutex>(DMutex.class, HandleCodec::exportMutex));
    addDeserializer(
        DMutex.class,
        (StdDeserializer) new WeightedDeserializer<>(DMutex.class, HandleCodec::importMutex));
    addSerializer(
        DAtomicLong.class,
        new WeightedSerializer<DAtomicLong>(DAtomicLong.class, HandleCodec::exportAtomic));
    addDeserializer(
        DAtomicLong.class,
        new WeightedDeserializer<DAtomicLong>(DAtomicLong.class, HandleCodec::importAtomic));
    addDeserializer(
        DArc.class,
        (StdDeserializer) new WeightedDeserializer<>(DArc.class, HandleCodec::importArc));
    addSerializer(DVec.class, new VecSerializer());
    addDeserializer(DVec.class, (StdDeserializer) new VecDeserializer());
  }

  private static DsmNode node() {
    return Dsm.get(Serialization.getCurrentTransportInformation().system()).internalNode();
  }

  private static final String[] BOX_FIELDS = {
    "home", "object", "color", "locator", "frameBytes", "from"
  };
  private static final String[] REF_FIELDS = {
    "home", "object", "color", "locator", "frameBytes", "weight", "from"
  };

  /** Writes a handle's wire form as a JSON object of numbers. */
  private static void write(JsonGenerator g, String[] names, long... values) throws IOException {
    g.writeStartObject();
    for (int i = 0; i < names.length; i++) {
      g.writeNumberField(names[i], values[i]);
    }
    g.writeEndObject();
  }

  /** Reads a handle's wire form; every field must be there and numeric. */
  private static long[] read(JsonParser p, String[] names) throws IOException {
    JsonNode tree = p.readValueAsTree();
    long[] values = new long[names.length];
    for (int i = 0; i < names.length; i++) {
      JsonNode v = tree == null ? null : tree.get(names[i]);
      if (v == null || !v.canConvertToLong()) {
        throw new com.fasterxml.jackson.core.JsonParseException(
            p, "pekko-dsm handle without a numeric \"" + names[i] + "\"");
      }
      values[i] = v.asLong();
    }
    return values;
  }

  @SuppressWarnings("rawtypes")
  private static final class BoxSerializer extends StdSerializer<DBox> {
    private static final long serialVersionUID = 1L;

    BoxSerializer() {
      super(DBox.class);
    }

    @Override
    public void serialize(DBox box, JsonGenerator g, SerializerProvider provider)
        throws IOException {
      HandleCodec.BoxWire w = node().handles().exportBox(box);
      write(g, BOX_FIELDS, w.home(), w.object(), w.color(), w.locator(), w.frameBytes(), w.from());
    }
  }

  private static final class BoxDeserializer extends StdDeserializer<DBox<?>> {
    private static final long serialVersionUID = 1L;

    BoxDeserializer() {
      super(DBox.class);
    }

    @Override
    public DBox<?> deserialize(JsonParser p, DeserializationContext ctx) throws IOException {
      long[] f = read(p, BOX_FIELDS);
      return node()
          .handles()
          .importBox(new HandleCodec.BoxWire(f[0], f[1], (int) f[2], f[3], (int) f[4], f[5]));
    }
  }

  /** The slot types a vector's JSON names, for reading them back. */
  private static final java.util.Map<String, Class<?>> SLOT_TYPES =
      java.util.Map.of(
          "DBox", DBox.class,
          "DRef", DRef.class,
          "DMutex", DMutex.class,
          "DArc", DArc.class,
          "DAtomicLong", DAtomicLong.class);

  private static String slotType(Object slot) {
    for (var e : SLOT_TYPES.entrySet()) {
      if (e.getValue().isInstance(slot)) {
        return e.getKey();
      }
    }
    throw new IllegalArgumentException("not a vector slot: " + slot);
  }

  /** A vector: its shape and its slots, each written as its own handle. */
  @SuppressWarnings("rawtypes")
  private static final class VecSerializer extends StdSerializer<DVec> {
    private static final long serialVersionUID = 1L;

    VecSerializer() {
      super(DVec.class);
    }

    @Override
    public void serialize(DVec vec, JsonGenerator g, SerializerProvider provider)
        throws IOException {
      HandleCodec.VecWire w = node().handles().exportVec(vec);
      g.writeStartObject();
      g.writeNumberField("kind", w.kind());
      g.writeNumberField("size", w.size());
      g.writeNumberField("chunkSize", w.chunkSize());
      g.writeStringField("slotType", w.slots().length == 0 ? "DBox" : slotType(w.slots()[0]));
      g.writeArrayFieldStart("slots");
      for (Object slot : w.slots()) {
        provider.defaultSerializeValue(slot, g);
      }
      g.writeEndArray();
      g.writeEndObject();
    }
  }

  private static final class VecDeserializer extends StdDeserializer<DVec<?>> {
    private static final long serialVersionUID = 1L;

    VecDeserializer() {
      super(DVec.class);
    }

    @Override
    public DVec<?> deserialize(JsonParser p, DeserializationContext ctx) throws IOException {
      JsonNode tree = p.readValueAsTree();
      JsonNode slots = tree == null ? null : tree.get("slots");
      Class<?> type = tree == null ? null : SLOT_TYPES.get(tree.path("slotType").asText());
      if (slots == null || !slots.isArray() || type == null) {
        throw new com.fasterxml.jackson.core.JsonParseException(
            p, "pekko-dsm vector without slots or a known slotType");
      }
      long[] shape = new long[3];
      String[] names = {"kind", "size", "chunkSize"};
      for (int i = 0; i < names.length; i++) {
        JsonNode v = tree.get(names[i]);
        if (v == null || !v.canConvertToInt()) {
          throw new com.fasterxml.jackson.core.JsonParseException(
              p, "pekko-dsm vector without a numeric \"" + names[i] + "\"");
        }
        shape[i] = v.asInt();
      }
      Object[] read = new Object[slots.size()];
      try {
        for (int i = 0; i < read.length; i++) {
          read[i] = ctx.readTreeAsValue(slots.get(i), type);
        }
        return node()
            .handles()
            .importVec(
                new HandleCodec.VecWire((int) shape[0], (int) shape[1], (int) shape[2], read));
      } catch (IllegalArgumentException | IOException e) {
        node().handles().discard(read); // what was read of it is given back
        throw new com.fasterxml.jackson.core.JsonParseException(p, e.getMessage());
      }
    }
  }

  /** A handle that holds weight, written as its reference wire form. */
  private static final class WeightedSerializer<H> extends StdSerializer<H> {
    private static final long serialVersionUID = 1L;
    private final transient BiFunction<HandleCodec, H, HandleCodec.RefWire> export;

    WeightedSerializer(Class<H> type, BiFunction<HandleCodec, H, HandleCodec.RefWire> export) {
      super(type);
      this.export = export;
    }

    @Override
    public void serialize(H handle, JsonGenerator g, SerializerProvider provider)
        throws IOException {
      HandleCodec.RefWire w = export.apply(node().handles(), handle);
      write(
          g,
          REF_FIELDS,
          w.home(),
          w.object(),
          w.color(),
          w.locator(),
          w.frameBytes(),
          w.weight(),
          w.from());
    }
  }

  /** A handle that holds weight, read from its reference wire form. */
  private static final class WeightedDeserializer<H> extends StdDeserializer<H> {
    private static final long serialVersionUID = 1L;
    private final transient BiFunction<HandleCodec, HandleCodec.RefWire, H> importer;

    WeightedDeserializer(Class<?> type, BiFunction<HandleCodec, HandleCodec.RefWire, H> importer) {
      super(type);
      this.importer = importer;
    }

    @Override
    public H deserialize(JsonParser p, DeserializationContext ctx) throws IOException {
      long[] f = read(p, REF_FIELDS);
      return importer.apply(
          node().handles(),
          new HandleCodec.RefWire(f[0], f[1], (int) f[2], f[3], (int) f[4], f[5], f[6]));
    }
  }
}
