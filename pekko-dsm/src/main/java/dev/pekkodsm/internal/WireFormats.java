package dev.pekkodsm.internal;

import dev.pekkodsm.coherence.AtomicCell;
import dev.pekkodsm.coherence.ObjectKind;
import dev.pekkodsm.coherence.home.HolderNotice;
import dev.pekkodsm.coherence.home.HomeReply;
import dev.pekkodsm.coherence.home.HomeRequest;
import dev.pekkodsm.coherence.home.RunMode;
import dev.pekkodsm.coherence.replication.ReplicaRecord;
import dev.pekkodsm.memory.ArenaEndpoint;
import dev.pekkodsm.memory.PeerEndpoint;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BiConsumer;
import java.util.function.Function;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorRefResolver;

/**
 * The hand-written binary format of every DSM protocol message: one entry per type, with its
 * manifest, how it is written and how it is read back. Every length is checked before it is used; a
 * message is rejected unless it is consumed exactly.
 *
 * <p>Requests to a home travel inside an {@link Protocol.OwnerCommand} under the request's own
 * manifest, followed by the optional {@code replyTo}.
 */
final class WireFormats {

  private static final int MAX_STRING_BYTES = 64 * 1024;
  private static final int MAX_MAP_ENTRIES = 4096;
  // Characters of a remote error kept on the wire; each fits MAX_STRING_BYTES as UTF-8.
  private static final int MAX_ERROR_MESSAGE_CHARS = 4_000;
  private static final int MAX_ERROR_TRACE_CHARS = 12_000;

  /** One message type's wire format. */
  record Format<T>(
      String manifest, Class<T> type, BiConsumer<Writer, T> writer, Function<Reader, T> reader) {

    void write(Writer w, Object message) {
      writer.accept(w, type.cast(message));
    }
  }

  private final Map<Class<?>, Format<?>> byType = new HashMap<>();
  private final Map<String, Format<?>> byManifest = new HashMap<>();

  WireFormats() {
    requests();
    replies();
    nodeMessages();
  }

  private <T> void add(
      String manifest, Class<T> type, BiConsumer<Writer, T> writer, Function<Reader, T> reader) {
    Format<T> f = new Format<>(manifest, type, writer, reader);
    if (byType.put(type, f) != null || byManifest.put(manifest, f) != null) {
      throw new IllegalStateException("two wire formats for " + type + " or " + manifest);
    }
  }

  /** The format of {@code type}, or null if it has none. */
  Format<?> of(Class<?> type) {
    return byType.get(type);
  }

  /** The format with {@code manifest}, or null. */
  Format<?> of(String manifest) {
    return byManifest.get(manifest);
  }

  private void requests() {
    add(
        "HO",
        HomeRequest.HandOver.class,
        (w, m) -> w.l(m.home()).l(m.object()).i(m.color()).l(m.requester()).l(m.newObject()),
        r -> new HomeRequest.HandOver(r.l(), r.l(), r.i(), r.l(), r.l()));
    add(
        "LE",
        HomeRequest.Lend.class,
        (w, m) -> w.l(m.home()).l(m.object()).i(m.color()).l(m.holder()).l(m.requestId()),
        r -> new HomeRequest.Lend(r.l(), r.l(), r.i(), r.l(), r.l()));
    add(
        "CL",
        HomeRequest.CancelLend.class,
        (w, m) -> w.l(m.home()).l(m.object()).l(m.holder()).l(m.requestId()),
        r -> new HomeRequest.CancelLend(r.l(), r.l(), r.l(), r.l()));
    add(
        "CF",
        HomeRequest.Confirm.class,
        (w, m) -> w.l(m.home()).l(m.object()).i(m.color()).l(m.holder()),
        r -> new HomeRequest.Confirm(r.l(), r.l(), r.i(), r.l()));
    add(
        "FZ",
        HomeRequest.Freeze.class,
        (w, m) -> w.l(m.home()).l(m.object()).i(m.color()).l(m.requester()),
        r -> new HomeRequest.Freeze(r.l(), r.l(), r.i(), r.l()));
    add(
        "AO",
        HomeRequest.AtomicOp.class,
        (w, m) -> w.l(m.home()).l(m.object()).i(m.op().ordinal()).l(m.a()).l(m.b()),
        r ->
            new HomeRequest.AtomicOp(
                r.l(), r.l(), r.ordinal(AtomicCell.Op.values(), "atomic op"), r.l(), r.l()));
    add(
        "LK",
        HomeRequest.Lock.class,
        (w, m) -> w.l(m.home()).l(m.object()).l(m.holder()).l(m.lockId()),
        r -> new HomeRequest.Lock(r.l(), r.l(), r.l(), r.l()));
    add(
        "UL",
        HomeRequest.Unlock.class,
        (w, m) -> w.l(m.home()).l(m.object()).l(m.holder()).l(m.lockId()).bytes(m.value()),
        r -> new HomeRequest.Unlock(r.l(), r.l(), r.l(), r.l(), r.bytes()));
    add(
        "CK",
        HomeRequest.CancelLock.class,
        (w, m) -> w.l(m.home()).l(m.object()).l(m.holder()).l(m.lockId()),
        r -> new HomeRequest.CancelLock(r.l(), r.l(), r.l(), r.l()));
    add(
        "HF",
        HomeRequest.HandedOff.class,
        (w, m) -> w.l(m.home()).l(m.object()),
        r -> new HomeRequest.HandedOff(r.l(), r.l()));
    add(
        "RA",
        HomeRequest.RunAt.class,
        (w, m) -> w.l(m.home()).l(m.object()).i(m.color()).i(m.mode().ordinal()).bytes(m.fn()),
        r ->
            new HomeRequest.RunAt(
                r.l(), r.l(), r.i(), r.ordinal(RunMode.values(), "run mode"), r.bytes()));
    add(
        "WH",
        HomeRequest.Where.class,
        (w, m) -> w.l(m.home()).l(m.object()),
        r -> new HomeRequest.Where(r.l(), r.l()));
    add(
        "DR",
        HomeRequest.Drop.class,
        (w, m) -> w.l(m.home()).l(m.object()).i(m.color()).l(m.requester()),
        r -> new HomeRequest.Drop(r.l(), r.l(), r.i(), r.l()));
    add(
        "RL",
        HomeRequest.Release.class,
        (w, m) -> w.l(m.home()).l(m.object()).i(m.color()).l(m.holder()).l(m.weight()),
        r -> new HomeRequest.Release(r.l(), r.l(), r.i(), r.l(), r.positive()));
    add(
        "AD",
        HomeRequest.Adopt.class,
        (w, m) ->
            w.l(m.home())
                .l(m.object())
                .i(m.color())
                .l(m.from())
                .l(m.to())
                .l(m.weight())
                .l(m.refId())
                .b(m.box())
                .b(m.topUp()),
        r ->
            new HomeRequest.Adopt(
                r.l(), r.l(), r.i(), r.l(), r.l(), r.nonNegative(), r.l(), r.b(), r.b()));
    add(
        "CO",
        HomeRequest.Collected.class,
        (w, m) -> w.l(m.home()).l(m.object()).l(m.locator()),
        r -> new HomeRequest.Collected(r.l(), r.l(), r.l()));
  }

  private void replies() {
    add(
        "HD",
        HomeReply.HandedOver.class,
        (w, m) -> w.bytes(m.value()),
        r -> new HomeReply.HandedOver(r.bytes()));
    add(
        "HA",
        HomeReply.HandedOverAt.class,
        (w, m) -> w.i(m.color()).l(m.locator()).i(m.frameBytes()),
        r -> new HomeReply.HandedOverAt(r.i(), r.l(), r.i()));
    add(
        "LT",
        HomeReply.Lent.class,
        (w, m) -> w.i(m.color()).l(m.weight()).l(m.locator()).i(m.frameBytes()),
        r -> new HomeReply.Lent(r.i(), r.positive(), r.l(), r.i()));
    add(
        "CD",
        HomeReply.Confirmed.class,
        (w, m) -> w.b(m.ok()).s(m.reason()),
        r -> new HomeReply.Confirmed(r.b(), r.s()));
    add(
        "AD2",
        HomeReply.AtomicDone.class,
        (w, m) -> w.l(m.value()).b(m.done()),
        r -> new HomeReply.AtomicDone(r.l(), r.b()));
    add(
        "LD",
        HomeReply.Locked.class,
        (w, m) -> w.l(m.word()).i(m.color()).bytes(m.value()),
        r -> new HomeReply.Locked(r.l(), r.i(), r.bytes()));
    add("UD", HomeReply.Unlocked.class, (w, m) -> {}, r -> new HomeReply.Unlocked());
    add(
        "AT",
        HomeReply.At.class,
        (w, m) -> w.l(m.object()).i(m.color()).l(m.locator()).i(m.frameBytes()),
        r -> new HomeReply.At(r.l(), r.i(), r.l(), r.i()));
    add("DD", HomeReply.Dropped.class, (w, m) -> {}, r -> new HomeReply.Dropped());
    add(
        "TR",
        HomeReply.TaskResult.class,
        (w, m) ->
            w.bytes(m.result())
                .s(trim(m.errorType(), MAX_ERROR_MESSAGE_CHARS))
                .s(trim(m.errorMessage(), MAX_ERROR_MESSAGE_CHARS))
                .s(trim(m.errorTrace(), MAX_ERROR_TRACE_CHARS))
                .l(m.object())
                .i(m.color())
                .l(m.locator())
                .i(m.frameBytes())
                .i(m.load()),
        r ->
            new HomeReply.TaskResult(
                r.bytes(), r.s(), r.s(), r.s(), r.l(), r.i(), r.l(), r.i(), r.i()));
    add(
        "RF",
        HomeReply.Refused.class,
        (w, m) -> {
          w.i(m.reason().ordinal())
              .s(m.detail())
              .l(m.movedToNode())
              .l(m.movedToObject())
              .i(m.readers())
              .i(m.lent().size());
          m.lent().forEach((k, v) -> w.l(k).i(v));
        },
        WireFormats::refused);
  }

  private void nodeMessages() {
    add(
        "SP",
        Protocol.Spawn.class,
        (w, m) -> w.bytes(m.task()).ref(m.replyTo()),
        r -> new Protocol.Spawn(r.bytes(), r.ref()));
    add(
        "TU",
        HolderNotice.ToppedUp.class,
        (w, m) -> w.l(m.refId()).l(m.home()).l(m.object()).i(m.color()).l(m.weight()),
        r -> new HolderNotice.ToppedUp(r.l(), r.l(), r.l(), r.i(), r.positive()));
    add(
        "RV",
        HolderNotice.Revoked.class,
        (w, m) -> w.l(m.refId()).s(m.reason()),
        r -> new HolderNotice.Revoked(r.l(), r.s()));
    add(
        "GE",
        Protocol.GetEndpoint.class,
        (w, m) -> w.ref(m.replyTo()),
        r -> new Protocol.GetEndpoint(r.ref()));
    add(
        "GO",
        Protocol.GetEndpointOf.class,
        (w, m) -> w.l(m.node()).ref(m.replyTo()),
        r -> new Protocol.GetEndpointOf(r.l(), r.ref()));
    add("EP", Protocol.EndpointInfo.class, WireFormats::writeEndpoint, WireFormats::endpoint);
    add(
        "RP",
        Protocol.Replicate.class,
        (w, m) -> writeBatch(w, m).ref(m.replyTo()),
        r -> {
          Protocol.Replicate m = readBatch(r); // the batch comes first on the wire, then replyTo
          return new Protocol.Replicate(
              m.primary(), m.sender(), m.epoch(), m.firstSeq(), m.records(), r.ref());
        });
    add("RK", Protocol.ReplicaAnswer.class, WireFormats::writeAnswer, WireFormats::readAnswer);
    add(
        "CQ",
        Protocol.CensusQuery.class,
        (w, m) -> w.l(m.primary()).ref(m.replyTo()),
        r -> new Protocol.CensusQuery(r.l(), r.ref()));
    add("CA", Protocol.CensusAnswer.class, WireFormats::census, WireFormats::census);
  }

  private static final int MAX_RECORDS = 1 << 16;

  /**
   * A replication batch as it travels over the tcp link ({@code ReplicaLink}): the Artery format
   * without {@code replyTo}, since the answer comes back on the same connection.
   */
  static byte[] batchBytes(Protocol.Replicate m) {
    return writeBatch(new Writer(null), m).toBytes();
  }

  /**
   * Reads {@link #batchBytes}; its {@code replyTo} is null.
   *
   * @throws IllegalArgumentException if the bytes are not one whole batch
   */
  static Protocol.Replicate batch(byte[] bytes) {
    Reader r = new Reader(null, bytes);
    Protocol.Replicate m = readBatch(r);
    r.end("RP");
    return m;
  }

  /** A backup's answer as it travels over the tcp link. */
  static byte[] answerBytes(Protocol.ReplicaAnswer m) {
    Writer w = new Writer(null);
    writeAnswer(w, m);
    return w.toBytes();
  }

  /**
   * Reads {@link #answerBytes}.
   *
   * @throws IllegalArgumentException if the bytes are not one whole answer
   */
  static Protocol.ReplicaAnswer answer(byte[] bytes) {
    Reader r = new Reader(null, bytes);
    Protocol.ReplicaAnswer m = readAnswer(r);
    r.end("RK");
    return m;
  }

  private static Writer writeBatch(Writer w, Protocol.Replicate m) {
    w.l(m.primary()).l(m.sender()).l(m.epoch()).l(m.firstSeq()).i(m.records().size());
    m.records().forEach(r -> writeRecord(w, r));
    return w;
  }

  /** A batch without its {@code replyTo} (null). */
  private static Protocol.Replicate readBatch(Reader r) {
    long primary = r.l();
    long sender = r.l();
    long epoch = r.l();
    long firstSeq = r.l();
    int n = r.i();
    if (n < 1 || n > MAX_RECORDS) {
      throw new IllegalArgumentException("malformed pekko-dsm message: " + n + " records");
    }
    r.require(12L * n); // the smallest record is 12 bytes
    List<ReplicaRecord> records = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      records.add(record(r));
    }
    return new Protocol.Replicate(primary, sender, epoch, firstSeq, records, null);
  }

  private static void writeAnswer(Writer w, Protocol.ReplicaAnswer m) {
    w.l(m.primary()).l(m.backup()).l(m.epoch()).l(m.upTo()).b(m.lost());
  }

  private static Protocol.ReplicaAnswer readAnswer(Reader r) {
    return new Protocol.ReplicaAnswer(r.l(), r.l(), r.l(), r.l(), r.b());
  }

  private static void census(Writer w, Protocol.CensusAnswer m) {
    w.l(m.primary()).l(m.from()).i(m.objects().length);
    for (int i = 0; i < m.objects().length; i++) {
      w.l(m.objects()[i]).i(m.colors()[i]).l(m.weights()[i]);
    }
  }

  private static Protocol.CensusAnswer census(Reader r) {
    long primary = r.l();
    long from = r.l();
    int n = r.i();
    if (n < 0 || n > 1 << 24) {
      throw new IllegalArgumentException("malformed pekko-dsm message: " + n + " holdings");
    }
    r.require(20L * n); // each holding is 20 bytes: nothing is allocated for bytes not there
    long[] objects = new long[n];
    int[] colors = new int[n];
    long[] weights = new long[n];
    for (int i = 0; i < n; i++) {
      objects[i] = r.l();
      colors[i] = r.i();
      weights[i] = r.positive();
    }
    return new Protocol.CensusAnswer(primary, from, objects, colors, weights);
  }

  private static void writeRecord(Writer w, ReplicaRecord record) {
    if (record instanceof ReplicaRecord.Begin b) {
      w.i(0).l(b.tokenHi()).l(b.tokenLo()).i(b.segmentBytes()).i(b.maxSegments()).i(b.syncCells());
    } else if (record instanceof ReplicaRecord.SlotWritten sw) {
      w.i(sw.space() == ReplicaRecord.ARENA ? 1 : 5)
          .l(sw.locator())
          .i(sw.capacity())
          .i(sw.length())
          .i(sw.offset())
          .bytes(sw.bytes());
    } else if (record instanceof ReplicaRecord.SlotFreed sf) {
      w.i(sf.space() == ReplicaRecord.ARENA ? 2 : 6).l(sf.locator());
    } else if (record instanceof ReplicaRecord.CellAllocated c) {
      w.i(7).l(c.cell()).i(c.kind()).l(c.object());
    } else if (record instanceof ReplicaRecord.CellFreed c) {
      w.i(8).l(c.cell());
    } else if (record instanceof ReplicaRecord.CellField c) {
      w.i(9).l(c.cell()).i(c.field()).l(c.value());
    } else if (record instanceof ReplicaRecord.Filed f) {
      w.i(3)
          .l(f.object())
          .i(f.kind().ordinal())
          .i(f.color())
          .l(f.locator())
          .i(f.frameBytes())
          .l(f.holder());
    } else if (record instanceof ReplicaRecord.Gone g) {
      w.i(4).l(g.object());
    } else if (record instanceof ReplicaRecord.CopyDone) {
      w.i(10);
    } else if (record instanceof ReplicaRecord.CellWordAgain c) {
      w.i(11).l(c.cell()).l(c.value());
    } else {
      throw new IllegalArgumentException("no wire format for " + record);
    }
  }

  private static ReplicaRecord record(Reader r) {
    int tag = r.i();
    return switch (tag) {
      case 0 -> new ReplicaRecord.Begin(r.l(), r.l(), r.i(), r.i(), r.i());
      case 1, 5 ->
          new ReplicaRecord.SlotWritten(
              tag == 1 ? ReplicaRecord.ARENA : ReplicaRecord.VALUES,
              r.l(),
              r.i(),
              r.i(),
              r.i(),
              r.bytes());
      case 2, 6 ->
          new ReplicaRecord.SlotFreed(tag == 2 ? ReplicaRecord.ARENA : ReplicaRecord.VALUES, r.l());
      case 7 -> new ReplicaRecord.CellAllocated(r.l(), r.i(), r.l());
      case 8 -> new ReplicaRecord.CellFreed(r.l());
      case 9 -> new ReplicaRecord.CellField(r.l(), r.i(), r.l());
      case 10 -> new ReplicaRecord.CopyDone();
      case 11 -> new ReplicaRecord.CellWordAgain(r.l(), r.l());
      case 3 ->
          new ReplicaRecord.Filed(
              r.l(), r.ordinal(ObjectKind.values(), "object kind"), r.i(), r.l(), r.i(), r.l());
      case 4 -> new ReplicaRecord.Gone(r.l());
      default -> throw new IllegalArgumentException("malformed pekko-dsm message: record " + tag);
    };
  }

  private static void writeEndpoint(Writer w, Protocol.EndpointInfo m) {
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
  }

  private static Protocol.EndpointInfo endpoint(Reader r) {
    long nodeId = r.l();
    long fingerprint = r.l();
    ArenaEndpoint arena = new ArenaEndpoint(r.l(), r.s(), r.l(), r.l(), r.i(), r.i());
    PeerEndpoint endpoint;
    try {
      endpoint = new PeerEndpoint(arena, r.s(), r.s(), r.i(), r.s(), r.i());
    } catch (NullPointerException e) {
      throw new IllegalArgumentException("malformed endpoint: " + e.getMessage(), e);
    }
    return new Protocol.EndpointInfo(nodeId, endpoint, fingerprint);
  }

  private static HomeReply.Refused refused(Reader r) {
    HomeReply.Reason reason = r.ordinal(HomeReply.Reason.values(), "reason");
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
    return new HomeReply.Refused(
        reason, detail, movedToNode, movedToObject, readers, Map.copyOf(lent));
  }

  private static String trim(String text, int maxChars) {
    if (text == null) {
      return "";
    }
    return text.length() > maxChars ? text.substring(0, maxChars) : text;
  }

  /** Writes little-endian fields into a growing buffer. */
  static final class Writer {
    private final ActorRefResolver resolver;
    private byte[] buf = new byte[64];
    private int pos;

    Writer(ActorRefResolver resolver) {
      this.resolver = resolver;
    }

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
      return s(resolver.toSerializationFormat(ref));
    }

    /** An actor ref that may be null (one-way requests have no {@code replyTo}). */
    Writer optionalRef(ActorRef<?> ref) {
      return ref == null ? s("") : ref(ref);
    }

    byte[] toBytes() {
      return Arrays.copyOf(buf, pos);
    }
  }

  /** Reads what a {@link Writer} wrote, checking every length against what is there. */
  static final class Reader {
    private final ActorRefResolver resolver;
    private final ByteBuffer b;

    Reader(ActorRefResolver resolver, byte[] bytes) {
      this.resolver = resolver;
      this.b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
    }

    /** Fails unless at least {@code n} bytes remain. */
    void require(long n) {
      if (n < 0 || b.remaining() < n) {
        throw new IllegalArgumentException(
            "malformed pekko-dsm message: needs " + n + " more bytes, has " + b.remaining());
      }
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

    <E extends Enum<E>> E ordinal(E[] values, String what) {
      int ordinal = i();
      if (ordinal < 0 || ordinal >= values.length) {
        throw new IllegalArgumentException("malformed pekko-dsm message: " + what + " " + ordinal);
      }
      return values[ordinal];
    }

    <T> ActorRef<T> ref() {
      return resolver.resolveActorRef(s());
    }

    /** An actor ref written by {@link Writer#optionalRef}: null if none was. */
    <T> ActorRef<T> optionalRef() {
      String s = s();
      return s.isEmpty() ? null : resolver.resolveActorRef(s);
    }

    void end(String manifest) {
      if (b.hasRemaining()) {
        throw new IllegalArgumentException(
            "malformed pekko-dsm message [" + manifest + "]: " + b.remaining() + " trailing bytes");
      }
    }
  }
}
