package dev.pekkodsm.internal;

import dev.pekkodsm.DsmException;
import dev.pekkodsm.RemoteTaskException;
import dev.pekkodsm.coherence.GlobalAddress;
import dev.pekkodsm.coherence.NodeId;
import dev.pekkodsm.coherence.home.HomeReply;
import dev.pekkodsm.serialization.internal.KryoPool;
import dev.pekkodsm.serialization.internal.Purpose;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Tasks, functions and results as they travel: serialized with the DSM's Kryo at the call (so what
 * they capture moves with them, handles included), read back where they run, and let go of when
 * they are done or will never run.
 *
 * <p>Thread-safe.
 */
public final class Shipping {

  private static final Logger log = LoggerFactory.getLogger(Shipping.class);

  private final KryoPool kryo;
  private final HandleCodec handles;
  private final int maxBytes;

  /**
   * @param maxBytes the largest shipped task, function or result ({@code move.inline-limit})
   */
  Shipping(KryoPool kryo, HandleCodec handles, int maxBytes) {
    this.kryo = kryo;
    this.handles = handles;
    this.maxBytes = maxBytes;
  }

  /**
   * Serializes a task or a function to ship it (or to run it here exactly as if shipped): what it
   * captures moves with it, handles included.
   *
   * @throws IllegalArgumentException if it is not serializable, captures a value of an unregistered
   *     class, or is larger than {@code pekko.dsm.move.inline-limit}; nothing it captured has moved
   */
  public byte[] encode(Object fn, String what) {
    return encode(fn, what, false);
  }

  /**
   * {@link #encode} for a function that will run several times (once per chunk of a vector): the
   * same bytes are sent to each run, so it may not capture a handle.
   */
  public byte[] encodeForMany(Object fn, String what) {
    return encode(fn, what, true);
  }

  private byte[] encode(Object fn, String what, boolean many) {
    Objects.requireNonNull(fn, what);
    HandleCodec.Scope scope = handles.openScope();
    byte[] bytes;
    try {
      bytes = kryo.toBytes(fn, Purpose.MOVE);
    } catch (RuntimeException e) {
      scope.rollback();
      throw new IllegalArgumentException("cannot ship " + what + ": " + e.getMessage(), e);
    }
    if (many && scope.touchedHandles()) {
      scope.rollback();
      throw new IllegalArgumentException(
          what
              + " runs once per chunk and so cannot capture a handle (it would move with the"
              + " first run only): capture values, or read the handle before the call");
    }
    if (bytes.length > maxBytes) {
      scope.rollback();
      throw new IllegalArgumentException(
          what
              + " serializes to "
              + bytes.length
              + " bytes, above pekko.dsm.move.inline-limit ("
              + maxBytes
              + "): capture a DArc or DBox of large data, not the data");
    }
    scope.commit();
    return bytes;
  }

  /** A shipped task or function, read back, and how to let go of the handles it carried. */
  record Shipped(Object value, HandleCodec.Scope scope) {
    /** The run is over: what it carried and did not send on or return is let go of here. */
    void done() {
      scope.releaseImported();
    }
  }

  /**
   * Deserializes a task or function to run it. Like a Rust closure that owns what it captured, the
   * handles it carried are dropped or released by {@link Shipped#done} when the run is over, unless
   * the run sent them on or returned them.
   */
  Shipped decode(byte[] bytes) {
    HandleCodec.Scope scope = handles.openScope();
    try {
      Object value = kryo.fromBytes(bytes, 0, bytes.length, Purpose.MOVE);
      scope.commit();
      return new Shipped(value, scope);
    } catch (RuntimeException e) {
      scope.rollback();
      throw e;
    }
  }

  /**
   * A task, function or result that was serialized but will never run or be read (its target
   * refused it, it never left, its caller gave up): the handles it carried are let go of here, as
   * if it had run and returned nothing.
   */
  public void discard(byte[] bytes) {
    try {
      decode(bytes).done();
    } catch (RuntimeException e) {
      log.debug("a shipment that will not be used could not be read to let go of its handles", e);
    }
  }

  /** A result nobody will read: the handles in it are let go of here. */
  void discard(HomeReply.TaskResult r) {
    if (!r.failed() && r.result().length > 0) {
      discard(r.result());
    }
  }

  /** A task's answer: its serialized result, or its error as text; {@code load} for placement. */
  HomeReply.TaskResult outcome(Object result, Throwable error, int load) {
    byte[] bytes = new byte[0];
    if (error == null && result != null) {
      try {
        bytes = encode(result, "the task's result");
      } catch (IllegalArgumentException e) {
        error = e;
      }
    }
    if (error == null) {
      return new HomeReply.TaskResult(bytes, "", "", "", 0, 0, 0, 0, load);
    }
    return new HomeReply.TaskResult(
        new byte[0],
        error.getClass().getName(),
        error.getMessage() == null ? "" : error.getMessage(),
        trace(error),
        0,
        0,
        0,
        0,
        load);
  }

  /** A throwable's stack trace as text, for the wire. */
  static String trace(Throwable error) {
    StringWriter trace = new StringWriter();
    error.printStackTrace(new PrintWriter(trace));
    return trace.toString();
  }

  /**
   * The value of a task's answer, deserialized here (handles it carried arrive here), or the task's
   * error as {@link RemoteTaskException}.
   */
  public Object value(NodeId ranOn, GlobalAddress at, HomeReply.TaskResult r) {
    if (r.failed()) {
      throw new RemoteTaskException(ranOn, at, r.errorType(), r.errorMessage(), r.errorTrace());
    }
    if (r.result().length == 0) {
      return null;
    }
    HandleCodec.Scope scope = handles.openScope();
    try {
      Object value = kryo.fromBytes(r.result(), 0, r.result().length, Purpose.MOVE);
      scope.commit();
      return value;
    } catch (RuntimeException e) {
      scope.rollback();
      throw new DsmException(
          at, "the result of a task on " + ranOn + " cannot be read here: " + e.getMessage(), e);
    }
  }
}
