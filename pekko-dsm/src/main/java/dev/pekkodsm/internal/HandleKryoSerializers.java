package dev.pekkodsm.internal;

import com.esotericsoftware.kryo.Kryo;
import com.esotericsoftware.kryo.Serializer;
import com.esotericsoftware.kryo.io.Input;
import com.esotericsoftware.kryo.io.Output;
import dev.pekkodsm.DArc;
import dev.pekkodsm.DAtomicLong;
import dev.pekkodsm.DBox;
import dev.pekkodsm.DMutex;
import dev.pekkodsm.DRef;
import dev.pekkodsm.DVec;
import dev.pekkodsm.coherence.GlobalAddress;
import dev.pekkodsm.coherence.NodeId;
import dev.pekkodsm.serialization.internal.DsmKryo;
import dev.pekkodsm.serialization.internal.Purpose;
import java.util.function.Function;
import org.apache.pekko.actor.ExtendedActorSystem;
import org.apache.pekko.actor.typed.ActorRefResolver;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.serialization.Serialization;

/**
 * Kryo serializers for the handle types (ids 90, 91, 94 to 96), so handles can travel inside
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

  static void register(Kryo kryo, DsmNode node) {
    kryo.register(DBox.class, new BoxSerializer(node), BOX_ID);
    HandleCodec handles = node.handles();
    kryo.register(
        DRef.class,
        new WeightedSerializer<DRef<?>>("DRef", handles::exportRef, handles::importRef),
        REF_ID);
    kryo.register(
        DArc.class,
        new WeightedSerializer<DArc<?>>("DArc", handles::exportArc, handles::importArc),
        ARC_ID);
    kryo.register(
        DAtomicLong.class,
        new WeightedSerializer<DAtomicLong>(
            "DAtomicLong", handles::exportAtomic, handles::importAtomic),
        ATOMIC_ID);
    kryo.register(
        DMutex.class,
        new WeightedSerializer<DMutex<?>>("DMutex", handles::exportMutex, handles::importMutex),
        MUTEX_ID);
    kryo.register(DVec.class, new VecSerializer(node), VEC_ID);
    kryo.register(NodeId.class, new NodeIdSerializer(), NODE_ID_ID);
    kryo.register(GlobalAddress.class, new AddressSerializer(), ADDRESS_ID);
    DsmKryo dsmKryo = (DsmKryo) kryo;
    dsmKryo.registerHierarchy(
        org.apache.pekko.actor.typed.ActorRef.class,
        new TypedActorRefSerializer(node.system()),
        TYPED_ACTOR_REF_ID);
    dsmKryo.registerHierarchy(
        org.apache.pekko.actor.ActorRef.class,
        new ClassicActorRefSerializer(node.system()),
        CLASSIC_ACTOR_REF_ID);
  }

  /** A vector: its shape, then each slot with its own handle serializer. */
  @SuppressWarnings("rawtypes")
  private static final class VecSerializer extends Serializer<DVec> {
    private final DsmNode node;

    VecSerializer(DsmNode node) {
      this.node = node;
    }

    @Override
    public void write(Kryo kryo, Output out, DVec vec) {
      if (describeOnly(kryo)) {
        out.writeString(vec.toString());
        return;
      }
      refuseInSnapshot(kryo, "DVec");
      HandleCodec.VecWire w = node.handles().exportVec(vec);
      out.writeVarInt(w.kind(), true);
      out.writeVarInt(w.size(), true);
      out.writeVarInt(w.chunkSize(), true);
      out.writeVarInt(w.slots().length, true);
      for (Object slot : w.slots()) {
        kryo.writeClassAndObject(out, slot);
      }
    }

    @Override
    public DVec read(Kryo kryo, Input in, Class<? extends DVec> type) {
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
        return node.handles().importVec(new HandleCodec.VecWire(kind, size, chunkSize, slots));
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

  @SuppressWarnings("rawtypes")
  private static final class BoxSerializer extends Serializer<DBox> {
    private final DsmNode node;

    BoxSerializer(DsmNode node) {
      this.node = node;
    }

    @Override
    public void write(Kryo kryo, Output out, DBox box) {
      if (describeOnly(kryo)) {
        out.writeString(box.toString());
        return;
      }
      refuseInSnapshot(kryo, "DBox");
      HandleCodec.BoxWire w = node.handles().exportBox(box);
      out.writeLong(w.home());
      out.writeVarLong(w.object(), true);
      out.writeVarInt(w.color(), true);
      out.writeLong(w.locator());
      out.writeVarInt(w.frameBytes(), true);
      out.writeLong(w.from());
    }

    @Override
    public DBox read(Kryo kryo, Input in, Class<? extends DBox> type) {
      refuseInSnapshot(kryo, "DBox");
      return node.handles()
          .importBox(
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
   * A handle that holds weight (a reference, a share of ownership): the same wire form for each,
   * with its own export and import.
   */
  private static final class WeightedSerializer<H> extends Serializer<H> {
    private final String type;
    private final Function<H, HandleCodec.RefWire> export;
    private final Function<HandleCodec.RefWire, H> importer;

    WeightedSerializer(
        String type,
        Function<H, HandleCodec.RefWire> export,
        Function<HandleCodec.RefWire, H> importer) {
      this.type = type;
      this.export = export;
      this.importer = importer;
    }

    @Override
    public void write(Kryo kryo, Output out, H handle) {
      if (describeOnly(kryo)) {
        out.writeString(handle.toString());
        return;
      }
      refuseInSnapshot(kryo, type);
      HandleCodec.RefWire w = export.apply(handle);
      out.writeLong(w.home());
      out.writeVarLong(w.object(), true);
      out.writeVarInt(w.color(), true);
      out.writeLong(w.locator());
      out.writeVarInt(w.frameBytes(), true);
      out.writeVarLong(w.weight(), true);
      out.writeLong(w.from());
    }

    @Override
    public H read(Kryo kryo, Input in, Class<? extends H> ignored) {
      refuseInSnapshot(kryo, type);
      return importer.apply(
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
