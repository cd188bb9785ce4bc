package dev.pekkodsm.internal;

import com.esotericsoftware.kryo.Kryo;
import com.esotericsoftware.kryo.Serializer;
import com.esotericsoftware.kryo.io.Input;
import com.esotericsoftware.kryo.io.Output;
import dev.pekkodsm.coherence.GlobalAddress;
import dev.pekkodsm.coherence.NodeId;
import dev.pekkodsm.serialization.internal.DsmKryo;
import dev.pekkodsm.serialization.internal.Purpose;
import org.apache.pekko.actor.ExtendedActorSystem;
import org.apache.pekko.actor.typed.ActorRefResolver;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.serialization.Serialization;

/**
 * Kryo serializers for the handle types (ids 90, 91, 94 to 96, 99), so handles can travel inside
 * messages serialized with the DSM's Kryo and inside values that move with a mutable borrow; for
 * Pekko actor refs (92 typed, 93 classic), so user messages with a {@code replyTo} can use it; and
 * for the DSM's value types {@code NodeId} (97) and {@code GlobalAddress} (98).
 */
final class HandleKryoSerializers {

  static final int BOX_ID = 90;
  static final int REF_ID = 91;
  static final int TYPED_ACTOR_REF_ID = 92;
  static final int CLASSIC_ACTOR_REF_ID = 93;
  static final int ARC_ID = 94;
  static final int ATOMIC_ID = 95;
  static final int MUTEX_ID = 96;
  static final int NODE_ID_ID = 97;
  static final int ADDRESS_ID = 98;
  static final int VEC_ID = 99;

  private HandleKryoSerializers() {}

  static void register(Kryo kryo, HandleCodec handles, ActorSystem<?> system) {
    kryo.register(HandleKind.BOX.type(), new BoxSerializer(handles), BOX_ID);
    kryo.register(HandleKind.REF.type(), new WeightedSerializer(HandleKind.REF, handles), REF_ID);
    kryo.register(HandleKind.ARC.type(), new WeightedSerializer(HandleKind.ARC, handles), ARC_ID);
    kryo.register(
        HandleKind.ATOMIC.type(), new WeightedSerializer(HandleKind.ATOMIC, handles), ATOMIC_ID);
    kryo.register(
        HandleKind.MUTEX.type(), new WeightedSerializer(HandleKind.MUTEX, handles), MUTEX_ID);
    kryo.register(HandleKind.VEC.type(), new VecSerializer(handles), VEC_ID);
    kryo.register(NodeId.class, new NodeIdSerializer(), NODE_ID_ID);
    kryo.register(GlobalAddress.class, new AddressSerializer(), ADDRESS_ID);
    DsmKryo dsmKryo = (DsmKryo) kryo;
    dsmKryo.registerHierarchy(
        org.apache.pekko.actor.typed.ActorRef.class,
        new TypedActorRefSerializer(system),
        TYPED_ACTOR_REF_ID);
    dsmKryo.registerHierarchy(
        org.apache.pekko.actor.ActorRef.class,
        new ClassicActorRefSerializer(system),
        CLASSIC_ACTOR_REF_ID);
  }

  /** A vector: its shape, then each slot with its own handle serializer. */
  private static final class VecSerializer extends Serializer<Object> {
    private final HandleCodec handles;

    VecSerializer(HandleCodec handles) {
      this.handles = handles;
    }

    @Override
    public void write(Kryo kryo, Output out, Object vec) {
      if (describeOnly(kryo)) {
        out.writeString(vec.toString());
        return;
      }
      refuseInSnapshot(kryo, "DVec");
      HandleCodec.VecWire w = handles.exportVec(vec);
      out.writeVarInt(w.kind(), true);
      out.writeVarInt(w.size(), true);
      out.writeVarInt(w.chunkSize(), true);
      out.writeVarInt(w.slots().length, true);
      for (Object slot : w.slots()) {
        kryo.writeClassAndObject(out, slot);
      }
    }

    @Override
    public Object read(Kryo kryo, Input in, Class<?> type) {
      refuseInSnapshot(kryo, "DVec");
      int kind = in.readVarInt(true);
      int size = in.readVarInt(true);
      int chunkSize = in.readVarInt(true);
      int count = in.readVarInt(true);
      dev.pekkodsm.serialization.internal.BoundedSerializers.checkCount(in, count);
      Object[] slots = new Object[count];
      for (int i = 0; i < count; i++) {
        slots[i] = kryo.readClassAndObject(in);
      }
      try {
        return handles.importVec(new HandleCodec.VecWire(kind, size, chunkSize, slots));
      } catch (IllegalArgumentException e) {
        throw new com.esotericsoftware.kryo.KryoException(e.getMessage(), e);
      }
    }
  }

  /** Node ids: plain values, so a task can return where it ran. */
  private static final class NodeIdSerializer extends Serializer<NodeId> {
    NodeIdSerializer() {
      setImmutable(true);
    }

    @Override
    public void write(Kryo kryo, Output out, NodeId id) {
      out.writeLong(id.value());
    }

    @Override
    public NodeId read(Kryo kryo, Input in, Class<? extends NodeId> type) {
      return NodeId.of(in.readLong());
    }
  }

  /** Global addresses: plain values. */
  private static final class AddressSerializer extends Serializer<GlobalAddress> {
    AddressSerializer() {
      setImmutable(true);
    }

    @Override
    public void write(Kryo kryo, Output out, GlobalAddress a) {
      out.writeLong(a.node().value());
      out.writeVarLong(a.object(), true);
      out.writeVarInt(a.color(), true);
    }

    @Override
    public GlobalAddress read(Kryo kryo, Input in, Class<? extends GlobalAddress> type) {
      NodeId node = NodeId.of(in.readLong());
      long object = in.readVarLong(true);
      int color = in.readVarInt(true);
      if (object < 0 || color < 0) {
        throw new com.esotericsoftware.kryo.KryoException("malformed address");
      }
      return new GlobalAddress(node, object, color);
    }
  }

  /** Typed actor refs, as their serialization format (a path with the system's address). */
  @SuppressWarnings({"rawtypes", "unchecked"})
  private static final class TypedActorRefSerializer
      extends Serializer<org.apache.pekko.actor.typed.ActorRef> {
    private final org.apache.pekko.actor.typed.ActorSystem<?> system;

    TypedActorRefSerializer(org.apache.pekko.actor.typed.ActorSystem<?> system) {
      this.system = system;
    }

    @Override
    public void write(Kryo kryo, Output out, org.apache.pekko.actor.typed.ActorRef ref) {
      out.writeString(ActorRefResolver.get(system).toSerializationFormat(ref));
    }

    @Override
    public org.apache.pekko.actor.typed.ActorRef read(
        Kryo kryo, Input in, Class<? extends org.apache.pekko.actor.typed.ActorRef> type) {
      return ActorRefResolver.get(system).resolveActorRef(in.readString());
    }
  }

  /** Classic actor refs, as their serialized path. */
  private static final class ClassicActorRefSerializer
      extends Serializer<org.apache.pekko.actor.ActorRef> {
    private final ExtendedActorSystem system;

    ClassicActorRefSerializer(org.apache.pekko.actor.typed.ActorSystem<?> system) {
      this.system = (ExtendedActorSystem) Adapter.toClassic(system);
    }

    @Override
    public void write(Kryo kryo, Output out, org.apache.pekko.actor.ActorRef ref) {
      out.writeString(Serialization.serializedActorPath(ref));
    }

    @Override
    public org.apache.pekko.actor.ActorRef read(
        Kryo kryo, Input in, Class<? extends org.apache.pekko.actor.ActorRef> type) {
      return system.provider().resolveActorRef(in.readString());
    }
  }

  /** For debug fingerprints: a handle is described, never exported. */
  private static boolean describeOnly(Kryo kryo) {
    return kryo instanceof DsmKryo k && k.purpose() == Purpose.FINGERPRINT;
  }

  private static void refuseInSnapshot(Kryo kryo, String type) {
    if (kryo instanceof DsmKryo k && k.purpose() == Purpose.SNAPSHOT) {
      throw new IllegalArgumentException(
          "a "
              + type
              + " cannot be stored inside a value that is shared by one-sided reads: "
              + "readers would get copies of it. Keep handles in values that are only moved "
              + "(or send them in messages)");
    }
  }

  private static final class BoxSerializer extends Serializer<Object> {
    private final HandleCodec handles;

    BoxSerializer(HandleCodec handles) {
      this.handles = handles;
    }

    @Override
    public void write(Kryo kryo, Output out, Object box) {
      if (describeOnly(kryo)) {
        out.writeString(box.toString());
        return;
      }
      refuseInSnapshot(kryo, "DBox");
      HandleCodec.BoxWire w = handles.exportBox(box);
      out.writeLong(w.home());
      out.writeVarLong(w.object(), true);
      out.writeVarInt(w.color(), true);
      out.writeLong(w.locator());
      out.writeVarInt(w.frameBytes(), true);
      out.writeLong(w.from());
    }

    @Override
    public Object read(Kryo kryo, Input in, Class<?> type) {
      refuseInSnapshot(kryo, "DBox");
      return handles.importBox(
          new HandleCodec.BoxWire(
              in.readLong(),
              in.readVarLong(true),
              in.readVarInt(true),
              in.readLong(),
              in.readVarInt(true),
              in.readLong()));
    }
  }

  /**
   * A handle that holds weight (a reference, a share of ownership): the same wire form for each
   * kind.
   */
  private static final class WeightedSerializer extends Serializer<Object> {
    private final HandleKind kind;
    private final HandleCodec handles;

    WeightedSerializer(HandleKind kind, HandleCodec handles) {
      this.kind = kind;
      this.handles = handles;
    }

    @Override
    public void write(Kryo kryo, Output out, Object handle) {
      if (describeOnly(kryo)) {
        out.writeString(handle.toString());
        return;
      }
      refuseInSnapshot(kryo, kind.simpleName());
      HandleCodec.RefWire w = handles.exportWeighted(handle);
      out.writeLong(w.home());
      out.writeVarLong(w.object(), true);
      out.writeVarInt(w.color(), true);
      out.writeLong(w.locator());
      out.writeVarInt(w.frameBytes(), true);
      out.writeVarLong(w.weight(), true);
      out.writeLong(w.from());
    }

    @Override
    public Object read(Kryo kryo, Input in, Class<?> ignored) {
      refuseInSnapshot(kryo, kind.simpleName());
      return handles.importWeighted(
          kind,
          new HandleCodec.RefWire(
              in.readLong(),
              in.readVarLong(true),
              in.readVarInt(true),
              in.readLong(),
              in.readVarInt(true),
              in.readVarLong(true),
              in.readLong()));
    }
  }
}
