package dev.pekkodsm.benchmarks;

import dev.pekkodsm.serialization.ClassRegistry;
import dev.pekkodsm.serialization.internal.KryoPool;
import dev.pekkodsm.serialization.internal.Purpose;

/**
 * The value the benchmarks store: a record holding a byte array, registered with the DSM serializer
 * as a user class would be. Its serialized size is what the benchmarks vary.
 *
 * <p>The array is mutable; benchmarks change it only under a mutable borrow.
 *
 * @param bytes the content
 */
record Payload(byte[] bytes) {

  /** The id {@code Payload} is registered under on every node. */
  static final int REGISTRY_ID = 100;

  /** A registry holding {@code Payload}, as every node of a benchmark uses it. */
  static ClassRegistry registry() {
    return ClassRegistry.builder().register(Payload.class, REGISTRY_ID).build();
  }

  /** A payload of {@code lengthBytes} bytes of non-constant content. */
  static Payload ofLength(int lengthBytes) {
    byte[] bytes = new byte[lengthBytes];
    for (int i = 0; i < lengthBytes; i++) {
      bytes[i] = (byte) (i * 31 + 7);
    }
    return new Payload(bytes);
  }

  /**
   * A payload whose Kryo form (class id, reference marker, length prefix and bytes, as written for
   * a snapshot by {@code kryo}) is exactly {@code serializedBytes} long.
   *
   * @throws IllegalArgumentException if no array length gives exactly that size
   */
  static Payload withSerializedSize(KryoPool kryo, int serializedBytes) {
    int length = serializedBytes;
    for (int attempt = 0; attempt < 8 && length >= 0; attempt++) {
      Payload candidate = ofLength(length);
      int actual = kryo.toBytes(candidate, Purpose.SNAPSHOT).length;
      if (actual == serializedBytes) {
        return candidate;
      }
      length -= actual - serializedBytes;
    }
    throw new IllegalArgumentException(
        "no Payload serializes to exactly serializedBytes=" + serializedBytes + " bytes");
  }
}
