package dev.pekkodsm.serialization.internal;

/**
 * A pooled Kryo with its reusable output and input. Owned by one thread between {@link
 * KryoPool#acquire()} and {@link KryoPool#release(KryoContext)}.
 *
 * <p>The output and input are a pair by type: {@link BulkOutput} writes {@code int[]} and {@code
 * long[]} at fixed width where plain Kryo writes varints, and only {@link BoundedInput} reads that.
 */
public final class KryoContext {
  final DsmKryo kryo;
  BulkOutput output;
  final BoundedInput input = new BoundedInput();
  boolean broken;

  KryoContext(DsmKryo kryo, BulkOutput output) {
    this.kryo = kryo;
    this.output = output;
  }

  /** The Kryo; its purpose is set by the pool's read and write methods. */
  public DsmKryo kryo() {
    return kryo;
  }
}
