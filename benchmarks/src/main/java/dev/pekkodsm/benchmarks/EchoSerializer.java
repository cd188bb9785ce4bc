package dev.pekkodsm.benchmarks;

import java.io.NotSerializableException;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import org.apache.pekko.actor.ExtendedActorSystem;
import org.apache.pekko.actor.typed.ActorRefResolver;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.serialization.SerializerWithStringManifest;

/**
 * Serializes {@link EchoEntity}'s messages: a length-prefixed string for an actor reference or a
 * node address, a length-prefixed byte array for the payload. Every length is checked before use.
 * Instantiated by Pekko through {@code pekko.actor.serializers}; thread-safe.
 */
final class EchoSerializer extends SerializerWithStringManifest {

  /** The serializer id; unique in the benchmarks' actor systems (the DSM's is 4780). */
  static final int IDENTIFIER = 4790;

  private static final String PING = "P";
  private static final String PONG = "G";
  private static final int MAX_STRING_BYTES = 4096;
  private static final int MAX_PAYLOAD_BYTES = 1 << 20;

  private final ActorRefResolver resolver;

  EchoSerializer(ExtendedActorSystem system) {
    this.resolver = ActorRefResolver.get(Adapter.toTyped(system));
  }

  @Override
  public int identifier() {
    return IDENTIFIER;
  }

  @Override
  public String manifest(Object o) {
    if (o instanceof EchoEntity.Ping) {
      return PING;
    }
    if (o instanceof EchoEntity.Pong) {
      return PONG;
    }
    throw new IllegalArgumentException("no echo wire format for " + o.getClass().getName());
  }

  @Override
  public byte[] toBinary(Object o) {
    if (o instanceof EchoEntity.Ping p) {
      byte[] ref = utf8(resolver.toSerializationFormat(p.replyTo()));
      return ByteBuffer.allocate(4 + ref.length).putInt(ref.length).put(ref).array();
    }
    if (o instanceof EchoEntity.Pong p) {
      byte[] node = utf8(p.node());
      return ByteBuffer.allocate(8 + node.length + p.payload().length)
          .putInt(node.length)
          .put(node)
          .putInt(p.payload().length)
          .put(p.payload())
          .array();
    }
    throw new IllegalArgumentException("no echo wire format for " + o.getClass().getName());
  }

  @Override
  public Object fromBinary(byte[] bytes, String manifest) throws NotSerializableException {
    ByteBuffer in = ByteBuffer.wrap(bytes);
    try {
      Object message =
          switch (manifest) {
            case PING -> new EchoEntity.Ping(resolver.resolveActorRef(string(in)));
            case PONG -> new EchoEntity.Pong(string(in), array(in, MAX_PAYLOAD_BYTES));
            default ->
                throw new NotSerializableException("unknown echo manifest [" + manifest + "]");
          };
      if (in.hasRemaining()) {
        throw new IllegalArgumentException(
            "malformed echo message " + manifest + ": " + in.remaining() + " trailing bytes");
      }
      return message;
    } catch (BufferUnderflowException e) {
      throw new IllegalArgumentException("malformed echo message " + manifest + ": truncated", e);
    }
  }

  private static String string(ByteBuffer in) {
    return new String(array(in, MAX_STRING_BYTES), StandardCharsets.UTF_8);
  }

  private static byte[] array(ByteBuffer in, int max) {
    int length = in.getInt();
    if (length < 0 || length > max || length > in.remaining()) {
      throw new IllegalArgumentException(
          "malformed echo message: length "
              + length
              + " outside [0, min("
              + max
              + ", "
              + in.remaining()
              + ")]");
    }
    byte[] out = new byte[length];
    in.get(out);
    return out;
  }

  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }
}
