package dev.pekkodsm.samples.kv;

/**
 * What one system did in one run. Operations, throughput, latencies and messages per operation
 * cover the measured window (the same interval for all of them); latencies are microseconds, from
 * HdrHistogram (3 significant digits); {@code messagesPerOp} is {@code NaN} where the system cannot
 * count its messages. The correctness counts ({@code reads}, {@code staleReads}, {@code
 * malformedReads}, {@code errors}) cover every client operation of the run, warm-up included.
 *
 * @param transport what a GET of another node's data travelled over ({@link KvSystem#transport()})
 * @param linearizable whether the system promises linearizable GETs, so that any stale read fails
 *     the run
 */
public record KvResult(
    String system,
    String transport,
    boolean linearizable,
    int nodes,
    int threadsPerNode,
    double readRatio,
    double zipf,
    int keys,
    int valueBytes,
    long ops,
    double seconds,
    double opsPerSec,
    double p50Us,
    double p99Us,
    double p999Us,
    double getP50Us,
    double setP50Us,
    long reads,
    long staleReads,
    long malformedReads,
    long errors,
    String firstError,
    double messagesPerOp) {}
