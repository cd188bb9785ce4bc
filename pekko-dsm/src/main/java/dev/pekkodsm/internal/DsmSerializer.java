package dev.pekkodsm.internal;

import dev.pekkodsm.coherence.home.HolderNotice;
import dev.pekkodsm.coherence.home.HomeReply;
import dev.pekkodsm.coherence.home.HomeRequest;
import dev.pekkodsm.serialization.internal.Purpose;
import java.io.NotSerializableException;
import org.apache.pekko.actor.ExtendedActorSystem;
import org.apache.pekko.actor.typed.ActorRefResolver;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.serialization.SerializerWithStringManifest;

/**
 * The DSM's Pekko serializer: the hand-written formats of {@link WireFormats} for the protocol
 * messages, and the DSM's Kryo for everything else bound to it, such as bare handles and user
 * messages that carry handles.
 *
 * <p>Bind your own message classes to it with {@code pekko.actor.serialization-bindings {
 * "com.example.MyMessage" = pekko-dsm }} and register them in {@code
 * pekko.dsm.serialization.classes}.
 */
public final class DsmSerializer extends SerializerWithStringManifest {

  /** The serializer id, fixed forever: changing it breaks rolling upgrades. */
  public static final int IDENTIFIER = 4780;

  private static final String CARRIED = "CR";
  private static final String KRYO = "K";

  private final ExtendedActorSystem system;
  private final WireFormats formats = new WireFormats();
  private volatile DsmNode node;
  private volatile ActorRefResolver resolver;

  public DsmSerializer(ExtendedActorSystem system) {
    this.system = system;
  }

  @Override
  public int identifier() {
    return IDENTIFIER;
  }

  private DsmNode node() {
    DsmNode n = node;
    if (n == null) {
      n = NodeRuntime.get(Adapter.toTyped(system)).node();
      node = n;
    }
    return n;
  }

  private ActorRefResolver resolver() {
    ActorRefResolver r = resolver;
    if (r == null) {
      r = ActorRefResolver.get(Adapter.toTyped(system));
      resolver = r;
    }
    return r;
  }

  /** The message that decides the wire format: an owner command travels as its request. */
  private static Object framed(Object o) {
    if (o instanceof Protocol.OwnerCommand c) {
      return c.request();
    }
    if (o instanceof Protocol.ToHolder n) {
      return n.notice();
    }
    return o;
  }

  @Override
  public String manifest(Object o) {
    if (o instanceof Protocol.Carried) {
      return CARRIED;
    }
    WireFormats.Format<?> f = formats.of(framed(o).getClass());
    if (f != null) {
      return f.manifest();
    }
    if (o instanceof Protocol.DsmMessage || o instanceof HomeReply) {
      throw new IllegalArgumentException("no wire format for " + o.getClass().getName());
    }
    return KRYO;
  }

  @Override
  public byte[] toBinary(Object o) {
    if (o instanceof Protocol.Carried c) {
      // A user value in transit, not DSM traffic: not counted as a message.
      return new WireFormats.Writer(resolver()).l(c.id()).bytes(kryoBytes(c.payload())).toBytes();
    }
    Object framed = framed(o);
    WireFormats.Format<?> f = formats.of(framed.getClass());
    if (f == null) {
      if (o instanceof Protocol.DsmMessage || o instanceof HomeReply) {
        throw new IllegalArgumentException("no wire format for " + o.getClass().getName());
      }
      return kryoBytes(o);
    }
    WireFormats.Writer w = new WireFormats.Writer(resolver());
    f.write(w, framed);
    if (o instanceof Protocol.OwnerCommand c) {
      w.optionalRef(c.replyTo());
    }
    node().metrics().messageSent();
    return w.toBytes();
  }

  @Override
  public Object fromBinary(byte[] bytes, String manifest) throws NotSerializableException {
    if (KRYO.equals(manifest)) {
      return kryoValue(bytes);
    }
    WireFormats.Reader r = new WireFormats.Reader(resolver(), bytes);
    Object message;
    if (CARRIED.equals(manifest)) {
      long id = r.l();
      message = new Protocol.Carried(id, kryoValue(r.bytes()));
    } else {
      WireFormats.Format<?> f = formats.of(manifest);
      if (f == null) {
        throw new NotSerializableException("unknown pekko-dsm manifest [" + manifest + "]");
      }
      Object body = f.reader().apply(r);
      if (body instanceof HomeRequest request) {
        message = new Protocol.OwnerCommand(request, r.optionalRef());
      } else if (body instanceof HolderNotice notice) {
        message = new Protocol.ToHolder(notice);
      } else {
        message = body;
      }
    }
    r.end(manifest);
    return message;
  }

  /** Kryo bytes of a value; handles exported on the way are restored if it fails. */
  private byte[] kryoBytes(Object o) {
    HandleCodec.Scope scope = node().handles().openScope();
    try {
      byte[] bytes = node().kryo().toBytes(o, Purpose.MESSAGE);
      scope.commit();
      return bytes;
    } catch (RuntimeException e) {
      scope.rollback();
      throw e;
    }
  }

  /** Kryo value from bytes; handles read before a failure are given back. */
  private Object kryoValue(byte[] bytes) {
    HandleCodec.Scope scope = node().handles().openScope();
    try {
      Object value = node().kryo().fromBytes(bytes, 0, bytes.length, Purpose.MESSAGE);
      scope.commit();
      return value;
    } catch (RuntimeException e) {
      scope.rollback();
      throw e;
    }
  }
}
