package dev.pekkodsm.memory.rdma;

/**
 * What a reader needs to read one segment of a peer's arena with RDMA: the segment's registered
 * virtual address in the peer's process, its remote key and its registered length.
 */
record SegmentKey(int segment, long address, int rkey, int length) {}
