package dev.pekkodsm.internal;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.SerializerProvider;
import com.fasterxml.jackson.databind.deser.std.StdDeserializer;
import com.fasterxml.jackson.databind.module.SimpleModule;
import com.fasterxml.jackson.databind.ser.std.StdSerializer;
import java.io.IOException;
import org.apache.pekko.actor.typed.javadsl.Adapter;
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
    Class box = HandleKind.BOX.type();
    addSerializer(box, new BoxSerializer());
    addDeserializer(box, new BoxDeserializer());
    for (HandleKind kind : HandleKind.values()) {
      if (kind.weighted()) {
        Class type = kind.type();
        addSerializer(type, new WeightedSerializer(type));
        addDeserializer(type, new WeightedDeserializer(kind));
      }
    }
    Class vec = HandleKind.VEC.type();
    addSerializer(vec, new VecSerializer());
    addDeserializer(vec, new VecDeserializer());
  }

  private static HandleCodec handles() {
    return NodeRuntime.get(Adapter.toTyped(Serialization.getCurrentTransportInformation().system()))
        .node()
        .handles();
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

  private static final class BoxSerializer extends StdSerializer<Object> {
    private static final long serialVersionUID = 1L;

    BoxSerializer() {
      super(Object.class);
    }

    @Override
    public void serialize(Object box, JsonGenerator g, SerializerProvider provider)
        throws IOException {
      HandleCodec.BoxWire w = handles().exportBox(box);
      write(g, BOX_FIELDS, w.home(), w.object(), w.color(), w.locator(), w.frameBytes(), w.from());
    }
  }

  private static final class BoxDeserializer extends StdDeserializer<Object> {
    private static final long serialVersionUID = 1L;

    BoxDeserializer() {
      super(HandleKind.BOX.type());
    }

    @Override
    public Object deserialize(JsonParser p, DeserializationContext ctx) throws IOException {
      long[] f = read(p, BOX_FIELDS);
      return handles()
          .importBox(new HandleCodec.BoxWire(f[0], f[1], (int) f[2], f[3], (int) f[4], f[5]));
    }
  }

  /** The kinds a vector's slots may be, by the name its JSON gives them. */
  private static HandleKind slotKind(String name) {
    for (HandleKind k : HandleKind.values()) {
      if (k != HandleKind.VEC && k.simpleName().equals(name)) {
        return k;
      }
    }
    return null;
  }

  private static String slotType(Object slot) {
    for (HandleKind k : HandleKind.values()) {
      if (k != HandleKind.VEC && k.type().isInstance(slot)) {
        return k.simpleName();
      }
    }
    throw new IllegalArgumentException("not a vector slot: " + slot);
  }

  /** A vector: its shape and its slots, each written as its own handle. */
  private static final class VecSerializer extends StdSerializer<Object> {
    private static final long serialVersionUID = 1L;

    VecSerializer() {
      super(Object.class);
    }

    @Override
    public void serialize(Object vec, JsonGenerator g, SerializerProvider provider)
        throws IOException {
      HandleCodec.VecWire w = handles().exportVec(vec);
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

  private static final class VecDeserializer extends StdDeserializer<Object> {
    private static final long serialVersionUID = 1L;

    VecDeserializer() {
      super(HandleKind.VEC.type());
    }

    @Override
    public Object deserialize(JsonParser p, DeserializationContext ctx) throws IOException {
      JsonNode tree = p.readValueAsTree();
      JsonNode slots = tree == null ? null : tree.get("slots");
      HandleKind slotKind = tree == null ? null : slotKind(tree.path("slotType").asText());
      Class<?> type = slotKind == null ? null : slotKind.type();
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
        return handles()
            .importVec(
                new HandleCodec.VecWire((int) shape[0], (int) shape[1], (int) shape[2], read));
      } catch (IllegalArgumentException | IOException e) {
        handles().discard(read); // what was read of it is given back
        throw new com.fasterxml.jackson.core.JsonParseException(p, e.getMessage());
      }
    }
  }

  /** A handle that holds weight, written as its reference wire form. */
  private static final class WeightedSerializer extends StdSerializer<Object> {
    private static final long serialVersionUID = 1L;

    @SuppressWarnings({"rawtypes", "unchecked"})
    WeightedSerializer(Class type) {
      super(type);
    }

    @Override
    public void serialize(Object handle, JsonGenerator g, SerializerProvider provider)
        throws IOException {
      HandleCodec.RefWire w = handles().exportWeighted(handle);
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
  private static final class WeightedDeserializer extends StdDeserializer<Object> {
    private static final long serialVersionUID = 1L;
    private final HandleKind kind;

    WeightedDeserializer(HandleKind kind) {
      super(kind.type());
      this.kind = kind;
    }

    @Override
    public Object deserialize(JsonParser p, DeserializationContext ctx) throws IOException {
      long[] f = read(p, REF_FIELDS);
      return handles()
          .importWeighted(
              kind, new HandleCodec.RefWire(f[0], f[1], (int) f[2], f[3], (int) f[4], f[5], f[6]));
    }
  }
}
