package dev.pekkodsm.coherence;

/**
 * A node of the DSM: one {@code ActorSystem} incarnation. The value is the cluster member's unique
 * id, so a restarted node is a new node and never reuses its predecessor's addresses.
 *
 * <p>Immutable value; compare with {@link #equals(Object)}.
 */
public final class NodeId implements Comparable<NodeId> {
  private final long value;

  private NodeId(long value) {
    this.value = value;
  }

  /** The node with this id. */
  public static NodeId of(long value) {
    return new NodeId(value);
  }

  /** The raw id. */
  public long value() {
    return value;
  }

  /** The id as lowercase hex, as it appears in addresses and messages. */
  public String hex() {
    return Long.toHexString(value);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof NodeId other && other.value == value;
  }

  @Override
  public int hashCode() {
    return Long.hashCode(value);
  }

  @Override
  public int compareTo(NodeId o) {
    return Long.compareUnsigned(value, o.value);
  }

  @Override
  public String toString() {
    return "node " + hex();
  }
}
