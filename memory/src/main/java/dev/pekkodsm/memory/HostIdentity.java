package dev.pekkodsm.memory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.UUID;

/**
 * Says whether two nodes share the memory their arenas live in, which is what {@code shm} needs:
 * not the same IP address (containers, NAT and multi-homed hosts make that a poor test) but the
 * same arena directory on the same running kernel.
 *
 * <p>The identity is the kernel's boot id (Linux; absent elsewhere) joined with a random id kept in
 * a file inside the arena directory, created by the first node that looks. Two nodes that read the
 * same file under the same boot share that directory; a namesake directory on another host, or in a
 * container with its own {@code /dev/shm}, holds another id. The shm transport still verifies the
 * arena's token when it maps a peer, so a false match costs a fallback, never a wrong read.
 */
public final class HostIdentity {

  private static final String FILE = "pekko-dsm-host-id";
  private static final Path BOOT_ID = Path.of("/proc/sys/kernel/random/boot_id");

  private HostIdentity() {}

  /**
   * The host identity for arenas under {@code arenaDirectory}.
   *
   * @throws UncheckedIOException if the directory cannot hold the id file
   */
  public static String of(Path arenaDirectory) {
    try {
      Files.createDirectories(arenaDirectory);
      return bootId() + "/" + directoryId(arenaDirectory);
    } catch (IOException e) {
      throw new UncheckedIOException(
          "cannot read or create " + arenaDirectory.resolve(FILE) + " (pekko.dsm.arena.directory)",
          e);
    }
  }

  private static String bootId() {
    try {
      return Files.readString(BOOT_ID, StandardCharsets.US_ASCII).trim();
    } catch (IOException | SecurityException e) {
      return "no-boot-id";
    }
  }

  private static String directoryId(Path directory) throws IOException {
    Path file = directory.resolve(FILE);
    for (int attempt = 0; attempt < 5; attempt++) {
      if (Files.exists(file)) {
        String id = Files.readString(file, StandardCharsets.US_ASCII).trim();
        if (!id.isEmpty()) {
          return id;
        }
      }
      // Write under a private name, then link it into place: readers never see a half-written
      // id, and a link never replaces an existing file, so of two nodes racing the first wins
      // and the other adopts its id.
      Path temp = Files.createTempFile(directory, FILE, ".tmp");
      try {
        Files.writeString(temp, UUID.randomUUID().toString(), StandardCharsets.US_ASCII);
        try {
          Files.createLink(file, temp);
        } catch (FileAlreadyExistsException e) {
          // another node won: read its id
        } catch (UnsupportedOperationException e) {
          try {
            Files.move(temp, file); // no hard links here: a move that refuses to replace
          } catch (FileAlreadyExistsException raced) {
            // another node won: read its id
          }
        }
      } finally {
        Files.deleteIfExists(temp);
      }
    }
    String id = Files.readString(file, StandardCharsets.US_ASCII).trim();
    if (id.isEmpty()) {
      throw new IOException(file + " is empty");
    }
    return id;
  }
}
