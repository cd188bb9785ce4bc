package dev.pekkodsm;

import static dev.pekkodsm.Fixtures.eventually;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pekkodsm.coherence.NodeId;
import dev.pekkodsm.internal.HandleCodec;
import dev.pekkodsm.testkit.LocalClusterExtension;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/** DVec on a real three-node cluster: values in chunks, tiles, and a vector of mutex buckets. */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class VecTest {

  @RegisterExtension
  static final LocalClusterExtension cluster =
      LocalClusterExtension.withNodes(
          3, b -> Fixtures.registered(b).config("pekko.dsm.borrow-timeout = 2s"));

  static List<Integer> range(int n) {
    return IntStream.range(0, n).boxed().toList();
  }

  static <T> T result(java.util.concurrent.CompletionStage<T> stage) throws Exception {
    return stage.toCompletableFuture().get(60, TimeUnit.SECONDS);
  }

  @Test
  void shouldPlaceChunksRoundRobinAndServeIndexedAccessFromEachNode() throws Exception {
    DVec<Integer> vec = cluster.dsm(0).vec(range(100), 10, DVec.Placement.ROUND_ROBIN);
    assertEquals(100, vec.size());
    assertEquals(10, vec.chunkCount());
    Set<NodeId> homes = new HashSet<>();
    for (int k = 0; k < vec.chunkCount(); k++) {
      homes.add(vec.chunkAddress(k).node());
      assertEquals(vec.chunkAddress(k).node(), vec.nodeOf(k * 10 + 9));
    }
    assertEquals(3, homes.size(), "chunks on every node");
    assertEquals(cluster.nodeId(0), vec.nodeOf(0), "the first chunk stays here");
    for (int i = 0; i < 100; i++) {
      assertEquals(i, (int) vec.get(i));
    }

    NodeId before = vec.nodeOf(55);
    vec.set(55, -1);
    assertEquals(-1, (int) vec.get(55));
    assertEquals(before, vec.nodeOf(55), "a set does not move the chunk");
    assertEquals(700, (int) vec.update(7, v -> v * 100));
    assertEquals(700, (int) vec.read(7, v -> v));
    assertThrows(IndexOutOfBoundsException.class, () -> vec.get(100));

    List<Integer> expected = new ArrayList<>(range(100));
    expected.set(55, -1);
    expected.set(7, 700);
    assertEquals(expected, vec.toList());
    vec.drop();
    assertThrows(UseAfterMoveException.class, () -> vec.get(0));
  }

  @Test
  void shouldIterateAViewOnAnotherNodeWithOneSidedChunkReads() throws Exception {
    DVec<Integer> vec = cluster.dsm(0).vec(range(300), 25, DVec.Placement.ROUND_ROBIN);
    DVec<Integer> view = cluster.cluster().send(0, 2, vec.share());
    assertTrue(view.isView());
    int notOnC = 0;
    for (int k = 0; k < view.chunkCount(); k++) {
      notOnC += view.chunkAddress(k).node().equals(cluster.nodeId(2)) ? 0 : 1;
    }
    long readsBefore = cluster.dsm(2).counters().oneSidedReads();
    long[] sum = {0};
    view.forEach((v, i) -> sum[0] += v * (long) i);
    long expected = IntStream.range(0, 300).mapToLong(i -> (long) i * i).sum();
    assertEquals(expected, sum[0]);
    assertEquals(
        notOnC,
        cluster.dsm(2).counters().oneSidedReads() - readsBefore,
        "one one-sided read per chunk that lives elsewhere");
    view.forEach((v, i) -> {});
    assertEquals(
        notOnC,
        cluster.dsm(2).counters().oneSidedReads() - readsBefore,
        "the second pass is served from the cache");

    assertThrows(IllegalStateException.class, () -> view.set(0, 1), "a view is read-only");
    assertThrows(
        BorrowConflictException.class,
        () -> vec.set(0, 1),
        "the owner cannot write while a view is out");
    view.drop();
    eventually(
        "the owner can write once the view is released",
        10,
        () -> {
          try {
            vec.set(0, 1);
            return true;
          } catch (BorrowConflictException stillShared) {
            return false;
          }
        });
    assertEquals(1, (int) vec.get(0));
    vec.drop();
  }

  @Test
  void shouldComputeOnTilesWhereTheyLive() throws Exception {
    int side = 64;
    DVec<double[]> tiles =
        cluster
            .dsm(1)
            .vec(
                6,
                1,
                i -> {
                  double[] t = new double[side * side];
                  java.util.Arrays.fill(t, i);
                  return t;
                },
                DVec.Placement.ROUND_ROBIN);
    List<String> where =
        result(tiles.mapChunks(c -> Dsm.current().self().hex() + ":" + (long) sum(c.get(0))));
    for (int i = 0; i < 6; i++) {
      assertEquals(tiles.nodeOf(i).hex() + ":" + (long) (i * side * side), where.get(i));
    }
    List<Integer> scaled =
        result(
            tiles.updateChunks(
                c -> {
                  double[] t = c.get(0);
                  for (int j = 0; j < t.length; j++) {
                    t[j] *= 2;
                  }
                  return t.length;
                }));
    assertEquals(List.of(4096, 4096, 4096, 4096, 4096, 4096), scaled);
    DVec<double[]> view = cluster.cluster().send(1, 0, tiles.share());
    for (int i = 0; i < 6; i++) {
      assertEquals(2.0 * i * side * side, sum(view.get(i)), 1e-9);
    }
    view.drop();
    tiles.drop();
  }

  static double sum(double[] t) {
    double s = 0;
    for (double v : t) {
      s += v;
    }
    return s;
  }

  @Test
  void shouldServeAsAHashTableOfMutexBuckets() throws Exception {
    int buckets = 8;
    DVec<DMutex<HashMap<String, Integer>>> table =
        cluster.dsm(0).mutexVec(buckets, i -> new HashMap<>(), DVec.Placement.ROUND_ROBIN);
    Set<NodeId> homes = new HashSet<>();
    for (int i = 0; i < buckets; i++) {
      homes.add(table.nodeOf(i));
    }
    assertEquals(3, homes.size(), "buckets on every node");
    List<DVec<DMutex<HashMap<String, Integer>>>> handles = new ArrayList<>();
    handles.add(table);
    handles.add(cluster.cluster().send(0, 1, table.share()));
    handles.add(cluster.cluster().send(0, 2, table.share()));
    int perNode = 30;
    List<CompletableFuture<?>> puts = new ArrayList<>();
    for (DVec<DMutex<HashMap<String, Integer>>> t : handles) {
      for (int i = 0; i < perNode; i++) {
        String key = "key-" + (i % 10);
        DMutex<HashMap<String, Integer>> bucket = t.get(Math.floorMod(key.hashCode(), buckets));
        puts.add(bucket.updateAsync(m -> m.merge(key, 1, Integer::sum)).toCompletableFuture());
      }
    }
    CompletableFuture.allOf(puts.toArray(CompletableFuture[]::new)).get(60, TimeUnit.SECONDS);
    for (DVec<DMutex<HashMap<String, Integer>>> t : handles) {
      int total = 0;
      for (int i = 0; i < buckets; i++) {
        total += t.get(i).read(m -> m.values().stream().mapToInt(Integer::intValue).sum());
      }
      assertEquals(3 * perNode, total, "every put counted, read one-sided from every node");
      String key = "key-3";
      int count = t.read(Math.floorMod(key.hashCode(), buckets), b -> b.read(m -> m.get(key)));
      assertEquals(9, count);
    }
    handles.forEach(DVec::drop);
  }

  @Test
  void shouldMoveWithAMessageAndFreeItsChunksWhenDropped() throws Exception {
    DVec<String> vec =
        cluster.dsm(0).vec(List.of("a", "b", "c", "d", "e", "f"), 2, DVec.Placement.ROUND_ROBIN);
    DVec<String> moved = cluster.cluster().send(0, 1, vec);
    assertThrows(UseAfterMoveException.class, () -> vec.get(0), "the sender's handle is dead");
    assertEquals(List.of("a", "b", "c", "d", "e", "f"), moved.toList());
    moved.set(5, "z");
    assertEquals("z", moved.get(5));
    List<dev.pekkodsm.coherence.GlobalAddress> chunks = new ArrayList<>();
    for (int k = 0; k < moved.chunkCount(); k++) {
      chunks.add(moved.chunkAddress(k));
    }
    moved.drop();
    for (var chunk : chunks) {
      var home = cluster.dsm(cluster.cluster().indexOf(chunk.node())).internalNode();
      eventually(chunk + " freed at its home", 10, () -> home.object(chunk.object()) == null);
    }
  }

  @Test
  void shouldRefuseFunctionsThatCaptureHandlesAndMalformedShapes() {
    DVec<Integer> vec = cluster.dsm(0).vec(range(10), 5, DVec.Placement.LOCAL);
    assertEquals(cluster.nodeId(0), vec.nodeOf(9));
    DArc<Integer> arc = cluster.dsm(0).arc(3);
    assertThrows(IllegalArgumentException.class, () -> vec.mapChunks(c -> c.size() + arc.get()));
    assertEquals(3, (int) arc.get(), "the captured handle stayed");
    arc.drop();

    HandleCodec codec = cluster.dsm(0).internalNode().handles();
    DVec<Integer> view = vec.share();
    HandleCodec.VecWire wire = codec.exportVec(view);
    assertThrows(
        IllegalArgumentException.class,
        () -> codec.importVec(new HandleCodec.VecWire(wire.kind(), 11, 5, wire.slots())),
        "3 chunks are needed for 11 elements");
    assertThrows(
        IllegalArgumentException.class,
        () -> codec.importVec(new HandleCodec.VecWire(0, 10, 5, wire.slots())),
        "references where boxes are expected");
    assertThrows(
        IllegalArgumentException.class,
        () -> codec.importVec(new HandleCodec.VecWire(7, 10, 5, wire.slots())));
    DVec<?> back = (DVec<?>) codec.importVec(wire);
    assertEquals(10, back.toList().size());
    back.drop();
    vec.drop();
  }

  @Test
  void shouldHandleAnEmptyVector() {
    DVec<String> empty = cluster.dsm(2).vec(List.of(), 4, DVec.Placement.ROUND_ROBIN);
    assertEquals(0, empty.size());
    assertEquals(0, empty.chunkCount());
    assertEquals(List.of(), empty.toList());
    assertArrayEquals(new Object[0], empty.toList().toArray());
    empty.drop();
  }
}
