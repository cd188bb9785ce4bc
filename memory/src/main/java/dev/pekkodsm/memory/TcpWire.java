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
 * then, any number of times, pipelined, a request (a 24-byte header, then a body by opcode):
 *   opcode u32 | arg u32 | request id u64 | locator u64 | body
 *   READ  "READ"  locator = an arena slot; no body. The reply is one stable copy of its frame.
 *   READV "RDVL"  locator = a value slot of the sync region; no body. The same, of that slot.
 *   PEEKV "PKVL"  locator = a value slot; body: object u64. The reply: its frame's color (u64),
 *                 read under the seqlock without the frame, or -1.
 *   LOAD  "LOAD"  arg = field, locator = a cell; body: object u64. The reply: the field (u64).
 *   XCHG  "XCHG"  arg = field, locator = a cell; body: object u64 | expected u64 | update u64.
 *                 The reply: the field before (u64); it was exchanged if that is the expected.
 *   ADD   "GADD"  arg = field, locator = a cell; body: object u64 | delta u64. The reply: the
 *                 field before (u64).
 *   WRITEV "WRVL" arg = frame length, locator = a value slot; body: the frame. The reply is empty.
 *   COMMIT "WRXC" arg = frame length, locator = a two-slot cell; body: object u64 | slot field u64
 *                 | expected u64 | update u64 | the frame. Writes the frame into the slot the
 *                 field locates if the word holds the expected, then exchanges the word as XCHG
 *                 does (not if the write failed). The reply: the word's witness (u64).
 *   ACTIVE "RDAC" arg = selector bit, locator = a two-slot cell; body: object u64 | known color
 *                 i64. The reply: word u64 | color i64 of the selected slot's frame (-1: none),
 *                 then a stable copy of that frame unless its color is the known one.
 *   XREAD "XCRD"  arg = selector bit, locator = a two-slot cell; body: object u64 | expected u64
 *                 | update u64 | known color i64. Exchanges the word as XCHG does, then, only if
 *                 it was exchanged, reads the slot the selector bit of the expected word selects
 *                 as ACTIVE does. The reply: witness u64 | read status u64 (a status below: how
 *                 the slot's copy went; COPIED if not exchanged) | color i64 of the slot's frame
 *                 (-1: none, or not exchanged), then a stable copy of that frame if it was
 *                 exchanged, copied, and its color is not the known one. Once the word is
 *                 exchanged the reply carries the witness whatever the read did.
 *   MESG  "MESG"  arg = body length (at most 512 KiB), locator = channel; body: a message for the
 *                 handler the node registered ({@link TcpReadServer#handleMessages}). The reply is
 *                 the handler's answer, or REFUSED (no handler, or it refused the message). The
 *                 node's own protocols use it (the replication stream); bytes are not looked at
 *                 here.
 * server -> client (REPLY, 16 bytes + length)
 *   request id u64 | status i32 | length i32 | length bytes
 * </pre>
 *
 * The server copies a slot under its seqlock and checks nothing else; the client applies exactly
 * the checks a same-host reader applies ({@link SlotReads#check}). Cell operations are the atomic
 * instructions a same-host peer uses, done by the server on the client's behalf (one round trip, as
 * an RDMA atomic would be), each checked to name its cell's object. An unknown opcode, or a frame
 * longer than the server's largest, closes the connection.
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
  static final int READ_VALUE_OPCODE = 0x4c564452; // "RDVL"
  static final int PEEK_VALUE_OPCODE = 0x4c564b50; // "PKVL"
  static final int LOAD_OPCODE = 0x44414f4c; // "LOAD"
  static final int EXCHANGE_OPCODE = 0x47484358; // "XCHG"
  static final int ADD_OPCODE = 0x44444147; // "GADD"
  static final int WRITE_VALUE_OPCODE = 0x4c565257; // "WRVL"
  static final int READ_ACTIVE_OPCODE = 0x43414452; // "RDAC"
  static final int WRITE_EXCHANGE_OPCODE = 0x43585257; // "WRXC"
  static final int EXCHANGE_READ_OPCODE = 0x44524358; // "XCRD"
  static final int MESSAGE_OPCODE = 0x4753454d; // "MESG"

  /** The largest message body a server takes ({@link #MESSAGE_OPCODE}). */
  static final int MAX_MESSAGE_BYTES = 512 * 1024;

  static final int REQUEST_BYTES = 24;
  static final int REPLY_HEADER_BYTES = 16;

  /** The word and the color ahead of the frame in a reply to {@link #READ_ACTIVE_OPCODE}. */
  static final int ACTIVE_PREFIX_BYTES = 16;

  /** The witness, the read status and the color ahead of the frame in a reply to XCRD. */
  static final int EXCHANGE_READ_PREFIX_BYTES = 24;

  /** The longest prefix ahead of a frame in any reply. */
  static final int MAX_PREFIX_BYTES = EXCHANGE_READ_PREFIX_BYTES;

  static final int COPIED = 0;
  static final int OUT_OF_RANGE = 1;
  static final int CONTENDED = 2;
  static final int NOT_THIS_OBJECT = 3;
  static final int TOO_LARGE = 4;
  static final int NO_REGION = 5;
  static final int REFUSED = 6;

  /** The largest status a server sends. */
  static final int LAST_STATUS = REFUSED;

  /**
   * The body length of a request, or -1 if the opcode is unknown or the length impossible.
   *
   * @param maxFrameBytes the largest frame a write may carry
   */
  static int bodyBytes(int opcode, int arg, int maxFrameBytes) {
    return switch (opcode) {
      case READ_OPCODE, READ_VALUE_OPCODE -> 0;
      case PEEK_VALUE_OPCODE, LOAD_OPCODE -> 8;
      case EXCHANGE_OPCODE -> 24;
      case EXCHANGE_READ_OPCODE -> 32;
      case ADD_OPCODE, READ_ACTIVE_OPCODE -> 16;
      case WRITE_VALUE_OPCODE -> arg >= 0 && arg <= maxFrameBytes ? arg : -1;
      case WRITE_EXCHANGE_OPCODE -> arg >= 0 && arg <= maxFrameBytes ? 32 + arg : -1;
      case MESSAGE_OPCODE -> arg >= 0 && arg <= MAX_MESSAGE_BYTES ? arg : -1;
      default -> -1;
    };
  }

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
