package dev.pekkodsm.samples.chaos;

import com.sun.management.GarbageCollectionNotificationInfo;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import javax.management.ListenerNotFoundException;
import javax.management.Notification;
import javax.management.NotificationEmitter;
import javax.management.NotificationListener;
import javax.management.openmbean.CompositeData;

/**
 * The garbage collections of this JVM (the driver, where the clients run) while a chaos run lasts:
 * how many, how long in all, and the longest. A collection stops the clients, so its pause shows in
 * the history's times; the report gives these figures so that a late return can be told from a slow
 * system.
 */
final class DriverGc implements AutoCloseable {

  private final AtomicLong collections = new AtomicLong();
  private final AtomicLong totalMs = new AtomicLong();
  private final AtomicLong longestMs = new AtomicLong();
  private final List<NotificationEmitter> emitters = new ArrayList<>();
  private final NotificationListener listener = this::onNotification;

  /** Starts counting. */
  DriverGc() {
    for (GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) {
      if (gc instanceof NotificationEmitter emitter) {
        emitter.addNotificationListener(listener, null, null);
        emitters.add(emitter);
      }
    }
  }

  private void onNotification(Notification n, Object handback) {
    if (!GarbageCollectionNotificationInfo.GARBAGE_COLLECTION_NOTIFICATION.equals(n.getType())) {
      return;
    }
    GarbageCollectionNotificationInfo info =
        GarbageCollectionNotificationInfo.from((CompositeData) n.getUserData());
    long ms = info.getGcInfo().getDuration();
    collections.incrementAndGet();
    totalMs.addAndGet(ms);
    longestMs.accumulateAndGet(ms, Math::max);
  }

  /** Collections so far. */
  long collections() {
    return collections.get();
  }

  /** Milliseconds of collections so far. */
  long totalMs() {
    return totalMs.get();
  }

  /** The longest collection so far, in milliseconds. */
  long longestMs() {
    return longestMs.get();
  }

  @Override
  public void close() {
    for (NotificationEmitter emitter : emitters) {
      try {
        emitter.removeNotificationListener(listener);
      } catch (ListenerNotFoundException e) {
        // not registered: nothing to remove
      }
    }
  }
}
