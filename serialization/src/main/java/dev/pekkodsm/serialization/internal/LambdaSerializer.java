package dev.pekkodsm.serialization.internal;

import com.esotericsoftware.kryo.Kryo;
import com.esotericsoftware.kryo.KryoException;
import com.esotericsoftware.kryo.Serializer;
import com.esotericsoftware.kryo.io.Input;
import com.esotericsoftware.kryo.io.Output;
import java.lang.invoke.SerializedLambda;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;

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
    Class<?> declaring = declaringClass(kryo, capturing);
    SerializedLambda form =
        new SerializedLambda(
            declaring,
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
      Method rebuild = declaring.getDeclaredMethod(DESERIALIZE, SerializedLambda.class);
      rebuild.setAccessible(true);
      return rebuild.invoke(null, form);
    } catch (InvocationTargetException e) {
      throw new KryoException(
          "lambda " + implClass + "." + implName + " cannot be rebuilt: " + e.getCause(), e);
    } catch (ReflectiveOperationException | RuntimeException e) {
      throw new KryoException("lambda " + implClass + "." + implName + " cannot be rebuilt", e);
    }
  }

  private static Class<?> declaringClass(Kryo kryo, String name) {
    Class<?> declaring;
    try {
      ClassLoader loader = kryo.getClassLoader();
      declaring = Class.forName(name.replace('/', '.'), false, loader);
    } catch (ClassNotFoundException | LinkageError e) {
      throw new KryoException("the class " + name + " that declared a lambda is not here", e);
    }
    try {
      declaring.getDeclaredMethod(DESERIALIZE, SerializedLambda.class);
    } catch (NoSuchMethodException e) {
      throw new KryoException(name + " declares no serializable lambda");
    }
    return declaring;
  }

  /** The lambda's serialized form, or a clear error if it is not a serializable lambda. */
  static SerializedLambda serializedForm(Object lambda) {
    try {
      Method replace = lambda.getClass().getDeclaredMethod("writeReplace");
      replace.setAccessible(true);
      Object form = replace.invoke(lambda);
      if (form instanceof SerializedLambda s) {
        return s;
      }
    } catch (NoSuchMethodException e) {
      // not serializable: reported below
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
