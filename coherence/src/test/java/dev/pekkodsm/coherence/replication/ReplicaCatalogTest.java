package dev.pekkodsm.coherence.replication;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.pekkodsm.coherence.ObjectKind;
import dev.pekkodsm.coherence.replication.ReplicaRecord.Filed;
import dev.pekkodsm.coherence.replication.ReplicaRecord.Gone;
import dev.pekkodsm.coherence.replication.ReplicaRecord.SlotWritten;
import org.junit.jupiter.api.Test;

class ReplicaCatalogTest {

  final ReplicaCatalog catalog = new ReplicaCatalog();

  @Test
  void shouldKeepTheLatestRecordOfEachObjectUntilItGoes() {
    catalog.apply(new Filed(3, ObjectKind.BOX, 0, 0x100, 40, 7));
    catalog.apply(new Filed(3, ObjectKind.BOX, 1, 0x200, 44, 7));
    catalog.apply(new Filed(4, ObjectKind.ARC, 0, 0x300, 40, 0));
    assertEquals(1, catalog.get(3).color());
    assertEquals(0x200, catalog.get(3).locator());
    assertEquals(2, catalog.size());
    catalog.apply(new Gone(3));
    assertNull(catalog.get(3));
    assertEquals(1, catalog.size());
  }

  @Test
  void shouldRememberTheHighestIdEvenOfGoneObjects() {
    catalog.apply(new Filed(5, ObjectKind.BOX, 0, 0, 0, 7));
    catalog.apply(new Gone(9));
    catalog.apply(new ReplicaRecord.SlotFreed(0x40));
    assertEquals(9, catalog.highestObject());
  }

  @Test
  void shouldIgnoreSlotRecords() {
    catalog.apply(new SlotWritten(0x100, 64, 40, 0, new byte[40]));
    assertEquals(0, catalog.size());
    assertEquals(0, catalog.highestObject());
  }

  @Test
  void shouldRefuseImpossibleRecords() {
    assertThrows(IllegalArgumentException.class, () -> new Filed(0, ObjectKind.BOX, 0, 0, 0, 7));
    assertThrows(IllegalArgumentException.class, () -> new Filed(1, ObjectKind.BOX, -1, 0, 0, 7));
    assertThrows(NullPointerException.class, () -> new Filed(1, null, 0, 0, 0, 7));
  }
}
