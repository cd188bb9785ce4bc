package dev.pekkodsm.serialization;

import dev.pekkodsm.serialization.internal.Builtins;
import java.nio.charset.StandardCharsets;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.zip.CRC32C;

/**
 * The explicit, immutable list of user classes that may travel through the DSM, each with a stable
 * numeric id.
 *
 * <p>Every node of a cluster must be built with the same registry: the id is what goes on the wire,
 * not the class name. Nodes compare {@link #fingerprint()} when they first meet and refuse to read
 * each other's snapshots if they differ.
 *
 * <p>Ids below {@link #FIRST_USER_ID} belong to the project: the JDK's common value types (see
 * {@link #isBuiltin(Class)}) and the DSM's own handle types. Thread-safe (immutable).
 */
public final class ClassRegistry {

  /** The smallest id a user class may have. */
  public static final int FIRST_USER_ID = 100;

  /** The largest id a user class may have. */
  public static final int LAST_USER_ID = 1_000_000;

  private static final ClassRegistry EMPTY = new ClassRegistry(new TreeMap<>());

  private final Map<Integer, Class<?>> byId;
  private final long fingerprint;

  private ClassRegistry(TreeMap<Integer, Class<?>> byId) {
    this.byId = Collections.unmodifiableMap(new LinkedHashMap<>(byId));
    this.fingerprint = computeFingerprint(byId);
  }

  /** A registry with no user classes: only the built-in JDK value types travel. */
  public static ClassRegistry empty() {
    return EMPTY;
  }

  /** A builder for a registry. */
  public static Builder builder() {
    return new Builder();
  }

  /** User classes by id, in ascending id order. */
  public Map<Integer, Class<?>> userClasses() {
    return byId;
  }

  /** True if {@code type} is one of the JDK value types the DSM registers itself. */
  public static boolean isBuiltin(Class<?> type) {
    return Builtins.idOf(type) >= 0;
  }

  /**
   * A 64-bit digest of the built-in table and every user registration (id and class name). Two
   * nodes can exchange data only if their fingerprints are equal.
   */
  public long fingerprint() {
    return fingerprint;
  }

  /** A builder extended with this registry's classes. */
  public Builder toBuilder() {
    Builder b = new Builder();
    byId.forEach((id, type) -> b.register(type, id));
    return b;
  }

  private static long computeFingerprint(TreeMap<Integer, Class<?>> byId) {
    CRC32C low = new CRC32C();
    CRC32C high = new CRC32C();
    StringBuilder text = new StringBuilder("builtins=").append(Builtins.VERSION).append('\n');
    byId.forEach((id, type) -> text.append(id).append('=').append(type.getName()).append('\n'));
    byte[] bytes = text.toString().getBytes(StandardCharsets.UTF_8);
    low.update(bytes);
    high.update(bytes.length);
    high.update(bytes);
    return (high.getValue() << 32) | low.getValue();
  }

  @Override
  public String toString() {
    return "ClassRegistry" + byId + " fingerprint=" + Long.toHexString(fingerprint);
  }

  /** Collects registrations; validates each as it is added. Not thread-safe. */
  public static final class Builder {
    private final TreeMap<Integer, Class<?>> byId = new TreeMap<>();
    private final Map<Class<?>, Integer> byClass = new LinkedHashMap<>();

    private Builder() {}

    /**
     * Registers {@code type} under {@code id}.
     *
     * @throws IllegalArgumentException if the id is outside [{@value #FIRST_USER_ID}, {@value
     *     #LAST_USER_ID}], already taken by another class, the class is already registered under
     *     another id, or the class is a built-in, a primitive, an interface or abstract
     */
    public Builder register(Class<?> type, int id) {
      Objects.requireNonNull(type, "type");
      if (id < FIRST_USER_ID || id > LAST_USER_ID) {
        throw new IllegalArgumentException(
            "id="
                + id
                + " for "
                + type.getName()
                + " is outside ["
                + FIRST_USER_ID
                + ", "
                + LAST_USER_ID
                + "]; ids below "
                + FIRST_USER_ID
                + " are reserved for the DSM's built-in types");
      }
      if (type.isPrimitive() || isBuiltin(type)) {
        throw new IllegalArgumentException(
            type.getName() + " is registered by the DSM itself; remove it from the registry");
      }
      if (type.isInterface()
          || (java.lang.reflect.Modifier.isAbstract(type.getModifiers())
              && !type.isArray()
              && !type.isEnum())) {
        throw new IllegalArgumentException(
            type.getName()
                + " is abstract or an interface; register the concrete classes that are sent");
      }
      Class<?> previous = byId.get(id);
      if (previous != null && previous != type) {
        throw new IllegalArgumentException(
            "id="
                + id
                + " is already taken by "
                + previous.getName()
                + "; cannot give it to "
                + type.getName());
      }
      Integer previousId = byClass.get(type);
      if (previousId != null && previousId != id) {
        throw new IllegalArgumentException(
            type.getName()
                + " is already registered as id="
                + previousId
                + "; cannot also be id="
                + id);
      }
      byId.put(id, type);
      byClass.put(type, id);
      return this;
    }

    /** Adds every registration of {@code other}. */
    public Builder registerAll(ClassRegistry other) {
      other.userClasses().forEach((id, type) -> register(type, id));
      return this;
    }

    /** The immutable registry. */
    public ClassRegistry build() {
      return byId.isEmpty() ? EMPTY : new ClassRegistry(byId);
    }
  }
}
