package dev.pekkodsm;

import dev.pekkodsm.serialization.ClassRegistry;
import java.util.Objects;
import org.apache.pekko.actor.setup.Setup;

/**
 * Programmatic DSM configuration for an {@code ActorSystem}, passed in its {@code
 * ActorSystemSetup}: user classes registered in code rather than in {@code
 * pekko.dsm.serialization.classes}. Both sources are merged; every node must end up with the same
 * registrations.
 *
 * <pre>{@code
 * var setup = ActorSystemSetup.create(BootstrapSetup.create(config),
 *     DsmSetup.create(ClassRegistry.builder().register(Account.class, 100).build()));
 * ActorSystem<Void> system = ActorSystem.create(Behaviors.empty(), "app", setup);
 * }</pre>
 */
public final class DsmSetup extends Setup {
  private final ClassRegistry registry;

  private DsmSetup(ClassRegistry registry) {
    this.registry = Objects.requireNonNull(registry, "registry");
  }

  /** A setup with these user classes. */
  public static DsmSetup create(ClassRegistry registry) {
    return new DsmSetup(registry);
  }

  /** The user classes. */
  public ClassRegistry registry() {
    return registry;
  }
}
