package dev.pekkodsm.coherence;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class ReadCacheTest {

  static final NodeId N = NodeId.of(5);

  static GlobalAddress addr(long object, int color) {
    return new GlobalAddress(N, object, color);
  }

  @Test
  void shouldMissThenHitOnTheSameColoredAddress() {
    ReadCache cache = new ReadCache(1 << 20);
    assertNull(cache.pin(addr(1, 0)));
    var e = cache.install(addr(1, 0), "v", 10);
    assertSame(e, cache.pin(addr(1, 0)));
    assertNull(cache.pin(addr(1, 1)), "another color is another entry");
    assertEquals(1, cache.hits());
    assertEquals(2, cache.misses());
  }

  @Test
  void shouldKeepAnUnpinnedEntryForALaterReference() {
    ReadCache cache = new ReadCache(1 << 20);
    var e = cache.install(addr(1, 0), "v", 10);
    cache.unpin(e);
    assertEquals(0, cache.pinnedCount());
    assertEquals(1, cache.unpinnedCount());
    assertSame(e, cache.pin(addr(1, 0)));
    assertEquals(1, cache.pinnedCount());
  }

  @Test
  void shouldNeverEvictPinnedEntries() {
    ReadCache cache = new ReadCache(1000);
    List<ReadCache.Entry> held = new ArrayList<>();
    for (int i = 0; i < 100; i++) {
      held.add(cache.install(addr(i, 0), "v" + i, 100));
    }
    assertEquals(100, cache.pinnedCount(), "ten times the byte bound, all pinned, all kept");
    for (var e : held) {
      assertSame(e, cache.pin(e.address()));
      cache.unpin(e);
    }
    for (var e : held) {
      cache.unpin(e);
    }
    assertEquals(0, cache.pinnedCount());
    assertTrue(cache.unpinnedBytes() <= 1000, "unpinned entries are bounded by bytes");
    assertTrue(cache.unpinnedCount() <= 10);
  }

  @Test
  void shouldShareOneCopyWhenTwoReadersInstallTheSameAddress() {
    ReadCache cache = new ReadCache(1 << 20);
    var first = cache.install(addr(1, 0), "first", 10);
    var second = cache.install(addr(1, 0), "second", 10);
    assertSame(first, second);
    cache.unpin(first);
    assertNotNull(cache.pin(addr(1, 0)), "one pin is still held");
  }

  @Test
  void shouldStayConsistentUnderConcurrentPinsAndUnpins() throws Exception {
    ReadCache cache = new ReadCache(100);
    AtomicInteger installs = new AtomicInteger();
    int threads = 4;
    CountDownLatch done = new CountDownLatch(threads);
    for (int t = 0; t < threads; t++) {
      new Thread(
              () -> {
                for (int i = 0; i < 50_000; i++) {
                  var a = addr(i % 7, 0);
                  var e = cache.pin(a);
                  if (e == null) {
                    e = cache.install(a, "v", 30);
                    installs.incrementAndGet();
                  }
                  assertEquals(a, e.address());
                  cache.unpin(e);
                }
                done.countDown();
              })
          .start();
    }
    done.await();
    assertEquals(0, cache.pinnedCount(), "every pin was released");
    assertTrue(cache.unpinnedBytes() <= 100);
  }
}
