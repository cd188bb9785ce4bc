package dev.pekkodsm.memory;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * The tcp read protocol, little-endian throughout.
 *
 * <pre>
 * server -> client, on accept (HELLO, 56 bytes)
 *   magic u64 "PDSTTCP1" | version u32 | flags u32 (1 = secret required)
 *   arena token hi u64 | lo u64 | node u64 | nonce 16 bytes
 * client -> server (AUTH, 40 bytes)
 *   magic u64 | mac 32 bytes: HMAC-SHA256(secret, nonce | token hi | token lo), zeros if no secret
 * server -> client (ACCEPT, 8 bytes)
 *   magic u32 "PDOK" | status u32 (0 accepted; else refused and closed)
 * then, any number of times, pipelined:
 * client -> server (READ, 24 bytes)
 *   opcode u32 "READ" | reserved u32 | request id u64 | slot locator u64
 * server -> client (REPLY, 16 bytes + length)
 *   request id u64 | status i32 | length i32 | length bytes: one stable copy of the slot's frame
 * </pre>
 *
 * The server copies a slot under its seqlock and checks nothing else; the client applies exactly
 * the checks a same-host reader applies ({@link SlotReads#check}). An unknown opcode closes the
 * connection.
 */
final class TcpWire {

  static final long HELLO_MAGIC = 0x3150435454534450L; // "PDSTTCP1" little-endian
  static final int VERSION = 1;
  static final int FLAG_SECRET = 1;
  static final int HELLO_BYTES = 56;
  static final int NONCE_BYTES = 16;
  static final int MAC_BYTES = 32;
  static final int AUTH_BYTES = 8 + MAC_BYTES;
  static final int ACCEPT_MAGIC = 0x4b4f4450; // "PDOK"
  static final int ACCEPT_BYTES = 8;
  static final int ACCEPTED = 0;
  static final int REFUSED_PROTOCOL = 1;
  static final int REFUSED_SECRET = 2;

  static final int READ_OPCODE = 0x44414552; // "READ"
  static final int REQUEST_BYTES = 24;
  static final int REPLY_HEADER_BYTES = 16;

  static final int COPIED = 0;
  static final int OUT_OF_RANGE = 1;
  static final int CONTENDED = 2;

  private TcpWire() {}

  /** The handshake MAC; 32 zero bytes when {@code secret} is empty. */
  static byte[] mac(String secret, byte[] nonce, long tokenHi, long tokenLo) {
    if (secret.isEmpty()) {
      return new byte[MAC_BYTES];
    }
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
      mac.update(nonce);
      byte[] token = new byte[16];
      for (int i = 0; i < 8; i++) {
        token[i] = (byte) (tokenHi >>> (8 * i));
        token[8 + i] = (byte) (tokenLo >>> (8 * i));
      }
      return mac.doFinal(token);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("HmacSHA256 is not available in this JDK", e);
    }
  }

  /** Compares MACs in constant time. */
  static boolean sameMac(byte[] a, byte[] b) {
    return MessageDigest.isEqual(a, b);
  }
}
