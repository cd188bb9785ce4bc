package dev.pekkodsm.coherence;

import java.util.Objects;

/**
 * Where an object lives and which version of it is meant: {@code (node, object, color)}.
 *
 * <p>The node is the object's home; the object id is unique within that node for the node's whole
 * life; the color counts the object's completed local writes. A cached copy is keyed by the full
 * address, and no owner ever hands out an address again once it is written, moved or dropped, so a
 * stale copy is never reached and never needs invalidating.
 *
 * @param node the home node
 * @param object the object id within the home node
 * @param color the version
 */
public record GlobalAddress(NodeId node, long object, int color) {

  public GlobalAddress {
    Objects.requireNonNull(node, "node");
  }

  /** The same object at another color. */
  public GlobalAddress withColor(int newColor) {
    return new GlobalAddress(node, object, newColor);
  }

  /** True if both name the same object, whatever the color. */
  public boolean sameObject(GlobalAddress other) {
    return other.object == object && other.node.equals(node);
  }

  /** {@code node:object} in hex, without the color: how messages name an object. */
  public String objectName() {
    return node.hex() + ":" + Long.toHexString(object);
  }

  @Override
  public String toString() {
    return objectName() + "#" + color;
  }
}
