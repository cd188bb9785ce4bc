package dev.pekkodsm.memory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * The arena folders on disk: each is created under {@code pekko.dsm.arena.directory} with a record
 * of the process that owns it (pid and pid namespace), so that folders left by processes that died
 * can be told apart from live ones, in this container or another sharing the directory, and
 * deleted. Static helpers of {@link SnapshotArena}.
 */
final class ArenaFolders {

  private static final String FOLDER_PREFIX = "pekko-dsm-";
  private static final String OWNER_FILE = "owner";

  private ArenaFolders() {}

  /**
   * A new arena folder whose name starts with {@code namePrefix} (after the project's prefix), with
   * its owner record; stale folders are deleted first if the settings say so.
   */
  static Path create(ArenaSettings settings, String namePrefix) {
    try {
      Files.createDirectories(settings.directory());
      if (settings.cleanStale()) {
        deleteStale(settings.directory());
      }
      Path folder = Files.createTempDirectory(settings.directory(), FOLDER_PREFIX + namePrefix);
      Files.writeString(folder.resolve(OWNER_FILE), ownerRecord(), StandardCharsets.UTF_8);
      return folder;
    } catch (IOException e) {
      throw new UncheckedIOException(
          "cannot create the snapshot arena under "
              + settings.directory()
              + " (pekko.dsm.arena.directory)",
          e);
    }
  }

  private static String ownerRecord() {
    return "pid=" + ProcessHandle.current().pid() + "\npidns=" + pidNamespace().orElse("") + "\n";
  }

  private static Optional<String> pidNamespace() {
    try {
      return Optional.of(Files.readSymbolicLink(Path.of("/proc/self/ns/pid")).toString());
    } catch (IOException | UnsupportedOperationException | SecurityException e) {
      return Optional.empty();
    }
  }

  /**
   * Deletes arena folders whose owner process is dead. Only folders written from this pid namespace
   * are judged, so arenas of live processes in other containers sharing the directory are never
   * touched.
   */
  static int deleteStale(Path directory) {
    Optional<String> myNamespace = pidNamespace();
    if (myNamespace.isEmpty()) {
      return 0;
    }
    int deleted = 0;
    List<Path> candidates = new ArrayList<>();
    try (DirectoryStream<Path> stream = Files.newDirectoryStream(directory, FOLDER_PREFIX + "*")) {
      stream.forEach(candidates::add);
    } catch (IOException e) {
      return 0;
    }
    for (Path candidate : candidates) {
      try {
        String owner = Files.readString(candidate.resolve(OWNER_FILE), StandardCharsets.UTF_8);
        long pid = -1;
        String namespace = null;
        for (String line : owner.split("\n")) {
          if (line.startsWith("pid=")) {
            pid = Long.parseLong(line.substring(4).trim());
          } else if (line.startsWith("pidns=")) {
            namespace = line.substring(6).trim();
          }
        }
        if (pid > 0 && myNamespace.get().equals(namespace) && ProcessHandle.of(pid).isEmpty()) {
          delete(candidate);
          deleted++;
        }
      } catch (IOException | RuntimeException e) {
        // Not an arena we can judge; leave it.
      }
    }
    return deleted;
  }

  static void delete(Path folder) {
    try (Stream<Path> walk = Files.walk(folder)) {
      walk.sorted(Comparator.reverseOrder())
          .forEach(
              p -> {
                try {
                  Files.deleteIfExists(p);
                } catch (IOException ignored) {
                  // Best effort: a leftover file is cleaned by the next start on this host.
                }
              });
    } catch (IOException ignored) {
      // The folder is already gone.
    }
  }
}
