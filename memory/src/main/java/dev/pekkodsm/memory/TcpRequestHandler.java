package dev.pekkodsm.memory;

import static dev.pekkodsm.serialization.internal.SnapshotCodec.ANY_COLOR;

import dev.pekkodsm.serialization.DecodeStatus;
import dev.pekkodsm.serialization.internal.SnapshotCodec;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Answers the requests {@link TcpReadServer} has framed: reads of the arena's slots and one-sided
 * operations on the sync region (loads, compare-and-exchange, get-and-add, value writes and the
 * compound reads). The server accepts, authenticates, frames and flushes; this class only turns one
 * whole request into one reply, so each operation's wire format is readable in one place (see
 * {@code TcpWire}).
 *
 * <p>One per selector loop, confined to its thread: it caches the loop's views of the segments.
 * Replies are appended to the connection's {@link SlotReads.FrameSink}, which may replace its
 * buffer while a frame is copied, so every write after a copy goes to the sink's current buffer.
 */
final class TcpRequestHandler {

  private static final Logger log = LoggerFactory.getLogger(TcpRequestHandler.class);

  /** How long one request may spend retrying a slot a writer holds. */
  private static final long SERVE_BUDGET_NS = 5_000_000L;

  private final SnapshotArena arena;
  private final SyncRegion region; // null: no one-sided writes
  private final LongAdder served;
  private final LongAdder bytesServed;
  private final List<ByteBuffer> segments = new ArrayList<>();
  private final List<ByteBuffer> valueSegments = new ArrayList<>();
  private final ByteBuffer cells;
  private final Supplier<TcpReadServer.MessageHandler> messages;
  private final LongAdder messagesAnswered;

  TcpRequestHandler(
      SnapshotArena arena,
      SyncRegion region,
      LongAdder served,
      LongAdder bytesServed,
      LongAdder messagesAnswered,
      Supplier<TcpReadServer.MessageHandler> messages) {
    this.messagesAnswered = messagesAnswered;
    this.arena = arena;
    this.region = region;
    this.served = served;
    this.bytesServed = bytesServed;
    this.messages = messages;
    this.cells = region == null ? null : region.cells();
  }

  /**
   * Answers one request whose header ({@code opcode}, {@code arg}, {@code id}, {@code locator}) has
   * been read from {@code in}; its body, all buffered, is read from {@code in}'s position.
   */
  void handle(int opcode, int arg, long id, long locator, ByteBuffer in, Replies reply) {
    if (opcode == TcpWire.READ_OPCODE) {
      serve(id, locator, segment(SlotLayout.segment(locator)), arena, reply);
    } else if (opcode == TcpWire.READ_VALUE_OPCODE) {
      serve(
          id,
          locator,
          valueSegment(SlotLayout.segment(locator)),
          region == null ? arena : region.values(),
          reply);
    } else if (opcode == TcpWire.READ_ACTIVE_OPCODE) {
      serveActive(arg, id, locator, in, reply);
    } else if (opcode == TcpWire.EXCHANGE_READ_OPCODE) {
      serveExchangeRead(arg, id, locator, in, reply);
    } else if (opcode == TcpWire.MESSAGE_OPCODE) {
      serveMessage(arg, id, locator, in, reply);
    } else {
      operate(opcode, arg, id, locator, in, reply);
    }
  }

  /** Where a reply goes: the connection's buffer, now or, for a message, once answered. */
  interface Replies extends SlotReads.FrameSink {
    /** Sends the answer to request {@code id} once {@code answer} completes. */
    void later(long id, CompletableFuture<byte[]> answer);
  }

  /**
   * A message of {@code length} bytes on {@code channel}, answered by the node's handler: its
   * answer, now or once its future completes ({@link Replies#later}), or REFUSED if there is no
   * handler, or it refuses, fails, or answers more than a message's largest size.
   */
  private void serveMessage(int length, long id, long channel, ByteBuffer in, Replies reply) {
    byte[] body = new byte[length];
    in.get(body);
    TcpReadServer.MessageHandler handler = messages.get();
    CompletableFuture<byte[]> answer = null;
    if (handler != null) {
      try {
        answer = handler.answer(channel, body);
      } catch (RuntimeException e) {
        log.warn("the handler of channel {} failed on a message: {}", channel, e.toString());
      }
    }
    served.increment();
    if (answer != null && !answer.isDone()) {
      reply.later(id, answer);
      return;
    }
    answer(reply, id, answer);
  }

  /** Writes the answer to message {@code id}: the future's bytes, or REFUSED. */
  void answer(SlotReads.FrameSink reply, long id, CompletableFuture<byte[]> settled) {
    byte[] answer = null;
    if (settled != null && settled.isDone() && !settled.isCompletedExceptionally()) {
      answer = settled.join();
    }
    boolean refused = answer == null || answer.length > TcpWire.MAX_MESSAGE_BYTES;
    int replyBytes = refused ? 0 : answer.length;
    ByteBuffer out = reply.room(TcpWire.REPLY_HEADER_BYTES + replyBytes);
    out.putLong(id).putInt(refused ? TcpWire.REFUSED : TcpWire.COPIED).putInt(replyBytes);
    if (!refused) {
      out.put(answer);
      bytesServed.add(replyBytes);
      messagesAnswered.increment();
    }
  }

  /** The segment view for {@code index}, or null if the arena has no such segment. */
  private ByteBuffer segment(int index) {
    return cached(segments, arena, index);
  }

  /** The view of value segment {@code index} of the sync region, or null. */
  private ByteBuffer valueSegment(int index) {
    return region == null ? null : cached(valueSegments, region.values(), index);
  }

  private static ByteBuffer cached(List<ByteBuffer> views, SnapshotArena of, int index) {
    if (index < 0 || index >= of.settings().maxSegments()) {
      return null;
    }
    if (index < views.size()) {
      return views.get(index);
    }
    ByteBuffer segment = of.segment(index);
    if (segment == null) {
      return null;
    }
    while (views.size() < index) {
      views.add(of.segment(views.size()));
    }
    views.add(segment);
    return segment;
  }

  /** The sink's current buffer: a copy into it may have replaced it, keeping its content. */
  private static ByteBuffer out(SlotReads.FrameSink reply) {
    return reply.room(0);
  }

  /** A read of the slot at {@code locator} of {@code segment} (null if there is none). */
  private void serve(
      long id, long locator, ByteBuffer segment, SnapshotArena of, SlotReads.FrameSink reply) {
    ByteBuffer out = reply.room(TcpWire.REPLY_HEADER_BYTES);
    int header = out.position();
    out.position(header + TcpWire.REPLY_HEADER_BYTES);
    int copied =
        segment == null
            ? SlotReads.OUT_OF_RANGE
            : SlotReads.copyStable(
                segment,
                of.settings().segmentBytes(),
                SlotLayout.offset(locator),
                of.settings().maxFrameBytes(),
                reply,
                System.nanoTime() + SERVE_BUDGET_NS);
    served.increment();
    // the copy may have replaced the buffer: the header is written into the current one.
    out = out(reply);
    out.putLong(header, id);
    if (copied < 0) {
      out.putInt(
              header + 8, copied == SlotReads.CONTENDED ? TcpWire.CONTENDED : TcpWire.OUT_OF_RANGE)
          .putInt(header + 12, 0);
      return;
    }
    out.putInt(header + 8, TcpWire.COPIED).putInt(header + 12, copied);
    bytesServed.add(copied);
  }

  /**
   * The value a two-slot cell names, in one round trip: the cell's word, the color of the frame in
   * the slot bit {@code selectorBit} of the word selects, and a stable copy of that frame unless it
   * is the color the client has (see {@link SyncAccess#readActive}).
   */
  private void serveActive(
      int selectorBit, long id, long cell, ByteBuffer in, SlotReads.FrameSink reply) {
    long object = in.getLong();
    long known = in.getLong();
    ByteBuffer out = reply.room(TcpWire.REPLY_HEADER_BYTES + TcpWire.ACTIVE_PREFIX_BYTES);
    int header = skipHeader(out);
    int status = TcpWire.COPIED;
    int length = 0;
    try {
      long size = compoundRegionBytes(selectorBit);
      long word = CellOps.load(cells, size, cell, object, SyncLayout.WORD);
      long slot = CellOps.load(cells, size, cell, object, selected(word, selectorBit));
      out.putLong(word);
      int copied = appendSlot(slot, object, known, System.nanoTime() + SERVE_BUDGET_NS, reply);
      if (copied < 0) {
        status = -copied;
      } else {
        length = TcpWire.ACTIVE_PREFIX_BYTES + copied;
      }
    } catch (SyncFailedException e) {
      status = region == null ? TcpWire.NO_REGION : wireStatus(e.status());
    }
    finish(header, id, status, length, reply);
  }

  /**
   * The opening checks of a compound read: a region is served and the selector bit is one; the
   * bytes of the region's cells file.
   */
  private long compoundRegionBytes(int selectorBit) {
    if (region == null) {
      throw new SyncFailedException(SyncStatus.UNAVAILABLE, "no sync region");
    }
    checkBit(selectorBit);
    return region.fileBytes();
  }

  /** Leaves room for a reply's header, written by {@link #finish}; where it starts. */
  private static int skipHeader(ByteBuffer out) {
    int header = out.position();
    out.position(header + TcpWire.REPLY_HEADER_BYTES);
    return header;
  }

  /**
   * A lock and the value it guards, in one round trip: the exchange of a two-slot cell's word,
   * then, only if it happened, the slot bit {@code selectorBit} of the expected word selects read
   * as {@link #serveActive} reads it (see {@link SyncAccess#exchangeThenRead}). Once the word is
   * exchanged the reply is the witness whatever the read does: a failed read is a status in the
   * reply's body, never the reply's status, so the client always learns it holds the word.
   */
  private void serveExchangeRead(
      int selectorBit, long id, long cell, ByteBuffer in, SlotReads.FrameSink reply) {
    long object = in.getLong();
    long expected = in.getLong();
    long update = in.getLong();
    long known = in.getLong();
    ByteBuffer out = reply.room(TcpWire.REPLY_HEADER_BYTES + TcpWire.EXCHANGE_READ_PREFIX_BYTES);
    int header = skipHeader(out);
    int status = TcpWire.COPIED;
    int length = 0;
    try {
      long size = compoundRegionBytes(selectorBit);
      // Straight on the cell, as a peer over shm changes it, not through the region's change
      // reports: with a backup, peers change a word here only to take, give back or take back a
      // lock, which the backup does not hold; a commit or an atomic's change goes to the home
      // (HomeSync in pekko-dsm), which reports it.
      long witness =
          CellOps.compareAndExchange(cells, size, cell, object, SyncLayout.WORD, expected, update);
      int readStatusAt = out.position() + 8;
      out.putLong(witness).putLong(TcpWire.COPIED);
      length = TcpWire.EXCHANGE_READ_PREFIX_BYTES;
      if (witness != expected) {
        out.putLong(-1); // not exchanged: nothing read
      } else {
        int copied;
        try {
          long slot = CellOps.load(cells, size, cell, object, selected(expected, selectorBit));
          copied = appendSlot(slot, object, known, System.nanoTime() + SERVE_BUDGET_NS, reply);
        } catch (SyncFailedException e) { // the cell was freed since the exchange
          out(reply).putLong(-1);
          copied = -wireStatus(e.status());
        }
        if (copied < 0) {
          out(reply).putLong(readStatusAt, -copied); // the buffer may have grown meanwhile
        } else {
          length += copied;
        }
      }
    } catch (SyncFailedException e) {
      status = region == null ? TcpWire.NO_REGION : wireStatus(e.status());
    }
    finish(header, id, status, length, reply);
  }

  private static void checkBit(int selectorBit) {
    if (selectorBit < 0 || selectorBit > 63) {
      throw new SyncFailedException(SyncStatus.OUT_OF_RANGE, "no such bit");
    }
  }

  /** The locator field bit {@code selectorBit} of {@code word} selects. */
  private static int selected(long word, int selectorBit) {
    return ((word >>> selectorBit) & 1) == 0 ? SyncLayout.LOCATOR_A : SyncLayout.LOCATOR_B;
  }

  /**
   * Appends the color (i64) of {@code object}'s frame in the value slot at {@code slot}, -1 if it
   * holds none, then a stable copy of that frame unless its color is {@code known}.
   *
   * @return the frame bytes appended (0 for the known one), or the negated wire status of a copy
   *     that failed (nothing appended after the color)
   */
  private int appendSlot(
      long slot, long object, long known, long deadlineNs, SlotReads.FrameSink reply) {
    ByteBuffer segment = valueSegment(SlotLayout.segment(slot));
    int segmentBytes = region.values().settings().segmentBytes();
    long color =
        segment == null
            ? -1
            : SlotReads.peekColor(
                segment,
                segmentBytes,
                SlotLayout.offset(slot),
                arena.endpoint().node(),
                object,
                deadlineNs);
    out(reply).putLong(color);
    if (color >= 0 && color == known) {
      return 0;
    }
    int copied =
        segment == null
            ? SlotReads.OUT_OF_RANGE
            : SlotReads.copyStable(
                segment,
                segmentBytes,
                SlotLayout.offset(slot),
                region.values().settings().maxFrameBytes(),
                reply,
                deadlineNs);
    if (copied < 0) {
      return copied == SlotReads.CONTENDED ? -TcpWire.CONTENDED : -TcpWire.OUT_OF_RANGE;
    }
    bytesServed.add(copied);
    return copied;
  }

  /**
   * Completes a reply begun at {@code header} whose body was appended after it: a reply that is not
   * {@link TcpWire#COPIED} carries no body, so what was appended goes.
   */
  private void finish(int header, long id, int status, int length, SlotReads.FrameSink reply) {
    served.increment();
    // a copy may have replaced the buffer, keeping its content: the header is written into the
    // current one.
    ByteBuffer out = out(reply);
    if (status != TcpWire.COPIED) {
      length = 0;
      out.position(header + TcpWire.REPLY_HEADER_BYTES);
    }
    out.putLong(header, id).putInt(header + 8, status).putInt(header + 12, length);
  }

  private static int wireStatus(SyncStatus status) {
    return switch (status) {
      case NOT_THIS_OBJECT -> TcpWire.NOT_THIS_OBJECT;
      case TOO_LARGE -> TcpWire.TOO_LARGE;
      case CONTENDED -> TcpWire.CONTENDED;
      default -> TcpWire.OUT_OF_RANGE;
    };
  }

  /**
   * Refuses a write whose bytes are not one whole, intact frame of this node: a same-host writer is
   * trusted with the mapping, a remote one's bytes are checked before they replace a value (the
   * write itself checks that the slot holds the same object's value).
   */
  private void checkWrite(byte[] frame) {
    long node = arena.endpoint().node();
    long object = frame.length >= SnapshotCodec.HEADER_BYTES ? SnapshotCodec.object(frame, 0) : 0;
    DecodeStatus status =
        region.values().codec().verify(frame, 0, frame.length, node, object, ANY_COLOR);
    if (status != DecodeStatus.OK) {
      throw new SyncFailedException(
          SyncStatus.NOT_THIS_OBJECT, "the written bytes are not a frame of this node: " + status);
    }
  }

  /**
   * A one-sided operation on the sync region, done on the client's behalf: the atomic instruction a
   * same-host peer would use, or a seqlock write of a value slot.
   */
  private void operate(
      int opcode, int arg, long id, long locator, ByteBuffer in, SlotReads.FrameSink reply) {
    long result = 0;
    int status = TcpWire.COPIED;
    int replyBytes = 8;
    try {
      if (region == null) {
        status = TcpWire.NO_REGION;
        in.position(
            in.position() + TcpWire.bodyBytes(opcode, arg, arena.settings().maxFrameBytes()));
      } else if (opcode == TcpWire.WRITE_EXCHANGE_OPCODE) {
        long object = in.getLong();
        long field = in.getLong();
        long expected = in.getLong();
        long update = in.getLong();
        byte[] frame = new byte[arg];
        in.get(frame);
        checkWrite(frame);
        result =
            SyncAccess.writeThenExchangeStepwise(
                region,
                locator,
                object,
                field == SyncLayout.LOCATOR_A || field == SyncLayout.LOCATOR_B ? (int) field : -1,
                frame,
                arg,
                expected,
                update,
                System.nanoTime() + SERVE_BUDGET_NS);
      } else if (opcode == TcpWire.WRITE_VALUE_OPCODE) {
        byte[] frame = new byte[arg];
        in.get(frame);
        replyBytes = 0;
        checkWrite(frame);
        region.writeValue(locator, frame, arg, System.nanoTime() + SERVE_BUDGET_NS);
      } else if (opcode == TcpWire.PEEK_VALUE_OPCODE) {
        long object = in.getLong();
        ByteBuffer segment = valueSegment(SlotLayout.segment(locator));
        result =
            segment == null
                ? -1
                : SlotReads.peekColor(
                    segment,
                    region.values().settings().segmentBytes(),
                    SlotLayout.offset(locator),
                    arena.endpoint().node(),
                    object,
                    System.nanoTime() + SERVE_BUDGET_NS);
      } else {
        long object = in.getLong();
        long size = region.fileBytes();
        // Not through the region's change reports, as in serveExchangeRead: see there.
        result =
            switch (opcode) {
              case TcpWire.LOAD_OPCODE -> CellOps.load(cells, size, locator, object, arg);
              case TcpWire.EXCHANGE_OPCODE -> {
                long expected = in.getLong();
                long update = in.getLong();
                yield CellOps.compareAndExchange(
                    cells, size, locator, object, arg, expected, update);
              }
              default -> CellOps.getAndAdd(cells, size, locator, object, arg, in.getLong());
            };
      }
    } catch (SyncFailedException e) {
      status = wireStatus(e.status());
    }
    served.increment();
    int length = status == TcpWire.COPIED ? replyBytes : 0;
    ByteBuffer out = reply.room(TcpWire.REPLY_HEADER_BYTES + length);
    out.putLong(id).putInt(status).putInt(length);
    if (length == 8) {
      out.putLong(result);
    }
  }
}
