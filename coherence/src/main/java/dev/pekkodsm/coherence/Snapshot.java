package dev.pekkodsm.coherence;

/**
 * A published snapshot of an object: where its frame is in the home's arena and how many bytes it
 * has (header included). A reader needs both for a one-sided read.
 */
public record Snapshot(long locator, int frameBytes) {}
