package dev.pekkodsm.samples.kv;

/**
 * What one system did in one measured interval. Latencies are microseconds, from HdrHistogram (3
 * significant digits); {@code messagesPerOp} is {@code NaN} where the system cannot count its
 * messages.
 */
public record KvResult(
    String system,
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
