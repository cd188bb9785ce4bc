package dev.pekkodsm.memory.rdma;

import com.ibm.disni.util.MemoryUtils;
import com.ibm.disni.verbs.RdmaEventChannel;
import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * The steps of {@link Rdma}'s probe that touch DiSNI. A class of its own so that DiSNI's classes
 * are resolved only when a step runs, inside the probe's catch-all.
 */
final class DisniProbe {

  private DisniProbe() {}

  /**
   * Loads {@code libdisni} (the first DiSNI call does) and opens and closes an RDMA CM event
   * channel: {@code rdma_create_event_channel} lists the verbs devices first and fails with {@code
   * ENODEV} ("No such device") when there is none, or when the kernel has no RDMA support.
   */
  static void openEventChannel() throws IOException {
    RdmaEventChannel channel = RdmaEventChannel.createEventChannel();
    if (channel == null) {
      throw new IOException("rdma_create_event_channel returned no channel: no RDMA device");
    }
    channel.destroyEventChannel();
  }

  /**
   * DiSNI passes every buffer to the NIC by address, read through {@code sun.nio.ch.DirectBuffer};
   * on Java 17 that throws {@link IllegalAccessError} unless the package is exported.
   */
  static void readDirectBufferAddress() {
    if (MemoryUtils.getAddress(ByteBuffer.allocateDirect(8)) == 0) {
      throw new IllegalStateException("DiSNI read a null address for a direct buffer");
    }
  }
}
