package dev.pekkodsm.samples.socialnet;

import java.nio.ByteBuffer;
import java.util.concurrent.atomic.LongAdder;
import org.apache.pekko.actor.ActorRef;
import org.apache.pekko.actor.ExtendedActorSystem;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Extension;
import org.apache.pekko.actor.typed.ExtensionId;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.remote.artery.RemoteInstrument;

/**
 * Bytes and messages one node has sent over Artery, counted by a {@link RemoteInstrument} (Artery's
 * hook for tracing and metrics, called with the size of every serialized envelope it sends). Enable
 * it with {@link #CONFIG}; read it with {@link #get(ActorSystem)}.
 */
final class WireBytes implements Extension {

  /** The configuration that installs the instrument. */
  static final String CONFIG =
      "pekko.remote.artery.advanced.instruments += \"" + Instrument.class.getName() + "\"\n";

  private static final Id ID = new Id();

  private final LongAdder bytes = new LongAdder();
  private final LongAdder messages = new LongAdder();

  /** The counters of {@code system}. */
  static WireBytes get(ActorSystem<?> system) {
    return ID.apply(system);
  }

  /** Bytes of the envelopes this node has sent so far (headers included). */
  long bytes() {
    return bytes.sum();
  }

  /** Messages this node has sent so far. */
  long messages() {
    return messages.sum();
  }

  /** The extension's id. */
  static final class Id extends ExtensionId<WireBytes> {
    @Override
    public WireBytes createExtension(ActorSystem<?> system) {
      return new WireBytes();
    }
  }

  /** The instrument Artery instantiates with its system; it writes no metadata. */
  public static final class Instrument extends RemoteInstrument {
    private final WireBytes counters;

    /** Called by Artery. */
    public Instrument(ExtendedActorSystem system) {
      this.counters = get(Adapter.toTyped(system));
    }

    @Override
    public byte identifier() {
      return 17;
    }

    @Override
    public void remoteWriteMetadata(
        ActorRef recipient, Object message, ActorRef sender, ByteBuffer buffer) {}

    @Override
    public void remoteMessageSent(
        ActorRef recipient, Object message, ActorRef sender, int size, long time) {
      counters.bytes.add(size);
      counters.messages.increment();
    }

    @Override
    public void remoteReadMetadata(
        ActorRef recipient, Object message, ActorRef sender, ByteBuffer buffer) {}

    @Override
    public void remoteMessageReceived(
        ActorRef recipient, Object message, ActorRef sender, int size, long time) {}
  }
}
