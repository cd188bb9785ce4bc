package dev.pekkodsm.internal;

/**
 * The public handle types, as the internals know them: by name only, as {@code reference.conf}'s
 * serialization bindings do, so that dependencies between the packages point one way (the handles
 * use the internals, never the reverse). {@link Facades} turns handles into their cores and back.
 */
public enum HandleKind {
  BOX("DBox"),
  REF("DRef"),
  ARC("DArc"),
  ATOMIC("DAtomicLong"),
  MUTEX("DMutex"),
  VEC("DVec");

  private final String simpleName;
  private volatile Class<?> type;

  HandleKind(String simpleName) {
    this.simpleName = simpleName;
  }

  /** The handle's class name without its package, as messages show it. */
  public String simpleName() {
    return simpleName;
  }

  /** The public class of this kind of handle. */
  public Class<?> type() {
    Class<?> t = type;
    if (t == null) {
      try {
        t = Class.forName("dev.pekkodsm." + simpleName, false, HandleKind.class.getClassLoader());
      } catch (ClassNotFoundException e) {
        throw new IllegalStateException("the pekko-dsm API classes are not on the class path", e);
      }
      type = t;
    }
    return t;
  }

  /** The kind of a handle that holds weight on its object (a reference or a share of it). */
  public boolean weighted() {
    return this == REF || this == ARC || this == ATOMIC || this == MUTEX;
  }
}
