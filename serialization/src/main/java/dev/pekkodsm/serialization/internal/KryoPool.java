package dev.pekkodsm.serialization.internal;

import com.esotericsoftware.kryo.Kryo;
import com.esotericsoftware.kryo.KryoException;
import com.esotericsoftware.kryo.io.KryoBufferOverflowException;
import com.esotericsoftware.kryo.util.DefaultInstantiatorStrategy;
import com.esotericsoftware.kryo.util.Pool;
import dev.pekkodsm.serialization.ClassRegistry;
import dev.pekkodsm.serialization.DecodeStatus;
import dev.pekkodsm.serialization.SerializationSettings;
import dev.pekkodsm.serialization.SnapshotFormatException;
import dev.pekkodsm.serialization.UnregisteredClassException;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashSet;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Consumer;
import org.objenesis.strategy.StdInstantiatorStrategy;

/**
 * A thread-safe pool of configured Kryo instances for one node: registration required, the built-in
 * table plus the user {@link ClassRegistry}, bounded decoding, a maximum graph depth.
 *
 * <p>Every instance writes through a {@link BulkOutput} and reads through a {@link BoundedInput}
 * ({@code int[]} and {@code long[]} at fixed width), so snapshots, moved values, messages and tasks
 * all use the one format.
 *
 * <p>Each node owns its own pool (no state is shared between nodes in one JVM). Instances that
 * failed mid-graph are discarded rather than returned, so one bad input cannot poison the next.
 */
public final class KryoPool {

  private static final int INITIAL_OUTPUT_BYTES = 4096;
  private static final int RETAINED_OUTPUT_BYTES = 1 << 20;
  private static final String UNREGISTERED_PREFIX = "Class is not registered: ";

  private final ClassRegistry registry;
  private final SerializationSettings settings;
  private final Consumer<Kryo> customizer;
  private final String registrationHint;
  private final Pool<KryoContext> pool;
  private final KryoContext probe;
  private final ClassValue<Optional<Class<?>>> unregistered =
      new ClassValue<>() {
        @Override
        protected Optional<Class<?>> computeValue(Class<?> type) {
          synchronized (probe) {
            return Optional.ofNullable(findUnregistered(type, new HashSet<>()));
          }
        }
      };

  /**
   * @param registry the user classes
   * @param settings limits
   * @param customizer registers extra serializers (the DSM's handle types, ids 90-99) on every new
   *     instance; may be a no-op
   * @param registrationHint appended to "class X is not registered" errors, telling the user how to
   *     register it
   */
  public KryoPool(
      ClassRegistry registry,
      SerializationSettings settings,
      Consumer<Kryo> customizer,
      String registrationHint) {
    this.registry = registry;
    this.settings = settings;
    this.customizer = customizer;
    this.registrationHint = registrationHint;
    this.pool =
        new Pool<>(true, false, settings.poolSize()) {
          @Override
          protected KryoContext create() {
            return newContext();
          }
        };
    this.probe = newContext();
  }

  private KryoContext newContext() {
    DsmKryo kryo = new DsmKryo();
    kryo.setRegistrationRequired(true);
    kryo.setReferences(settings.references());
    kryo.setMaxDepth(settings.maxDepth());
    kryo.setInstantiatorStrategy(new DefaultInstantiatorStrategy(new StdInstantiatorStrategy()));
    // User-registered collection and map classes get the bounded serializers too.
    kryo.addDefaultSerializer(Collection.class, BoundedSerializers.CollectionSerializer.class);
    kryo.addDefaultSerializer(Map.class, BoundedSerializers.MapSerializer.class);
    kryo.addDefaultSerializer(Object[].class, BoundedSerializers.ObjectArraySerializer.class);
    Builtins.registerAll(kryo);
    for (Map.Entry<Integer, Class<?>> e : registry.userClasses().entrySet()) {
      kryo.register(e.getValue(), e.getKey());
    }
    customizer.accept(kryo);
    return new KryoContext(kryo, newOutput());
  }

  private BulkOutput newOutput() {
    int limit = outputLimit();
    return new BulkOutput(Math.min(INITIAL_OUTPUT_BYTES, limit), limit);
  }

  private int outputLimit() {
    return settings.maxSnapshotBytes() + SnapshotCodec.HEADER_BYTES;
  }

  /** The limits this pool enforces. */
  public SerializationSettings settings() {
    return settings;
  }

  /** The user registrations. */
  public ClassRegistry registry() {
    return registry;
  }

  /** Takes an instance for the calling thread; give it back with {@link #release}. */
  public KryoContext acquire() {
    return pool.obtain();
  }

  /** Returns an instance; broken instances and oversized buffers are dropped. */
  public void release(KryoContext ctx) {
    if (ctx.broken) {
      return;
    }
    if (ctx.output.getBuffer().length > RETAINED_OUTPUT_BYTES) {
      ctx.output = newOutput();
    }
    ctx.kryo.purpose(Purpose.MESSAGE);
    pool.free(ctx);
  }

  /**
   * Writes {@code value} (class and object) into the context's output, after {@code headroom}
   * reserved bytes. Returns the output buffer; the payload ends at {@link #position(KryoContext)}.
   *
   * @throws UnregisteredClassException if the graph contains an unregistered class
   * @throws IllegalArgumentException if the payload would exceed the configured maximum
   */
  public byte[] write(KryoContext ctx, Object value, Purpose purpose, int headroom) {
    BulkOutput out = ctx.output;
    out.reset();
    out.setPosition(headroom);
    ctx.kryo.purpose(purpose);
    try {
      ctx.kryo.writeClassAndObject(out, value);
      return out.getBuffer();
    } catch (RuntimeException e) {
      ctx.broken = true;
      throw translateWriteFailure(value, e);
    } catch (StackOverflowError e) {
      ctx.broken = true;
      throw new IllegalArgumentException(
          "value of " + value.getClass().getName() + " is too deep to serialize", e);
    }
  }

  /** The end of what the last {@link #write} produced. */
  public int position(KryoContext ctx) {
    return ctx.output.position();
  }

  /**
   * Reads one object (class and object) from {@code bytes[offset, offset + length)}. The bytes must
   * already have passed any integrity check the caller has; this still bounds every length.
   *
   * @throws SnapshotFormatException with {@link DecodeStatus#UNKNOWN_CLASS} or {@link
   *     DecodeStatus#MALFORMED}
   */
  public Object read(KryoContext ctx, byte[] bytes, int offset, int length, Purpose purpose) {
    BoundedInput in = ctx.input;
    in.setBuffer(bytes, offset, length);
    ctx.kryo.purpose(purpose);
    try {
      Object value = ctx.kryo.readClassAndObject(in);
      if (in.position() != offset + length) {
        throw new SnapshotFormatException(
            DecodeStatus.MALFORMED,
            (offset + length - in.position()) + " trailing bytes after the value");
      }
      return value;
    } catch (SnapshotFormatException e) {
      ctx.broken = true;
      throw e;
    } catch (KryoException e) {
      ctx.broken = true;
      String message = String.valueOf(e.getMessage());
      DecodeStatus status =
          message.contains("unregistered class ID") || message.contains("Unable to find class")
              ? DecodeStatus.UNKNOWN_CLASS
              : DecodeStatus.MALFORMED;
      throw new SnapshotFormatException(status, firstLine(message), e);
    } catch (RuntimeException | StackOverflowError e) {
      ctx.broken = true;
      throw new SnapshotFormatException(DecodeStatus.MALFORMED, String.valueOf(e), e);
    } finally {
      in.setBuffer(EMPTY);
    }
  }

  private static final byte[] EMPTY = new byte[0];

  /** Serializes {@code value} to a new array of exactly its size. */
  public byte[] toBytes(Object value, Purpose purpose) {
    KryoContext ctx = acquire();
    try {
      byte[] buffer = write(ctx, value, purpose, 0);
      return Arrays.copyOf(buffer, position(ctx));
    } finally {
      release(ctx);
    }
  }

  /** Deserializes one object from exactly {@code bytes[offset, offset + length)}. */
  public Object fromBytes(byte[] bytes, int offset, int length, Purpose purpose) {
    KryoContext ctx = acquire();
    try {
      return read(ctx, bytes, offset, length, purpose);
    } finally {
      release(ctx);
    }
  }

  /**
   * The first class reachable from {@code type} through fields whose declared type is exact (final
   * classes, records, enums, arrays of those) that is not registered, or {@code null}. Fields of
   * open types are checked when a value is written. Cached per class.
   */
  public Class<?> firstUnregisteredClass(Class<?> type) {
    return unregistered.get(type).orElse(null);
  }

  private Class<?> findUnregistered(Class<?> type, Set<Class<?>> seen) {
    if (type.isPrimitive() || !seen.add(type)) {
      return null;
    }
    if (type.isArray()) {
      Class<?> component = type.getComponentType();
      if (probe.kryo.getClassResolver().getRegistration(type) == null) {
        return type;
      }
      return isExact(component) ? findUnregistered(component, seen) : null;
    }
    Class<?> named =
        type.isAnonymousClass() && type.getSuperclass().isEnum() ? type.getSuperclass() : type;
    if (probe.kryo.getClassResolver().getRegistration(named) == null) {
      return named;
    }
    if (ClassRegistry.isBuiltin(named) || named.getName().startsWith("java.")) {
      return null;
    }
    for (Class<?> c = named; c != null && c != Object.class; c = c.getSuperclass()) {
      for (Field f : c.getDeclaredFields()) {
        int m = f.getModifiers();
        if (Modifier.isStatic(m) || Modifier.isTransient(m)) {
          continue;
        }
        Class<?> fieldType = f.getType();
        if (isExact(fieldType)) {
          Class<?> missing = findUnregistered(fieldType, seen);
          if (missing != null) {
            return missing;
          }
        }
      }
    }
    return null;
  }

  private static boolean isExact(Class<?> type) {
    if (type.isPrimitive()) {
      return false;
    }
    if (type.isArray()) {
      Class<?> c = type.getComponentType();
      return c.isPrimitive() || isExact(c);
    }
    return Modifier.isFinal(type.getModifiers()) || type.isEnum() || type.isRecord();
  }

  private RuntimeException translateWriteFailure(Object value, RuntimeException e) {
    if (e instanceof KryoBufferOverflowException
        || hasCause(e, KryoBufferOverflowException.class)) {
      return new IllegalArgumentException(
          "value of "
              + value.getClass().getName()
              + " serializes to more than the maximum of "
              + settings.maxSnapshotBytes()
              + " bytes; raise pekko.dsm.serialization.max-snapshot-size or split the value",
          e);
    }
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof UnregisteredClassException u) {
        return u;
      }
      if (t instanceof IllegalArgumentException
          && t.getMessage() != null
          && t.getMessage().startsWith(UNREGISTERED_PREFIX)) {
        String name = firstLine(t.getMessage().substring(UNREGISTERED_PREFIX.length())).trim();
        return new UnregisteredClassException(
            name,
            "class "
                + name
                + " (in a value of "
                + value.getClass().getName()
                + ") is not registered with the DSM serializer; "
                + registrationHint,
            e);
      }
    }
    // A failure of our own (a handle refusing to be written, say) keeps its type; Kryo's
    // wrapper carries the field trace and is kept as suppressed.
    for (Throwable t = e.getCause(); t != null; t = t.getCause()) {
      if (t instanceof RuntimeException r && !(t instanceof KryoException)) {
        r.addSuppressed(e);
        return r;
      }
    }
    if (e instanceof KryoException
        && e.getMessage() != null
        && e.getMessage().startsWith("Max depth exceeded")) {
      return new IllegalArgumentException(
          "value of "
              + value.getClass().getName()
              + " is deeper than pekko.dsm.serialization.max-depth="
              + settings.maxDepth()
              + (settings.references()
                  ? ""
                  : " (a cycle? enable pekko.dsm.serialization.references)"),
          e);
    }
    return e;
  }

  private static boolean hasCause(Throwable e, Class<? extends Throwable> type) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (type.isInstance(t)) {
        return true;
      }
    }
    return false;
  }

  private static String firstLine(String s) {
    int nl = s.indexOf('\n');
    return nl < 0 ? s : s.substring(0, nl);
  }
}
