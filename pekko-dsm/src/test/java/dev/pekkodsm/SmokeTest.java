package dev.pekkodsm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import dev.pekkodsm.testkit.LocalCluster;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

class SmokeTest {

  @Test
  @Timeout(120)
  void shouldShareMoveAndWriteAcrossThreeNodes() {
    try (LocalCluster cluster = LocalCluster.withNodes(3).start()) {
      DBox<ArrayList<String>> box = cluster.dsm(0).alloc(new ArrayList<>(List.of("a")));
      DRef<ArrayList<String>> ref = box.share();
      DRef<ArrayList<String>> onB = cluster.send(0, 1, ref.copy());
      assertEquals(List.of("a"), onB.get());
      System.out.println("counters B " + cluster.dsm(1).counters());
      onB.release();
      ref.release();
      DBox<ArrayList<String>> boxOnC = cluster.send(0, 2, box);
      boxOnC.write(l -> l.add("b"));
      assertEquals(cluster.nodeId(2), boxOnC.address().node());
      assertNotEquals(cluster.nodeId(0), boxOnC.address().node());
      assertEquals(List.of("a", "b"), boxOnC.read(l -> new ArrayList<>(l)));
      System.out.println("counters A " + cluster.dsm(0).counters());
      System.out.println("counters C " + cluster.dsm(2).counters());
    }
  }
}
