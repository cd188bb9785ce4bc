package dev.pekkodsm.internal;

import dev.pekkodsm.Dsm;
import dev.pekkodsm.memory.ArenaEndpoint;
import dev.pekkodsm.memory.PeerEndpoint;
import dev.pekkodsm.serialization.internal.Purpose;
import java.io.NotSerializableException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import org.apache.pekko.actor.ExtendedActorSystem;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorRefResolver;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.serialization.SerializerWithStringManifest;

/**
 * The DSM's Pekko serializer: a compact hand-written format for the protocol messages (every length
 * checked before it is used), and the DSM's Kryo for everything else bound to it, such as bare
 * handles and user messages that carry handles.
 *
 * <p>Bind your own message classes to it with {@code pekko.actor.serialization-bindings {
 * "com.example.MyMessage" = pekko-dsm }} and register them in {@code
 * pekko.dsm.serialization.classes}.
 */
public final class DsmSerializer extends SerializerWithStringManifest {

  /** The serializer id, fixed forever: changing it breaks rolling upgrades. */
  public static final int IDENTIFIER = 4780;

  private static final int MAX_STRING_BYTES = 64 * 1024;
  private static final int MAX_MAP_ENTRIES = 4096;

  private static final String HAND_OVER = "HO";
  private static final String LEND = "LE";
  private static final String DROP = "DR";
  private static final String RELEASE = "RL";
  private static final String ADOPT = "AD";
  private static final String COLLECTED = "CO";
  private static final String HANDED_OVER = "HD";
  private static final String HANDED_OVER_AT = "HA";
  private static final String LENT = "LT";
  private static final String DROPPED = "DD";
  private static final String REFUSED = "RF";
  private static final String GET_ENDPOINT = "GE";
  private static final String ENDPOINT_INFO = "EP";
  private static final String TOPPED_UP = "TU";
  private static final String REVOKED = "RV";
  private static final String CARRIED = "CR";
  private static final String CANCEL_LEND = "CL";
  private static final String CONFIRM = "CF";
  private static final String FREEZE = "FZ";
  private static final String ATOMIC_OP = "AO";
  private static final String ATOMIC_DONE = "AD2";
  private static final String WHERE = "WH";
  private static final String LOCK = "LK";
  private static final String LOCKED = "LD";
  private static final String UNLOCK = "UL";
  private static final String UNLOCKED = "UD";
  private static final String CANCEL_LOCK = "CK";
  private static final String SPAWN = "SP";
  private static final String RUN_AT = "RA";
  private static final String TASK_RESULT = "TR";
  // Characters of a remote error kept on the wire; each fits MAX_STRING_BYTES as UTF-8.
  private static final int MAX_ERROR_MESSAGE_CHARS = 4_000;
  private static final int MAX_ERROR_TRACE_CHARS = 12_000;
  private static final String AT = "AT";
  private static final String CONFIRMED = "CD";
  private static final String KRYO = "K";

  private final ExtendedActorSystem system;
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
      n = Dsm.get(system).internalNode();
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

  @Override
  public String manifest(Object o) {
    if (o instanceof Protocol.HandOver) {
      return HAND_OVER;
    } else if (o instanceof Protocol.Lend) {
      return LEND;
    } else if (o instanceof Protocol.Drop) {
      return DROP;
    } else if (o instanceof Protocol.Release) {
      return RELEASE;
    } else if (o instanceof Protocol.Adopt) {
      return ADOPT;
    } else if (o instanceof Protocol.Collected) {
      return COLLECTED;
    } else if (o instanceof Protocol.HandedOver) {
      return HANDED_OVER;
    } else if (o instanceof Protocol.HandedOverAt) {
      return HANDED_OVER_AT;
    } else if (o instanceof Protocol.Lent) {
      return LENT;
    } else if (o instanceof Protocol.Dropped) {
      return DROPPED;
    } else if (o instanceof Protocol.Refused) {
      return REFUSED;
    } else if (o instanceof Protocol.GetEndpoint) {
      return GET_ENDPOINT;
    } else if (o instanceof Protocol.EndpointInfo) {
      return ENDPOINT_INFO;
    } else if (o instanceof Protocol.ToppedUp) {
      return TOPPED_UP;
    } else if (o instanceof Protocol.Revoked) {
      return REVOKED;
    } else if (o instanceof Protocol.Carried) {
      return CARRIED;
    } else if (o instanceof Protocol.CancelLend) {
      return CANCEL_LEND;
    } else if (o instanceof Protocol.Confirm) {
      return CONFIRM;
    } else if (o instanceof Protocol.Freeze) {
      return FREEZE;
    } else if (o instanceof Protocol.AtomicOp) {
      return ATOMIC_OP;
    } else if (o instanceof Protocol.AtomicDone) {
      return ATOMIC_DONE;
    } else if (o instanceof Protocol.Where) {
      return WHERE;
    } else if (o instanceof Protocol.Lock) {
      return LOCK;
    } else if (o instanceof Protocol.Locked) {
      return LOCKED;
    } else if (o instanceof Protocol.Unlock) {
      return UNLOCK;
    } else if (o instanceof Protocol.Unlocked) {
      return UNLOCKED;
    } else if (o instanceof Protocol.CancelLock) {
      return CANCEL_LOCK;
    } else if (o instanceof Protocol.Spawn) {
      return SPAWN;
    } else if (o instanceof Protocol.RunAt) {
      return RUN_AT;
    } else if (o instanceof Protocol.TaskResult) {
      return TASK_RESULT;
    } else if (o instanceof Protocol.At) {
      return AT;
    } else if (o instanceof Protocol.Confirmed) {
      return CONFIRMED;
    } else if (o instanceof Protocol.DsmMessage) {
      throw new IllegalArgumentException("no wire format for " + o.getClass().getName());
    }
    return KRYO;
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

  @Override
  public byte[] toBinary(Object o) {
    if (!(o instanceof Protocol.DsmMessage)) {
      return kryoBytes(o);
    }
    Writer w = new Writer();
    if (o instanceof Protocol.HandOver m) {
      w.l(m.home()).l(m.object()).i(m.color()).l(m.requester()).l(m.newObject()).ref(m.replyTo());
    } else if (o instanceof Protocol.Lend m) {
      w.l(m.home()).l(m.object()).i(m.color()).l(m.holder()).l(m.requestId()).ref(m.replyTo());
    } else if (o instanceof Protocol.AtomicOp m) {
      w.l(m.home()).l(m.object()).i(m.op().ordinal()).l(m.a()).l(m.b()).ref(m.replyTo());
    } else if (o instanceof Protocol.AtomicDone m) {
      w.l(m.value()).b(m.done());
    } else if (o instanceof Protocol.Lock m) {
      w.l(m.home()).l(m.object()).l(m.holder()).l(m.lockId()).ref(m.replyTo());
    } else if (o instanceof Protocol.Locked m) {
      w.bytes(m.value()).i(m.version());
    } else if (o instanceof Protocol.Unlock m) {
      w.l(m.home()).l(m.object()).l(m.holder()).l(m.lockId()).bytes(m.value()).ref(m.replyTo());
    } else if (o instanceof Protocol.Unlocked m) {
      w.i(m.version());
    } else if (o instanceof Protocol.Spawn m) {
      w.bytes(m.task()).ref(m.replyTo());
    } else if (o instanceof Protocol.RunAt m) {
      w.l(m.home()).l(m.object()).i(m.color()).i(m.mode().ordinal()).bytes(m.fn()).ref(m.replyTo());
    } else if (o instanceof Protocol.TaskResult m) {
      w.bytes(m.result())
          .s(trim(m.errorType(), MAX_ERROR_MESSAGE_CHARS))
          .s(trim(m.errorMessage(), MAX_ERROR_MESSAGE_CHARS))
          .s(trim(m.errorTrace(), MAX_ERROR_TRACE_CHARS))
          .l(m.object())
          .i(m.color())
          .l(m.locator())
          .i(m.frameBytes())
          .i(m.load());
    } else if (o instanceof Protocol.CancelLock m) {
      w.l(m.home()).l(m.object()).l(m.holder()).l(m.lockId());
    } else if (o instanceof Protocol.Where m) {
      w.l(m.home()).l(m.object()).ref(m.replyTo());
    } else if (o instanceof Protocol.At m) {
      w.l(m.object()).i(m.color()).l(m.locator()).i(m.frameBytes());
    } else if (o instanceof Protocol.Freeze m) {
      w.l(m.home()).l(m.object()).i(m.color()).l(m.requester()).ref(m.replyTo());
    } else if (o instanceof Protocol.Confirm m) {
      w.l(m.home()).l(m.object()).i(m.color()).l(m.holder()).ref(m.replyTo());
    } else if (o instanceof Protocol.Confirmed m) {
      w.b(m.ok()).s(m.reason());
    } else if (o instanceof Protocol.CancelLend m) {
      w.l(m.home()).l(m.object()).l(m.holder()).l(m.requestId());
    } else if (o instanceof Protocol.Drop m) {
      w.l(m.home()).l(m.object()).i(m.color()).l(m.requester()).ref(m.replyTo());
    } else if (o instanceof Protocol.Release m) {
      w.l(m.home()).l(m.object()).i(m.color()).l(m.holder()).l(m.weight());
    } else if (o instanceof Protocol.Adopt m) {
      w.l(m.home())
          .l(m.object())
          .i(m.color())
          .l(m.from())
          .l(m.to())
          .l(m.weight())
          .l(m.refId())
          .b(m.box())
          .b(m.topUp());
    } else if (o instanceof Protocol.Collected m) {
      w.l(m.home()).l(m.object()).l(m.locator());
    } else if (o instanceof Protocol.HandedOver m) {
      w.bytes(m.value());
    } else if (o instanceof Protocol.HandedOverAt m) {
      w.i(m.color()).l(m.locator()).i(m.frameBytes());
    } else if (o instanceof Protocol.Lent m) {
      w.i(m.color()).l(m.weight()).l(m.locator()).i(m.frameBytes());
    } else if (o instanceof Protocol.Dropped) {
      // no fields
    } else if (o instanceof Protocol.Refused m) {
      w.i(m.reason().ordinal())
          .s(m.detail())
          .l(m.movedToNode())
          .l(m.movedToObject())
          .i(m.readers())
          .i(m.lent().size());
      m.lent().forEach((k, v) -> w.l(k).i(v));
    } else if (o instanceof Protocol.GetEndpoint m) {
      w.ref(m.replyTo());
    } else if (o instanceof Protocol.EndpointInfo m) {
      PeerEndpoint e = m.endpoint();
      ArenaEndpoint a = e.arena();
      w.l(m.node())
          .l(m.registryFingerprint())
          .l(a.node())
          .s(a.directory())
          .l(a.tokenHi())
          .l(a.tokenLo())
          .i(a.segmentBytes())
          .i(a.maxSegments())
          .s(e.hostId())
          .s(e.tcpHost())
          .i(e.tcpPort())
          .s(e.rdmaHost())
          .i(e.rdmaPort());
    } else if (o instanceof Protocol.ToppedUp m) {
      w.l(m.refId()).l(m.home()).l(m.object()).i(m.color()).l(m.weight());
    } else if (o instanceof Protocol.Revoked m) {
      w.l(m.refId()).s(m.reason());
    } else if (o instanceof Protocol.Carried m) {
      w.l(m.id()).bytes(kryoBytes(m.payload()));
    } else {
      throw new IllegalArgumentException("no wire format for " + o.getClass().getName());
    }
    if (!(o instanceof Protocol.Carried)) {
      node().metrics().messageSent(); // Carried is a user value in transit, not DSM traffic
    }
    return w.toBytes();
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

  @Override
  public Object fromBinary(byte[] bytes, String manifest) throws NotSerializableException {
    if (KRYO.equals(manifest)) {
      return kryoValue(bytes);
    }
    Reader r = new Reader(bytes);
    Object message =
        switch (manifest) {
          case HAND_OVER ->
              new Protocol.HandOver(r.l(), r.l(), r.i(), r.l(), r.l(), r.<Protocol.Reply>ref());
          case LEND ->
              new Protocol.Lend(r.l(), r.l(), r.i(), r.l(), r.l(), r.<Protocol.Reply>ref());
          case CANCEL_LEND -> new Protocol.CancelLend(r.l(), r.l(), r.l(), r.l());
          case ATOMIC_OP ->
              new Protocol.AtomicOp(
                  r.l(), r.l(), r.atomicOp(), r.l(), r.l(), r.<Protocol.Reply>ref());
          case ATOMIC_DONE -> new Protocol.AtomicDone(r.l(), r.b());
          case WHERE -> new Protocol.Where(r.l(), r.l(), r.<Protocol.Reply>ref());
          case LOCK -> new Protocol.Lock(r.l(), r.l(), r.l(), r.l(), r.<Protocol.Reply>ref());
          case LOCKED -> new Protocol.Locked(r.bytes(), r.i());
          case UNLOCK ->
              new Protocol.Unlock(r.l(), r.l(), r.l(), r.l(), r.bytes(), r.<Protocol.Reply>ref());
          case UNLOCKED -> new Protocol.Unlocked(r.i());
          case CANCEL_LOCK -> new Protocol.CancelLock(r.l(), r.l(), r.l(), r.l());
          case SPAWN -> new Protocol.Spawn(r.bytes(), r.<Protocol.Reply>ref());
          case RUN_AT ->
              new Protocol.RunAt(
                  r.l(), r.l(), r.i(), r.runMode(), r.bytes(), r.<Protocol.Reply>ref());
          case TASK_RESULT ->
              new Protocol.TaskResult(
                  r.bytes(), r.s(), r.s(), r.s(), r.l(), r.i(), r.l(), r.i(), r.i());
          case AT -> new Protocol.At(r.l(), r.i(), r.l(), r.i());
          case FREEZE -> new Protocol.Freeze(r.l(), r.l(), r.i(), r.l(), r.<Protocol.Reply>ref());
          case CONFIRM -> new Protocol.Confirm(r.l(), r.l(), r.i(), r.l(), r.<Protocol.Reply>ref());
          case CONFIRMED -> new Protocol.Confirmed(r.b(), r.s());
          case DROP -> new Protocol.Drop(r.l(), r.l(), r.i(), r.l(), r.<Protocol.Reply>ref());
          case RELEASE -> new Protocol.Release(r.l(), r.l(), r.i(), r.l(), r.positive());
          case ADOPT ->
              new Protocol.Adopt(
                  r.l(), r.l(), r.i(), r.l(), r.l(), r.nonNegative(), r.l(), r.b(), r.b());
          case COLLECTED -> new Protocol.Collected(r.l(), r.l(), r.l());
          case HANDED_OVER -> new Protocol.HandedOver(r.bytes());
          case HANDED_OVER_AT -> new Protocol.HandedOverAt(r.i(), r.l(), r.i());
          case LENT -> new Protocol.Lent(r.i(), r.positive(), r.l(), r.i());
          case DROPPED -> new Protocol.Dropped();
          case REFUSED -> refused(r);
          case GET_ENDPOINT -> new Protocol.GetEndpoint(r.<Protocol.EndpointInfo>ref());
          case ENDPOINT_INFO -> {
            long nodeId = r.l();
            long fingerprint = r.l();
            ArenaEndpoint arena = new ArenaEndpoint(r.l(), r.s(), r.l(), r.l(), r.i(), r.i());
            PeerEndpoint endpoint;
            try {
              endpoint = new PeerEndpoint(arena, r.s(), r.s(), r.i(), r.s(), r.i());
            } catch (IllegalArgumentException | NullPointerException e) {
              throw new NotSerializableException("malformed endpoint: " + e.getMessage());
            }
            yield new Protocol.EndpointInfo(nodeId, endpoint, fingerprint);
          }
          case TOPPED_UP -> new Protocol.ToppedUp(r.l(), r.l(), r.l(), r.i(), r.positive());
          case REVOKED -> new Protocol.Revoked(r.l(), r.s());
          case CARRIED -> {
            long id = r.l();
            byte[] payload = r.bytes();
            yield new Protocol.Carried(id, kryoValue(payload));
          }
          default ->
              throw new NotSerializableException("unknown pekko-dsm manifest [" + manifest + "]");
        };
    r.end(manifest);
    return message;
  }

  private static String trim(String text, int maxChars) {
    if (text == null) {
      return "";
    }
    return text.length() > maxChars ? text.substring(0, maxChars) : text;
  }

  private static Protocol.Refused refused(Reader r) {
    int ordinal = r.i();
    Protocol.Reason[] reasons = Protocol.Reason.values();
    if (ordinal < 0 || ordinal >= reasons.length) {
      throw new IllegalArgumentException("malformed pekko-dsm message: reason " + ordinal);
    }
    String detail = r.s();
    long movedToNode = r.l();
    long movedToObject = r.l();
    int readers = r.i();
    int entries = r.i();
    if (entries < 0 || entries > MAX_MAP_ENTRIES) {
      throw new IllegalArgumentException("malformed pekko-dsm message: " + entries + " holders");
    }
    Map<Long, Integer> lent = new HashMap<>();
    for (int k = 0; k < entries; k++) {
      lent.put(r.l(), r.i());
    }
    return new Protocol.Refused(
        reasons[ordinal], detail, movedToNode, movedToObject, readers, Map.copyOf(lent));
  }

  private final class Writer {
    private byte[] buf = new byte[64];
    private int pos;

    private ByteBuffer room(int n) {
      if (pos + n > buf.length) {
        buf = Arrays.copyOf(buf, Math.max(buf.length * 2, pos + n));
      }
      ByteBuffer b = ByteBuffer.wrap(buf, pos, n).order(ByteOrder.LITTLE_ENDIAN);
      pos += n;
      return b;
    }

    Writer l(long v) {
      room(8).putLong(v);
      return this;
    }

    Writer i(int v) {
      room(4).putInt(v);
      return this;
    }

    Writer b(boolean v) {
      room(1).put((byte) (v ? 1 : 0));
      return this;
    }

    Writer bytes(byte[] v) {
      i(v.length);
      room(v.length).put(v);
      return this;
    }

    Writer s(String v) {
      byte[] utf8 = v.getBytes(StandardCharsets.UTF_8);
      if (utf8.length > MAX_STRING_BYTES) {
        utf8 = Arrays.copyOf(utf8, MAX_STRING_BYTES);
      }
      return bytes(utf8);
    }

    Writer ref(ActorRef<?> ref) {
      return s(resolver().toSerializationFormat(ref));
    }

    byte[] toBytes() {
      return Arrays.copyOf(buf, pos);
    }
  }

  private final class Reader {
    private final ByteBuffer b;

    Reader(byte[] bytes) {
      this.b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
    }

    private void need(int n) {
      if (n < 0 || b.remaining() < n) {
        throw new IllegalArgumentException(
            "malformed pekko-dsm message: needs " + n + " more bytes, has " + b.remaining());
      }
    }

    long l() {
      need(8);
      return b.getLong();
    }

    long positive() {
      long v = l();
      if (v <= 0) {
        throw new IllegalArgumentException("malformed pekko-dsm message: weight " + v);
      }
      return v;
    }

    long nonNegative() {
      long v = l();
      if (v < 0) {
        throw new IllegalArgumentException("malformed pekko-dsm message: weight " + v);
      }
      return v;
    }

    int i() {
      need(4);
      return b.getInt();
    }

    boolean b() {
      need(1);
      return b.get() != 0;
    }

    byte[] bytes() {
      int n = i();
      need(n);
      byte[] out = new byte[n];
      b.get(out);
      return out;
    }

    String s() {
      int n = i();
      if (n > MAX_STRING_BYTES) {
        throw new IllegalArgumentException("malformed pekko-dsm message: string of " + n);
      }
      need(n);
      byte[] out = new byte[n];
      b.get(out);
      return new String(out, StandardCharsets.UTF_8);
    }

    Protocol.RunMode runMode() {
      int ordinal = i();
      Protocol.RunMode[] modes = Protocol.RunMode.values();
      if (ordinal < 0 || ordinal >= modes.length) {
        throw new IllegalArgumentException("malformed pekko-dsm message: run mode " + ordinal);
      }
      return modes[ordinal];
    }

    AtomicCell.Op atomicOp() {
      int ordinal = i();
      AtomicCell.Op[] ops = AtomicCell.Op.values();
      if (ordinal < 0 || ordinal >= ops.length) {
        throw new IllegalArgumentException("malformed pekko-dsm message: atomic op " + ordinal);
      }
      return ops[ordinal];
    }

    <T> ActorRef<T> ref() {
      return resolver().resolveActorRef(s());
    }

    void end(String manifest) {
      if (b.hasRemaining()) {
        throw new IllegalArgumentException(
            "malformed pekko-dsm message [" + manifest + "]: " + b.remaining() + " trailing bytes");
      }
    }
  }
}
