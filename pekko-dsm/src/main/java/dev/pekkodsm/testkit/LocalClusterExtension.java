package dev.pekkodsm.testkit;

import dev.pekkodsm.Dsm;
import dev.pekkodsm.coherence.NodeId;
import java.util.function.UnaryOperator;
import org.apache.pekko.actor.typed.ActorSystem;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * A {@link LocalCluster} for JUnit 5 tests. As a static field it serves every test of the class; as
 * an instance field, each test gets a fresh cluster.
 *
 * <pre>{@code
 * @RegisterExtension
 * static final LocalClusterExtension cluster =
 *     LocalClusterExtension.withNodes(3, b -> b.register(Account.class, 100));
 *
 * @Test
 * void shouldReadFromEveryNode() {
 *   DBox<Account> box = cluster.dsm(0).alloc(new Account(1));
 *   ...
 * }
 * }</pre>
 */
public final class LocalClusterExtension
    implements BeforeAllCallback, AfterAllCallback, BeforeEachCallback, AfterEachCallback {

  private final LocalCluster.Builder builder;
  private LocalCluster cluster;
  private boolean perClass;

  private LocalClusterExtension(LocalCluster.Builder builder) {
    this.builder = builder;
  }

  /** A cluster of {@code nodes} nodes with default settings. */
  public static LocalClusterExtension withNodes(int nodes) {
    return new LocalClusterExtension(LocalCluster.withNodes(nodes));
  }

  /** A cluster of {@code nodes} nodes, configured by {@code configure}. */
  public static LocalClusterExtension withNodes(
      int nodes, UnaryOperator<LocalCluster.Builder> configure) {
    return new LocalClusterExtension(configure.apply(LocalCluster.withNodes(nodes)));
  }

  @Override
  public void beforeAll(ExtensionContext context) {
    perClass = true;
    cluster = builder.start();
  }

  @Override
  public void afterAll(ExtensionContext context) {
    if (cluster != null) {
      cluster.close();
      cluster = null;
    }
  }

  @Override
  public void beforeEach(ExtensionContext context) {
    if (!perClass) {
      cluster = builder.start();
    }
  }

  @Override
  public void afterEach(ExtensionContext context) {
    if (!perClass && cluster != null) {
      cluster.close();
      cluster = null;
    }
  }

  /** The running cluster. */
  public LocalCluster cluster() {
    if (cluster == null) {
      throw new IllegalStateException("the cluster is not running (outside a test?)");
    }
    return cluster;
  }

  /** Node {@code i}'s DSM. */
  public Dsm dsm(int i) {
    return cluster().dsm(i);
  }

  /** Node {@code i}'s actor system. */
  public ActorSystem<Void> system(int i) {
    return cluster().system(i);
  }

  /** Node {@code i}'s id. */
  public NodeId nodeId(int i) {
    return cluster().nodeId(i);
  }
}
