package dev.pekkodsm.serialization.internal;

import com.esotericsoftware.kryo.Kryo;
import com.esotericsoftware.kryo.Registration;
import com.esotericsoftware.kryo.Serializer;
import java.util.ArrayList;
import java.util.List;

/**
 * A Kryo that knows the {@link Purpose} of the graph it is working on, and that can register a
 * serializer for a whole type hierarchy: every implementation of a registered base type (say,
 * Pekko's {@code ActorRef}, whose implementations are internal classes) is written under the base
 * type's id. Not thread-safe.
 */
public final class DsmKryo extends Kryo {
  private Purpose purpose = Purpose.MESSAGE;
  private final List<Class<?>> bases = new ArrayList<>(2);

  /** The purpose of the graph currently being written or read. */
  public Purpose purpose() {
    return purpose;
  }

  void purpose(Purpose purpose) {
    this.purpose = purpose;
  }

  /**
   * Registers {@code serializer} for {@code base} and every subtype of it that is not registered
   * itself. The serializer's {@code read} receives {@code base} as the type.
   */
  public <T> void registerHierarchy(Class<T> base, Serializer<? extends T> serializer, int id) {
    register(base, serializer, id);
    bases.add(base);
  }

  @Override
  public Registration getRegistration(@SuppressWarnings("rawtypes") Class type) {
    Registration exact = getClassResolver().getRegistration(type);
    if (exact != null) {
      return exact;
    }
    for (Class<?> base : bases) {
      if (base.isAssignableFrom(type)) {
        return getClassResolver().getRegistration(base);
      }
    }
    return super.getRegistration(type);
  }
}
