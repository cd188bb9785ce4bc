package dev.pekkodsm.samples.dataframe;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.SplittableRandom;

/**
 * db-benchmark's group-by table, made by this project's generator and kept in a columnar cache file
 * so that every run (and every system's JVM) reads the same rows.
 *
 * <p>The columns follow db-benchmark's {@code groupby-datagen.R} definitions, each value drawn
 * uniformly and independently: id1 and id2 from the {@code k} strings {@code id001..}, id3 from the
 * {@code rows/k} strings {@code id0000000001..}, id4 and id5 from the integers 1..k, id6 from
 * 1..rows/k, v1 from 1..5, v2 from 1..15, v3 uniform in [0, 100) rounded to 6 decimals. The random
 * stream is this project's ({@link SplittableRandom}, one stream per column from the seed), so the
 * values differ from db-benchmark's R output but not their distribution.
 *
 * <p>The file: a 32-byte header (magic, rows, k, seed) then the nine columns one after the other,
 * little-endian: id1..id6, v1, v2 as 32-bit integers (id1..id3 as 0-based dictionary codes), v3 as
 * 64-bit doubles. It is written to a temporary name and renamed, so a crash leaves no half file.
 */
public final class GroupByTable {

  /** Columns in file order. */
  static final String[] COLUMNS = {"id1", "id2", "id3", "id4", "id5", "id6", "v1", "v2", "v3"};

  private static final long MAGIC = 0x314731_4d5344504bL; // "KPDSMG1" read as little-endian
  private static final int HEADER_BYTES = 32;
  private static final int BLOCK_ROWS = 1 << 16;

  private GroupByTable() {}

  /** The file this shape is cached in under {@code dir}: {@code <name>.bin}. */
  public static Path fileFor(Path dir, GroupByShape shape) {
    return dir.resolve(shape.name() + ".bin");
  }

  /**
   * The cache file of {@code shape} under {@code dir}, generated first if it is not there yet.
   *
   * @throws IOException if it cannot be written
   */
  public static Path ensure(Path dir, GroupByShape shape, long seed) throws IOException {
    Path file = fileFor(dir, shape);
    if (Files.exists(file)) {
      GroupByShape found = shapeOf(file);
      if (!found.equals(shape)) {
        throw new IllegalStateException(file + " holds " + found + ", not " + shape);
      }
      return file;
    }
    Files.createDirectories(dir);
    Path tmp = Files.createTempFile(dir, shape.name(), ".part");
    try {
      write(tmp, shape, seed);
      Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE);
    } finally {
      Files.deleteIfExists(tmp);
    }
    return file;
  }

  /**
   * The shape written in {@code file}'s header.
   *
   * @throws IllegalArgumentException if the file does not exist or is not such a table
   */
  public static GroupByShape shapeOf(Path file) throws IOException {
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
      ByteBuffer header = ByteBuffer.allocate(HEADER_BYTES).order(ByteOrder.LITTLE_ENDIAN);
      readFully(ch, header, 0);
      header.flip();
      if (header.remaining() < HEADER_BYTES || header.getLong() != MAGIC) {
        throw new IllegalArgumentException(
            file + " is not a group-by table file; delete it, or point --data-file elsewhere");
      }
      long rows = header.getLong();
      int k = header.getInt();
      GroupByShape shape = new GroupByShape((int) rows, k);
      long expected = HEADER_BYTES + 40L * rows;
      if (ch.size() != expected) {
        throw new IllegalArgumentException(
            file
                + " has "
                + ch.size()
                + " bytes, expected "
                + expected
                + "; delete it so that it is generated again");
      }
      return shape;
    } catch (NoSuchFileException e) {
      throw new IllegalArgumentException(
          "data file " + file + " does not exist; omit --data-file to generate the table");
    }
  }

  /** The string of dictionary code {@code code} of id1 or id2 ({@code small} false) or id3. */
  public static String level(GroupByShape shape, boolean small, int code) {
    return small ? String.format("id%010d", code + 1) : String.format("id%03d", code + 1);
  }

  /** Every level of id1/id2 ({@code small} false) or of id3, in code order. */
  public static String[] levels(GroupByShape shape, boolean small) {
    String[] out = new String[small ? shape.smallGroups() : shape.k()];
    for (int i = 0; i < out.length; i++) {
      out[i] = level(shape, small, i);
    }
    return out;
  }

  /** Rows {@code [from, to)} of the table in {@code file}, as one row group. */
  public static RowGroup read(Path file, int from, int to) throws IOException {
    GroupByShape shape = shapeOf(file);
    if (from < 0 || to > shape.rows() || from > to) {
      throw new IndexOutOfBoundsException(
          "rows [" + from + ", " + to + ") outside a table of " + shape.rows());
    }
    int n = to - from;
    long rows = shape.rows();
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
      int[][] ints = new int[8][];
      for (int c = 0; c < 8; c++) {
        ints[c] = new int[n];
        ByteBuffer buf = ByteBuffer.allocate(4 * n).order(ByteOrder.LITTLE_ENDIAN);
        readFully(ch, buf, HEADER_BYTES + 4L * (c * rows + from));
        buf.flip();
        buf.asIntBuffer().get(ints[c]);
      }
      double[] v3 = new double[n];
      ByteBuffer buf = ByteBuffer.allocate(8 * n).order(ByteOrder.LITTLE_ENDIAN);
      readFully(ch, buf, HEADER_BYTES + 32L * rows + 8L * from);
      buf.flip();
      buf.asDoubleBuffer().get(v3);
      return new RowGroup(
          ints[0], ints[1], ints[2], ints[3], ints[4], ints[5], ints[6], ints[7], v3);
    }
  }

  /** The whole table in one row group (tests and the single-JVM peers). */
  public static RowGroup readAll(Path file) throws IOException {
    return read(file, 0, shapeOf(file).rows());
  }

  /** Writes {@code rows} in the file format (for tests with hand-made rows). */
  static void write(Path file, GroupByShape shape, RowGroup rows) throws IOException {
    if (rows.rows() != shape.rows()) {
      throw new IllegalArgumentException(rows.rows() + " rows for " + shape);
    }
    int[][] ints = {rows.id1, rows.id2, rows.id3, rows.id4, rows.id5, rows.id6, rows.v1, rows.v2};
    try (FileChannel ch =
        FileChannel.open(
            file,
            StandardOpenOption.CREATE,
            StandardOpenOption.TRUNCATE_EXISTING,
            StandardOpenOption.WRITE)) {
      writeHeader(ch, shape, 0);
      for (int[] column : ints) {
        ByteBuffer buf = ByteBuffer.allocate(4 * column.length).order(ByteOrder.LITTLE_ENDIAN);
        buf.asIntBuffer().put(column);
        writeFully(ch, buf);
      }
      ByteBuffer buf = ByteBuffer.allocate(8 * rows.v3.length).order(ByteOrder.LITTLE_ENDIAN);
      buf.asDoubleBuffer().put(rows.v3);
      writeFully(ch, buf);
    }
  }

  private static void write(Path file, GroupByShape shape, long seed) throws IOException {
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
      writeHeader(ch, shape, seed);
      ByteBuffer buf = ByteBuffer.allocate(8 * BLOCK_ROWS).order(ByteOrder.LITTLE_ENDIAN);
      int[] bounds = {
        shape.k(),
        shape.k(),
        shape.smallGroups(), // codes 0..bound-1
        shape.k(),
        shape.k(),
        shape.smallGroups(),
        5,
        15 // values 1..bound
      };
      for (int c = 0; c < 8; c++) {
        SplittableRandom random = new SplittableRandom(seed * 31 + c);
        int base = c < 3 ? 0 : 1;
        for (int done = 0; done < shape.rows(); ) {
          int n = Math.min(BLOCK_ROWS, shape.rows() - done);
          buf.clear();
          for (int i = 0; i < n; i++) {
            buf.putInt(base + random.nextInt(bounds[c]));
          }
          buf.flip();
          writeFully(ch, buf);
          done += n;
        }
      }
      SplittableRandom random = new SplittableRandom(seed * 31 + 8);
      for (int done = 0; done < shape.rows(); ) {
        int n = Math.min(BLOCK_ROWS, shape.rows() - done);
        buf.clear();
        for (int i = 0; i < n; i++) {
          // R: round(runif(N, max = 100), 6)
          buf.putDouble(Math.rint(random.nextDouble() * 100e6) / 1e6);
        }
        buf.flip();
        writeFully(ch, buf);
        done += n;
      }
    }
  }

  private static void writeHeader(FileChannel ch, GroupByShape shape, long seed)
      throws IOException {
    ByteBuffer header = ByteBuffer.allocate(HEADER_BYTES).order(ByteOrder.LITTLE_ENDIAN);
    header.putLong(MAGIC).putLong(shape.rows()).putInt(shape.k()).putInt(0).putLong(seed);
    header.flip();
    writeFully(ch, header);
  }

  private static void writeFully(FileChannel ch, ByteBuffer buf) throws IOException {
    while (buf.hasRemaining()) {
      ch.write(buf);
    }
  }

  private static void readFully(FileChannel ch, ByteBuffer buf, long position) throws IOException {
    long at = position;
    while (buf.hasRemaining()) {
      int n = ch.read(buf, at);
      if (n < 0) {
        return;
      }
      at += n;
    }
  }
}
