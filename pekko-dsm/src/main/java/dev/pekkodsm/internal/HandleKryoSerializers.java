package dev.pekkodsm.internal;

import com.esotericsoftware.kryo.Kryo;
import com.esotericsoftware.kryo.Serializer;
import com.esotericsoftware.kryo.io.Input;
import com.esotericsoftware.kryo.io.Output;
import dev.pekkodsm.DBox;
import dev.pekkodsm.DRef;
import dev.pekkodsm.serialization.internal.DsmKryo;
import dev.pekkodsm.serialization.internal.Purpose;

/**
 * Kryo serializers for the handle types (ids 90 and 91), so handles can travel inside messages
 * serialized with the DSM's Kryo and inside values that move with a mutable borrow.
 */
final class HandleKryoSerializers {

  static final int BOX_ID = 90;
  static final int REF_ID = 91;

  private HandleKryoSerializers() {}

  static void register(Kryo kryo, DsmNode node) {
    kryo.register(DBox.class, new BoxSerializer(node), BOX_ID);
    kryo.register(DRef.class, new RefSerializer(node), REF_ID);
  }

  private static void refuseInSnapshot(Kryo kryo, String type) {
    if (kryo instanceof DsmKryo k && k.purpose() == Purpose.SNAPSHOT) {
      throw new IllegalArgumentException(
          "a " + type + " cannot be stored inside a value that is shared by one-sided reads: "
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
      return node.handles().importBox(new HandleCodec.BoxWire(
          in.readLong(), in.readVarLong(true), in.readVarInt(true), in.readLong(),
          in.readVarInt(true), in.readLong()));
    }
  }

  @SuppressWarnings("rawtypes")
  private static final class RefSerializer extends Serializer<DRef> {
    private final DsmNode node;

    RefSerializer(DsmNode node) {
      this.node = node;
    }

    @Override
    public void write(Kryo kryo, Output out, DRef ref) {
      refuseInSnapshot(kryo, "DRef");
      HandleCodec.RefWire w = node.handles().exportRef(ref);
      out.writeLong(w.home());
      out.writeVarLong(w.object(), true);
      out.writeVarInt(w.color(), true);
      out.writeLong(w.locator());
      out.writeVarInt(w.frameBytes(), true);
      out.writeVarLong(w.weight(), true);
      out.writeLong(w.from());
    }

    @Override
    public DRef read(Kryo kryo, Input in, Class<? extends DRef> type) {
      refuseInSnapshot(kryo, "DRef");
      return node.handles().importRef(new HandleCodec.RefWire(
          in.readLong(), in.readVarLong(true), in.readVarInt(true), in.readLong(),
          in.readVarInt(true), in.readVarLong(true), in.readLong()));
    }
  }
}
