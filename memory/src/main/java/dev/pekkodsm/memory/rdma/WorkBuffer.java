package dev.pekkodsm.memory.rdma;

import static dev.pekkodsm.memory.rdma.WorkRequests.sendWr;
import static dev.pekkodsm.memory.rdma.WorkRequests.sge;

import com.ibm.disni.verbs.IbvSendWR;
import com.ibm.disni.verbs.SVCPostSend;
import dev.pekkodsm.memory.ReadStatus;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;

/**
 * One registered local buffer of a {@link ReaderConnection} and the prepared work-request chains
 * that fill it or send from it: the reads of a slot, and the writes and atomics of the sync
 * operations. Owned by one thread between acquisition and release (see {@link CompletionSlot}).
 */
final class WorkBuffer extends CompletionSlot implements SyncChannel {

  /** How the connection prepares a chain of work requests as a reusable post-send call. */
  @FunctionalInterface
  interface Preparer {
    SVCPostSend prepare(List<IbvSendWR> chain) throws IOException;
  }

  final ByteBuffer local;
  final long address;
  private final ReaderConnection connection;
  private SVCPostSend first;
  private SVCPostSend chunk;
  private SVCPostSend tail;
  private SVCPostSend write;
  private SVCPostSend cas;
  private SVCPostSend faa;
  private SVCPostSend casFirst;
  private AtomicOperands casOperands;
  private AtomicOperands faaOperands;
  private AtomicOperands casFirstOperands;

  WorkBuffer(int index, ByteBuffer local, long address, ReaderConnection connection) {
    super(index, connection);
    this.local = local.order(ByteOrder.LITTLE_ENDIAN);
    this.address = address;
    this.connection = connection;
  }

  @Override
  void recycle() {
    connection.recycle(this);
  }

  /**
   * Builds the chains once; an operation only rewrites remote addresses, keys and lengths in them.
   * All work requests of a chain carry this buffer's id; only the last is signaled (a failed one
   * completes anyway, and the queue pair then fails the rest).
   */
  void prepare(int lkey, Preparer preparer) throws IOException {
    long id = RdmaWire.workRequestId(RdmaWire.KIND_READ, index);
    int read = IbvSendWR.IBV_WR_RDMA_READ;
    int fence = IbvSendWR.IBV_SEND_FENCE;
    int signaled = IbvSendWR.IBV_SEND_SIGNALED;
    long data = address + RemoteSlotRead.DATA;
    long before = address + RemoteSlotRead.SEQ_BEFORE;
    long after = address + RemoteSlotRead.SEQ_AFTER;
    int dataBytes = dataBytes();
    first =
        preparer.prepare(
            List.of(
                sendWr(id, read, 0, sge(before, 8, lkey)),
                sendWr(id, read, fence, sge(data, dataBytes, lkey)),
                sendWr(id, read, fence | signaled, sge(after, 8, lkey))));
    chunk = preparer.prepare(List.of(sendWr(id, read, signaled, sge(data, dataBytes, lkey))));
    tail =
        preparer.prepare(
            List.of(
                sendWr(id, read, 0, sge(data, dataBytes, lkey)),
                sendWr(id, read, fence | signaled, sge(after, 8, lkey))));
    write =
        preparer.prepare(
            List.of(sendWr(id, IbvSendWR.IBV_WR_RDMA_WRITE, signaled, sge(data, dataBytes, lkey))));
  }

  /**
   * Builds the chains of the atomics, whose operands {@link AtomicOperands} writes.
   *
   * @throws IOException if this DiSNI's work requests cannot carry atomic operands
   */
  void prepareAtomics(int lkey, Preparer preparer) throws IOException {
    long id = RdmaWire.workRequestId(RdmaWire.KIND_READ, index);
    int read = IbvSendWR.IBV_WR_RDMA_READ;
    int fence = IbvSendWR.IBV_SEND_FENCE;
    int signaled = IbvSendWR.IBV_SEND_SIGNALED;
    long result = address + RemoteSlotRead.RESULT;
    cas = preparer.prepare(List.of(SyncWorkRequests.compareAndSwap(id, signaled, result, lkey)));
    casOperands = AtomicOperands.of(cas, 1);
    faa = preparer.prepare(List.of(SyncWorkRequests.fetchAndAdd(id, signaled, result, lkey)));
    faaOperands = AtomicOperands.of(faa, 1);
    // The reads wait for the exchange (IBV_SEND_FENCE): they see the word's new holder's slot.
    casFirst =
        preparer.prepare(
            List.of(
                SyncWorkRequests.compareAndSwap(id, 0, result, lkey),
                sendWr(id, read, fence, sge(address + RemoteSlotRead.SEQ_BEFORE, 8, lkey)),
                sendWr(id, read, fence, sge(address + RemoteSlotRead.DATA, dataBytes(), lkey)),
                sendWr(
                    id, read, fence | signaled, sge(address + RemoteSlotRead.SEQ_AFTER, 8, lkey))));
    casFirstOperands = AtomicOperands.of(casFirst, 4);
  }

  @Override
  public ByteBuffer local() {
    return local;
  }

  @Override
  public int dataBytes() {
    return local.capacity() - RemoteSlotRead.DATA;
  }

  @Override
  public ReadStatus readFirst(SegmentKey key, long slotOffset, int bodyBytes, long deadlineNs) {
    long remote = key.address() + slotOffset;
    try {
      target(first, 0, remote, key.rkey());
      target(first, 1, remote + RemoteSlotRead.BODY_OFFSET, key.rkey());
      first.getWrMod(1).getSgeMod(0).setLength(bodyBytes);
      target(first, 2, remote, key.rkey());
    } catch (IOException e) {
      connection.markBroken("cannot prepare an RDMA read: " + e.getMessage());
      return ReadStatus.UNAVAILABLE;
    }
    return post(first::execute, deadlineNs);
  }

  @Override
  public ReadStatus readMore(
      SegmentKey key,
      long offset,
      int bytes,
      boolean thenSequence,
      long slotOffset,
      long deadlineNs) {
    SVCPostSend call = thenSequence ? tail : chunk;
    try {
      target(call, 0, key.address() + offset, key.rkey());
      call.getWrMod(0).getSgeMod(0).setLength(bytes);
      if (thenSequence) {
        target(call, 1, key.address() + slotOffset, key.rkey());
      }
    } catch (IOException e) {
      connection.markBroken("cannot prepare an RDMA read: " + e.getMessage());
      return ReadStatus.UNAVAILABLE;
    }
    return post(call::execute, deadlineNs);
  }

  @Override
  public ReadStatus read(SegmentKey key, long offset, int bytes, long deadlineNs) {
    return readMore(key, offset, bytes, false, 0, deadlineNs);
  }

  @Override
  public ReadStatus write(SegmentKey key, long offset, int bytes, long deadlineNs) {
    try {
      target(write, 0, key.address() + offset, key.rkey());
      write.getWrMod(0).getSgeMod(0).setLength(bytes);
    } catch (IOException e) {
      connection.markBroken("cannot prepare an RDMA write: " + e.getMessage());
      return ReadStatus.UNAVAILABLE;
    }
    return post(write::execute, deadlineNs);
  }

  @Override
  public ReadStatus compareAndSwap(
      SegmentKey key, long offset, long expected, long swap, long deadlineNs) {
    casOperands.set(0, key.address() + offset, key.rkey(), expected, swap);
    return post(cas::execute, deadlineNs);
  }

  @Override
  public ReadStatus fetchAndAdd(SegmentKey key, long offset, long delta, long deadlineNs) {
    faaOperands.set(0, key.address() + offset, key.rkey(), delta, 0);
    return post(faa::execute, deadlineNs);
  }

  @Override
  public ReadStatus compareAndSwapThenReadFirst(
      SegmentKey key,
      long offset,
      long expected,
      long swap,
      SegmentKey slots,
      long slotOffset,
      int bodyBytes,
      long deadlineNs) {
    casFirstOperands.set(0, key.address() + offset, key.rkey(), expected, swap);
    long remote = slots.address() + slotOffset;
    try {
      target(casFirst, 1, remote, slots.rkey());
      target(casFirst, 2, remote + RemoteSlotRead.BODY_OFFSET, slots.rkey());
      casFirst.getWrMod(2).getSgeMod(0).setLength(bodyBytes);
      target(casFirst, 3, remote, slots.rkey());
    } catch (IOException e) {
      connection.markBroken("cannot prepare an RDMA read: " + e.getMessage());
      return ReadStatus.UNAVAILABLE;
    }
    return post(casFirst::execute, deadlineNs);
  }

  private static void target(SVCPostSend call, int wr, long remoteAddress, int rkey)
      throws IOException {
    SVCPostSend.RdmaMod rdma = call.getWrMod(wr).getRdmaMod();
    rdma.setRemote_addr(remoteAddress);
    rdma.setRkey(rkey);
  }
}
