package dev.pekkodsm.memory;

/**
 * What a peer needs to read a node's arena: where its segment files are and the random token that
 * proves a mapping is of this arena and not of a namesake on another host.
 *
 * @param node the owning node's id
 * @param directory the arena folder on the owner's host
 * @param tokenHi high half of the arena token
 * @param tokenLo low half of the arena token
 * @param segmentBytes the size of each segment file
 * @param maxSegments how many segments the arena may have
 */
public record ArenaEndpoint(
    long node, String directory, long tokenHi, long tokenLo, int segmentBytes, int maxSegments) {}
