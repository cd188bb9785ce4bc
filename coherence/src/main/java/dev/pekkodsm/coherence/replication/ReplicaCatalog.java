package dev.pekkodsm.coherence.replication;

import dev.pekkodsm.coherence.replication.ReplicaRecord.Filed;
import dev.pekkodsm.coherence.replication.ReplicaRecord.Gone;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * What a backup knows of its primary's objects: the latest {@link Filed} record of each object that
 * has not gone, and the highest object id the primary used (a promoted table must never hand one
 * out again). The slot bytes themselves live in the mirror arena.
 *
 * <p>Thread-safe; records of one primary are applied by one thread at a time, in order.
 */
public final class ReplicaCatalog {

  private final Map<Long, Filed> objects = new ConcurrentHashMap<>();
  private volatile long highestObject;

  /** Applies an object record; slot records are not the catalog's and are ignored. */
  public void apply(ReplicaRecord record) {
    if (record instanceof Filed filed) {
      objects.put(filed.object(), filed);
      raise(filed.object());
    } else if (record instanceof Gone gone) {
      objects.remove(gone.object());
      raise(gone.object());
    }
  }

  private void raise(long object) {
    if (Long.compareUnsigned(object, highestObject) > 0) {
      highestObject = object;
    }
  }

  /** The latest record of {@code object}, or null if it is unknown or gone. */
  public Filed get(long object) {
    return objects.get(object);
  }

  /** The objects the primary has now, in no order. */
  public List<Filed> objects() {
    return new ArrayList<>(objects.values());
  }

  /** Objects the primary has now. */
  public int size() {
    return objects.size();
  }

  /** The highest object id any record named: ids above it were never used by the primary. */
  public long highestObject() {
    return highestObject;
  }

  /** Forgets everything (a full copy follows). */
  public void clear() {
    objects.clear();
  }
}
