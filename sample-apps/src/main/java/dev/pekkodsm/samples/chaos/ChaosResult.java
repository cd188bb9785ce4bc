package dev.pekkodsm.samples.chaos;

import java.util.Map;

/**
 * What one chaos run did and what its checker found. Times in the run are seconds since the
 * workload began (after the load); {@code NaN} for what did not happen.
 *
 * @param fault {@code none}, {@code kill} or {@code pause}
 * @param nodes node processes (the driver not included)
 * @param victim the index of the process the fault struck
 * @param victimNode its node id
 * @param bucketsOnVictim buckets homed on the victim, of {@code buckets}
 * @param keysOnVictim keys whose bucket is homed on the victim, of {@code keys}
 * @param transport the nodes' {@code pekko.dsm.transport}
 * @param replication the nodes' {@code pekko.dsm.replication.factor}
 * @param heartbeatIntervalMs the failure detector's heartbeat interval
 * @param acceptableHeartbeatPauseMs the silence it tolerates before a member is unreachable
 * @param stableAfterMs how long the split brain resolver waits for stable membership
 * @param downingStrategy the split brain resolver's strategy
 * @param dsmDeadlineMs the longest a DSM call may block ({@code DsmSettings.blockingBudget})
 * @param slackMs what an operation may take beyond it before it counts as hung
 * @param pauseS how long the victim was paused
 * @param faultAtS when the fault struck
 * @param unreachableAtS when the driver saw the victim unreachable
 * @param removedAtS when the driver saw it removed from the cluster
 * @param resumedAtS when the paused victim was resumed
 * @param recoveredAtS when the fault was over: the end of the window during it
 * @param endAtS when the workload was told to stop
 * @param victimExit the victim's exit code, or {@code running}
 * @param clientsLeftBehind clients still inside an operation when the run ended
 * @param victimKeyErrors errors of operations on the victim's keys, by kind
 * @param otherKeyErrors errors of operations on the other keys, by kind
 * @param slowestLostMs the longest an operation that failed with {@code ObjectLostException} took
 * @param slowestFailAfterRemovalMs the longest an operation on the victim's keys, invoked after the
 *     driver saw the victim removed, took to fail: how fast the loss is reported
 * @param errorMessages what the first error of each kind said
 * @param driverGcCount garbage collections of the driver's JVM from the start of the workload to
 *     the end of the final reads
 * @param driverGcTotalMs their time in all (they stop the clients)
 * @param driverGcLongestMs the longest of them
 */
public record ChaosResult(
    String fault,
    int nodes,
    int victim,
    String victimNode,
    int bucketsOnVictim,
    int keysOnVictim,
    int keys,
    int buckets,
    int valueBytes,
    double readRatio,
    int threads,
    String transport,
    int replication,
    long seed,
    long heartbeatIntervalMs,
    long acceptableHeartbeatPauseMs,
    long stableAfterMs,
    String downingStrategy,
    long dsmDeadlineMs,
    long slackMs,
    double pauseS,
    double faultAtS,
    double unreachableAtS,
    double removedAtS,
    double resumedAtS,
    double recoveredAtS,
    double endAtS,
    String victimExit,
    int clientsLeftBehind,
    Map<String, Long> victimKeyErrors,
    Map<String, Long> otherKeyErrors,
    double slowestLostMs,
    double slowestFailAfterRemovalMs,
    Map<String, String> errorMessages,
    long driverGcCount,
    long driverGcTotalMs,
    long driverGcLongestMs,
    ChaosVerdict verdict) {

  /** Copies the maps. */
  public ChaosResult {
    victimKeyErrors = Map.copyOf(victimKeyErrors);
    otherKeyErrors = Map.copyOf(otherKeyErrors);
    errorMessages = Map.copyOf(errorMessages);
  }
}
