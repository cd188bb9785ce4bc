package dev.pekkodsm.internal;

import dev.pekkodsm.DBox;
import dev.pekkodsm.DRef;

/**
 * Turns handles into their wire form and back. Implemented next to the handles (they keep their
 * constructors to themselves); used by the Kryo and Jackson serializers.
 *
 * <p>Exporting has effects: a box's handle dies (its ownership leaves with the message), a
 * reference splits its weight. Importing has effects too: the receiving node tells the home
 * where the handle now is.
 */
public interface HandleCodec {

  /** A {@code DBox} on the wire. {@code from} is the node that sent it. */
  record BoxWire(long home, long object, int color, long locator, int frameBytes, long from) {}

  /** A {@code DRef} on the wire, carrying {@code weight} split off the sender's reference. */
  record RefWire(
      long home, long object, int color, long locator, int frameBytes, long weight, long from) {}

  /** Exports made until the scope ends; rolled back if the enclosing message cannot be sent. */
  interface Scope {
    /** The message was serialized: the exports stand. */
    void commit();

    /** The message failed: every box exported in the scope lives again, every split is undone. */
    void rollback();
  }

  /** Starts tracking exports on this thread. */
  Scope openScope();

  BoxWire exportBox(DBox<?> box);

  DBox<?> importBox(BoxWire wire);

  RefWire exportRef(DRef<?> ref);

  DRef<?> importRef(RefWire wire);
}
