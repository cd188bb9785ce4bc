package dev.pekkodsm.samples.gemm;

import dev.pekkodsm.testkit.LocalCluster;
import java.time.Duration;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;

/** What the two Pekko peers ({@code delegation} and {@code messages}) share. */
final class Peers {

  private Peers() {}

  /** Marker of the peers' messages, bound to Jackson CBOR as the Pekko documentation advises. */
  interface Message {}

  /** How long one request may take; a 2 MiB tile behind a queue of others can take seconds. */
  static final Duration ASK_TIMEOUT = Duration.ofSeconds(60);

  /**
   * The peers' cluster: Jackson CBOR for their messages, and Artery's large-message channel (with
   * frames that fit a tile) for the actors that receive tiles: ask replies ({@code /temp}) and the
   * message-passing workers.
   */
  static LocalCluster start(int nodes, GemmSpec spec, String name) {
    long frameBytes = spec.tileBytes() + spec.tileBytes() / 4 + (64 << 10); // CBOR: 9 B a double
    return LocalCluster.withNodes(nodes)
        .name(name)
        .config(
            "pekko.actor.serialization-bindings {\n"
                + "  \"dev.pekkodsm.samples.gemm.Peers$Message\" = jackson-cbor\n"
                + "}\n"
                + "pekko.remote.artery.large-message-destinations = [\"/temp/*\", \"/system/"
                + MessagesGemm.WORKER
                + "\"]\n"
                + "pekko.remote.artery.advanced.maximum-large-frame-size = "
                + Math.max(2L << 20, frameBytes)
                + "\n")
        .start();
  }

  /** A pool of as many threads as cores, for one node's tile products. */
  static ExecutorService computePool(String name) {
    int cores = Math.max(2, Runtime.getRuntime().availableProcessors());
    AtomicInteger count = new AtomicInteger();
    return Executors.newFixedThreadPool(
        cores,
        r -> {
          Thread thread = new Thread(r, name + "-" + count.incrementAndGet());
          thread.setDaemon(true);
          return thread;
        });
  }

  /** Waits for a request that fails by itself after {@link #ASK_TIMEOUT}. */
  static <T> T await(CompletionStage<T> stage) {
    try {
      return stage.toCompletableFuture().get(ASK_TIMEOUT.toMillis() + 1000, TimeUnit.MILLISECONDS);
    } catch (ExecutionException e) {
      Throwable cause = e.getCause();
      if (cause instanceof RuntimeException r) {
        throw r;
      }
      throw new IllegalStateException(cause);
    } catch (TimeoutException e) {
      throw new IllegalStateException("no answer within " + ASK_TIMEOUT, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
  }
}
