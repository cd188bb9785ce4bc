package dev.pekkodsm.samples.socialnet;

/**
 * Marker of every message the SocialNet services exchange, bound to Pekko's Jackson CBOR serializer
 * (what the Pekko documentation recommends), in every variant alike: only what the messages carry
 * differs. Handles inside them travel with the DSM's Jackson module.
 */
interface SnMessage {}
