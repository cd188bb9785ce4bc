package dev.pekkodsm.internal;

/**
 * How the internals reach the public handles without naming them: each handle is a thin facade over
 * a core ({@link BoxCore}, {@link LendCore}), and this turns one into the other. Implemented next
 * to the handles, whose constructors stay package-private; stateless.
 */
public interface Facades {

  /** The public box over {@code core}. */
  Object box(BoxCore core);

  /** The core of a public box. */
  BoxCore boxCore(Object box);

  /** The public handle of {@code kind} (one that holds weight) over {@code core}. */
  Object weighted(HandleKind kind, LendCore core);

  /** The core of a public handle that holds weight. */
  LendCore lendCore(Object handle);

  /**
   * A vector's wire form; the vector is dead afterwards (it moved with the message) until {@link
   * #reviveVec} brings it back after a failed send.
   */
  HandleCodec.VecWire exportVec(Object vec);

  /** Brings back a vector whose send failed. */
  void reviveVec(Object vec);

  /**
   * A vector from slots read already.
   *
   * @throws IllegalArgumentException if the shape or the slots' types do not match
   */
  Object importVec(ClientContext context, HandleCodec.VecWire wire);

  /** Lets go of a handle that nobody will use: a box is dropped, a reference released. */
  void discard(Object handle);
}
