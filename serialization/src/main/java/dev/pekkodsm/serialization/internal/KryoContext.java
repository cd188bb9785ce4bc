package dev.pekkodsm.serialization.internal;

import com.esotericsoftware.kryo.io.Output;

/**
 * A pooled Kryo with its reusable output and input. Owned by one thread between {@link
 * KryoPool#acquire()} and {@link KryoPool#release(KryoContext)}.
 */
public final class KryoContext {
  final DsmKryo kryo;
  Output output;
  final BoundedInput input = new BoundedInput();
  boolean broken;

  KryoContext(DsmKryo kryo, Output output) {
    this.kryo = kryo;
    this.output = output;
  }

  /** The Kryo; its purpose is set by the pool's read and write methods. */
  public DsmKryo kryo() {
    return kryo;
  }
}
