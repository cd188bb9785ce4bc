package dev.pekkodsm.memory.rdma;

import dev.pekkodsm.memory.ReadStatus;
import java.nio.ByteBuffer;

/** A channel whose first {@code readFirst} was posted already, chained after an exchange. */
final class FirstReadDone implements ReadChannel {
  private final SyncChannel channel;
  private boolean done;

  FirstReadDone(SyncChannel channel) {
    this.channel = channel;
  }

  @Override
  public ByteBuffer local() {
    return channel.local();
  }

  @Override
  public int dataBytes() {
    return channel.dataBytes();
  }

  @Override
  public ReadStatus readFirst(SegmentKey key, long slotOffset, int bodyBytes, long deadlineNs) {
    if (!done) {
      done = true;
      return ReadStatus.OK;
    }
    return channel.readFirst(key, slotOffset, bodyBytes, deadlineNs);
  }

  @Override
  public ReadStatus readMore(
      SegmentKey key,
      long offset,
      int bytes,
      boolean thenSequence,
      long slotOffset,
      long deadlineNs) {
    return channel.readMore(key, offset, bytes, thenSequence, slotOffset, deadlineNs);
  }
}
