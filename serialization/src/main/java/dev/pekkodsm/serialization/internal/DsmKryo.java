package dev.pekkodsm.serialization.internal;

import com.esotericsoftware.kryo.Kryo;

/** A Kryo that knows the {@link Purpose} of the graph it is working on. Not thread-safe. */
public final class DsmKryo extends Kryo {
  private Purpose purpose = Purpose.MESSAGE;

  /** The purpose of the graph currently being written or read. */
  public Purpose purpose() {
    return purpose;
  }

  void purpose(Purpose purpose) {
    this.purpose = purpose;
  }
}
