package dev.pekkodsm.serialization.internal;

import com.esotericsoftware.kryo.Kryo;
import com.esotericsoftware.kryo.KryoException;
import com.esotericsoftware.kryo.Serializer;
import com.esotericsoftware.kryo.io.Input;
import com.esotericsoftware.kryo.io.Output;
import java.lang.invoke.SerializedLambda;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.util.HashMap;
import java.util.Map;

/**
 * Serializable lambdas (a lambda whose target interface extends {@code Serializable}), written as
 * the JDK's {@link SerializedLambda} and rebuilt on the other side by the class that declared them,
 * exactly as Java serialization does. Captured values are written with Kryo, so each must be of a
 * registered class.
 *
 * <p>The declaring class is looked up by name, without running its initializer, and must carry the
 * compiler-generated {@code $deserializeLambda$} method: only classes that contain serializable
 * lambdas can be named this way. The code itself never travels; every node must have the same
 * classes.
 */
final class LambdaSerializer extends Serializer<Object> {

  private static final String DESERIALIZE = "$deserializeLambda$";

  /** Each lambda class's {@code writeReplace}, looked up once; null if it has none. */
  private static final ClassValue<Method> WRITE_REPLACE =
      new ClassValue<>() {
        @Override
        protected Method computeValue(Class<?> type) {
          try {
            Method replace = type.getDeclaredMethod("writeReplace");
            replace.setAccessible(true);
            return replace;
          } catch (NoSuchMethodException e) {
            return null;
          }
        }
      };

  /**
   * The {@code $deserializeLambda$} of each declaring class seen by this serializer's Kryo (one
   * Kryo per thread at a time, so no locking).
   */
  private final Map<String, Method> rebuilders = new HashMap<>();

  @Override
  public void write(Kryo kryo, Output out, Object lambda) {
    SerializedLambda form = serializedForm(lambda);
    out.writeString(form.getCapturingClass());
    out.writeString(form.getFunctionalInterfaceClass());
    out.writeString(form.getFunctionalInterfaceMethodName());
    out.writeString(form.getFunctionalInterfaceMethodSignature());
    out.writeVarInt(form.getImplMethodKind(), true);
    out.writeString(form.getImplClass());
    out.writeString(form.getImplMethodName());
    out.writeString(form.getImplMethodSignature());
    out.writeString(form.getInstantiatedMethodType());
    out.writeVarInt(form.getCapturedArgCount(), true);
    for (int i = 0; i < form.getCapturedArgCount(); i++) {
      kryo.writeClassAndObject(out, form.getCapturedArg(i));
    }
  }

  @Override
  public Object read(Kryo kryo, Input in, Class<? extends Object> type) {
    String capturing = in.readString();
    String functionalInterface = in.readString();
    String methodName = in.readString();
    String methodSignature = in.readString();
    int implKind = in.readVarInt(true);
    String implClass = in.readString();
    String implName = in.readString();
    String implSignature = in.readString();
    String instantiated = in.readString();
    int captured = in.readVarInt(true);
    BoundedSerializers.checkCount(in, captured);
    Object[] args = new Object[captured];
    for (int i = 0; i < captured; i++) {
      args[i] = kryo.readClassAndObject(in);
    }
    Method rebuild = rebuilders.get(capturing);
    if (rebuild == null) {
      rebuild = rebuilder(kryo, capturing);
      rebuilders.put(capturing, rebuild);
    }
    SerializedLambda form =
        new SerializedLambda(
            rebuild.getDeclaringClass(),
            functionalInterface,
            methodName,
            methodSignature,
            implKind,
            implClass,
            implName,
            implSignature,
            instantiated,
            args);
    try {
      return rebuild.invoke(null, form);
    } catch (InvocationTargetException e) {
      throw new KryoException(
          "lambda " + implClass + "." + implName + " cannot be rebuilt: " + e.getCause(), e);
    } catch (ReflectiveOperationException | RuntimeException e) {
      throw new KryoException("lambda " + implClass + "." + implName + " cannot be rebuilt", e);
    }
  }

  /** The declaring class's {@code $deserializeLambda$}, made callable. */
  private static Method rebuilder(Kryo kryo, String name) {
    Class<?> declaring;
    try {
      ClassLoader loader = kryo.getClassLoader();
      declaring = Class.forName(name.replace('/', '.'), false, loader);
    } catch (ClassNotFoundException | LinkageError e) {
      throw new KryoException("the class " + name + " that declared a lambda is not here", e);
    }
    try {
      Method rebuild = declaring.getDeclaredMethod(DESERIALIZE, SerializedLambda.class);
      rebuild.setAccessible(true);
      return rebuild;
    } catch (NoSuchMethodException e) {
      throw new KryoException(name + " declares no serializable lambda");
    } catch (RuntimeException e) {
      throw new KryoException(name + "'s serializable lambdas cannot be rebuilt here", e);
    }
  }

  /** The lambda's serialized form, or a clear error if it is not a serializable lambda. */
  static SerializedLambda serializedForm(Object lambda) {
    try {
      Method replace = WRITE_REPLACE.get(lambda.getClass());
      Object form = replace == null ? null : replace.invoke(lambda);
      if (form instanceof SerializedLambda s) {
        return s;
      }
    } catch (ReflectiveOperationException | RuntimeException e) {
      throw new IllegalArgumentException("the lambda " + lambda + " cannot be serialized", e);
    }
    throw new IllegalArgumentException(
        "the lambda "
            + lambda.getClass().getName()
            + " is not serializable: declare it with a functional interface that extends"
            + " java.io.Serializable (DFunction, DCallable), or use a registered class");
  }
}
