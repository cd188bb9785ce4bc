package dev.pekkodsm.samples.socialnet;

/**
 * What one variant did in one measured window of one run. Latencies are microseconds from
 * HdrHistogram (3 significant digits), measured from when each request was due; {@code NaN} where
 * no request of that type ran. Traffic is per request completed in the window. The checks ({@code
 * checked} to {@code leakedSlots}) are those of the whole run the window belongs to.
 *
 * @param phase {@code probe} (closed loop, to estimate capacity), {@code sweep} (a step of the rate
 *     sweep), {@code half} (the rate half the slowest variant's saturation), or {@code fixed} (a
 *     rate given on the command line)
 * @param readRetries timeline reads a shard tried again because a pair of handles could not be
 *     copied until the post's home had topped its weight up ({@code dsm} only)
 * @param leakedObjects DSM objects still homed on the nodes after every post was deleted, minus
 *     those there before the first post
 * @param leakedSlots arena slots still in use after every post was deleted, minus those before
 */
public record SnResult(
    String variant,
    String workload,
    String media,
    long mediaBytes,
    int nodes,
    String phase,
    double offeredPerSec,
    double achievedPerSec,
    double seconds,
    long requests,
    double p50Us,
    double p99Us,
    double p999Us,
    double composeP50Us,
    double composeP99Us,
    double composeP999Us,
    double homeP50Us,
    double homeP99Us,
    double homeP999Us,
    double userP50Us,
    double userP99Us,
    double userP999Us,
    long errors,
    String firstError,
    long unsent,
    double wireBytesPerRequest,
    double arteryMessagesPerRequest,
    double dsmMessagesPerRequest,
    double oneSidedBytesPerRequest,
    long readRetries,
    long checked,
    long mediaVerified,
    long violations,
    String firstViolation,
    long leakedObjects,
    long leakedSlots) {

  /** Whether the run's checks passed: no violation and nothing leaked. */
  public boolean correct() {
    return violations == 0 && leakedObjects == 0 && leakedSlots == 0;
  }
}
