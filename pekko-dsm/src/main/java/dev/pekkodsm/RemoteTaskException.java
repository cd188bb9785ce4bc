package dev.pekkodsm;

import dev.pekkodsm.coherence.GlobalAddress;
import dev.pekkodsm.coherence.NodeId;

/**
 * A task failed on the node it ran on. The remote exception's class, message and stack trace are
 * kept as text (its class need not exist, or be serializable, here).
 */
public final class RemoteTaskException extends DsmException {
  private static final long serialVersionUID = 1L;

  private final transient NodeId node;
  private final String remoteType;
  private final String remoteMessage;
  private final String remoteTrace;

  public RemoteTaskException(
      NodeId node,
      GlobalAddress address,
      String remoteType,
      String remoteMessage,
      String remoteTrace) {
    this(node, address, remoteType, remoteMessage, remoteTrace, null);
  }

  /**
   * With the exception itself as the cause, when the task ran on this node (an update of a mutex
   * homed here runs on the caller's thread).
   */
  public RemoteTaskException(
      NodeId node,
      GlobalAddress address,
      String remoteType,
      String remoteMessage,
      String remoteTrace,
      Throwable cause) {
    super(
        address,
        "a task failed on "
            + node
            + (address == null ? "" : " (at " + address.objectName() + ")")
            + ": "
            + remoteType
            + (remoteMessage == null || remoteMessage.isEmpty() ? "" : ": " + remoteMessage),
        cause);
    this.node = node;
    this.remoteType = remoteType;
    this.remoteMessage = remoteMessage;
    this.remoteTrace = remoteTrace;
  }

  /** The node the task ran on. */
  public NodeId node() {
    return node;
  }

  /** The class name of the exception the task threw there. */
  public String remoteType() {
    return remoteType;
  }

  /** Its message, or null. */
  public String remoteMessage() {
    return remoteMessage;
  }

  /** Its stack trace, as printed there. */
  public String remoteTrace() {
    return remoteTrace;
  }
}
