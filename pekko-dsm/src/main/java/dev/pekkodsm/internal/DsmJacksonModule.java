package dev.pekkodsm.internal;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.SerializerProvider;
import com.fasterxml.jackson.databind.deser.std.StdDeserializer;
import com.fasterxml.jackson.databind.module.SimpleModule;
import com.fasterxml.jackson.databind.ser.std.StdSerializer;
import dev.pekkodsm.DBox;
import dev.pekkodsm.DRef;
import dev.pekkodsm.Dsm;
import java.io.IOException;
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
    addSerializer(DRef.class, new RefSerializer());
    addDeserializer(DRef.class, (StdDeserializer) new RefDeserializer());
  }

  private static DsmNode node() {
    return Dsm.get(Serialization.getCurrentTransportInformation().system()).internalNode();
  }

  private static long required(JsonNode tree, String field, JsonParser p) throws IOException {
    JsonNode v = tree.get(field);
    if (v == null || !v.canConvertToLong()) {
      throw new com.fasterxml.jackson.core.JsonParseException(
          p, "pekko-dsm handle without a numeric \"" + field + "\"");
    }
    return v.asLong();
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
      g.writeStartObject();
      g.writeNumberField("home", w.home());
      g.writeNumberField("object", w.object());
      g.writeNumberField("color", w.color());
      g.writeNumberField("locator", w.locator());
      g.writeNumberField("frameBytes", w.frameBytes());
      g.writeNumberField("from", w.from());
      g.writeEndObject();
    }
  }

  private static final class BoxDeserializer extends StdDeserializer<DBox<?>> {
    private static final long serialVersionUID = 1L;

    BoxDeserializer() {
      super(DBox.class);
    }

    @Override
    public DBox<?> deserialize(JsonParser p, DeserializationContext ctx) throws IOException {
      JsonNode t = p.readValueAsTree();
      return node()
          .handles()
          .importBox(
              new HandleCodec.BoxWire(
                  required(t, "home", p),
                  required(t, "object", p),
                  (int) required(t, "color", p),
                  required(t, "locator", p),
                  (int) required(t, "frameBytes", p),
                  required(t, "from", p)));
    }
  }

  @SuppressWarnings("rawtypes")
  private static final class RefSerializer extends StdSerializer<DRef> {
    private static final long serialVersionUID = 1L;

    RefSerializer() {
      super(DRef.class);
    }

    @Override
    public void serialize(DRef ref, JsonGenerator g, SerializerProvider provider)
        throws IOException {
      HandleCodec.RefWire w = node().handles().exportRef(ref);
      g.writeStartObject();
      g.writeNumberField("home", w.home());
      g.writeNumberField("object", w.object());
      g.writeNumberField("color", w.color());
      g.writeNumberField("locator", w.locator());
      g.writeNumberField("frameBytes", w.frameBytes());
      g.writeNumberField("weight", w.weight());
      g.writeNumberField("from", w.from());
      g.writeEndObject();
    }
  }

  private static final class RefDeserializer extends StdDeserializer<DRef<?>> {
    private static final long serialVersionUID = 1L;

    RefDeserializer() {
      super(DRef.class);
    }

    @Override
    public DRef<?> deserialize(JsonParser p, DeserializationContext ctx) throws IOException {
      JsonNode t = p.readValueAsTree();
      return node()
          .handles()
          .importRef(
              new HandleCodec.RefWire(
                  required(t, "home", p),
                  required(t, "object", p),
                  (int) required(t, "color", p),
                  required(t, "locator", p),
                  (int) required(t, "frameBytes", p),
                  required(t, "weight", p),
                  required(t, "from", p)));
    }
  }
}
