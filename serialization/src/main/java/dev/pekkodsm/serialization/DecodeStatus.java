package dev.pekkodsm.serialization;

/** What a check of snapshot bytes found. Only {@link #OK} bytes ever reach Kryo. */
public enum DecodeStatus {
  /** Header, length and checksum are valid and name the expected object. */
  OK,
  /** Fewer bytes than the header, or than the header plus the length it announces. */
  TRUNCATED,
  /** The first word is not the snapshot magic: not a snapshot, or a freed slot. */
  BAD_MAGIC,
  /** The announced length is negative or above the configured maximum. */
  TOO_LARGE,
  /** The CRC32C over header and payload does not match: corrupt bytes. */
  CRC_MISMATCH,
  /** A valid snapshot, but of another object or another color: the slot was reused. */
  WRONG_OBJECT,
  /** The payload names a class id this node has not registered. */
  UNKNOWN_CLASS,
  /** The checksum matched but Kryo could not decode the payload. */
  MALFORMED
}
