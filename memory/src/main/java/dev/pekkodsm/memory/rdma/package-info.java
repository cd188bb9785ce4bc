/**
 * The {@code rdma} one-sided transport, on DiSNI ({@code com.ibm.disni:disni} 2.1): a node
 * registers its snapshot arena with its RDMA NIC and runs an {@link
 * dev.pekkodsm.memory.rdma.RdmaArenaServer}; peers read its slots with {@code IBV_WR_RDMA_READ}
 * through an {@link dev.pekkodsm.memory.rdma.RdmaTransport}, without involving its CPU. Given the
 * node's sync region, the listener registers it too, for remote writes and atomics, and peers lock,
 * count and commit with {@code IBV_WR_ATOMIC_CMP_AND_SWP}, {@code IBV_WR_ATOMIC_FETCH_AND_ADD},
 * {@code IBV_WR_RDMA_WRITE} and reads ({@code RemoteSync}). {@link dev.pekkodsm.memory.rdma.Rdma}
 * says whether this JVM can use it, and why not.
 *
 * <h2>What a user must install</h2>
 *
 * <ul>
 *   <li>An RDMA NIC (InfiniBand, RoCE or iWARP) with its kernel driver and the {@code rdma_cm},
 *       {@code rdma_ucm} and {@code ib_uverbs} modules, and rdma-core's user-space libraries
 *       ({@code libibverbs}, {@code librdmacm} and the NIC's provider). {@code ibv_devices} must
 *       list the device. SoftRoCE ({@code rdma_rxe}) works where the kernel has InfiniBand support.
 *   <li>{@code libdisni}, DiSNI's native library, which is not in DiSNI's jar. Build it from
 *       DiSNI's sources (tag {@code v2.1} of {@code github.com/zrlio/disni}) against rdma-core's
 *       headers ({@code libibverbs-dev} and {@code librdmacm-dev} on Debian and Ubuntu, {@code
 *       rdma-core-devel} on RHEL) with autotools and a JDK: {@code cd libdisni; ./autoprepare.sh;
 *       ./configure --with-jdk=$JAVA_HOME; make install}. Then start the JVM with {@code
 *       -Djava.library.path=/usr/local/lib} (or wherever {@code make install} put {@code
 *       libdisni.so}), or put that directory on {@code LD_LIBRARY_PATH}.
 *   <li>The JVM flag {@code --add-exports java.base/sun.nio.ch=ALL-UNNAMED}: DiSNI reads the
 *       address of every buffer it hands the NIC through {@code sun.nio.ch.DirectBuffer}, which
 *       Java 17 does not export.
 *   <li>A locked-memory limit ({@code ulimit -l}) large enough for the arena's segments and the
 *       readers' buffers, which registration pins.
 * </ul>
 *
 * The listener binds an IPv4 address of the RDMA interface (DiSNI supports neither IPv6 nor
 * wildcard binds for this). Setting {@code -Dpekko.dsm.rdma.disabled=true} turns the transport off.
 * When anything is missing, {@link dev.pekkodsm.memory.rdma.Rdma#unavailabilityCause()} says what,
 * and {@code pekko.dsm.transport = auto} uses {@code shm} or {@code tcp} instead.
 *
 * <h2>Status</h2>
 *
 * The data path has NOT been run on RDMA hardware in this project's CI: the machines that build it
 * have no RDMA support in their kernel, so not even SoftRoCE can run there. It compiles against
 * DiSNI's real API, its probe, settings, wire format, read protocol and sync protocol (against
 * in-memory stand-ins for the NIC), the wait for completions (against a stand-in poller) and the
 * native bytes of its atomic work requests are tested, and its hardware tests ({@code
 * RdmaTransportTest}, {@code RdmaConformanceTest}, {@code RdmaSyncTest}) are skipped unless {@link
 * dev.pekkodsm.memory.rdma.Rdma#isAvailable()}.
 */
package dev.pekkodsm.memory.rdma;
