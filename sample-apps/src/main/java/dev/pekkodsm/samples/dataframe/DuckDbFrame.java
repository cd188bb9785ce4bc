package dev.pekkodsm.samples.dataframe;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import org.duckdb.DuckDBAppender;
import org.duckdb.DuckDBConnection;

/**
 * DuckDB through JDBC, in this JVM: the single-machine floor and the correctness oracle. The table
 * is an in-memory DuckDB table {@code x} of db-benchmark's column types (VARCHAR id1..id3, INTEGER
 * id4..id6, v1, v2, DOUBLE v3), filled through DuckDB's appender; DuckDB uses all the machine's
 * cores (its default). Each question runs as db-benchmark's DuckDB solution runs it, {@code CREATE
 * TABLE ans AS <query>}, and that statement alone is timed, as db-benchmark times it; the answer is
 * then read through JDBC (untimed) so that it can be compared. Its node count is always 1.
 */
final class DuckDbFrame implements FrameSystem {

  private static final int LOAD_ROWS = 1 << 20;

  private final Connection connection;

  private DuckDbFrame(Connection connection) {
    this.connection = connection;
  }

  static FrameSystem start(int nodes, Path file, GroupByShape shape) throws Exception {
    Connection connection = DriverManager.getConnection("jdbc:duckdb:");
    try {
      load(connection, file, shape);
      return new DuckDbFrame(connection);
    } catch (Exception | Error e) {
      connection.close();
      throw e;
    }
  }

  private static void load(Connection connection, Path file, GroupByShape shape) throws Exception {
    try (Statement s = connection.createStatement()) {
      s.execute(
          "CREATE TABLE x (id1 VARCHAR, id2 VARCHAR, id3 VARCHAR, id4 INTEGER, id5 INTEGER,"
              + " id6 INTEGER, v1 INTEGER, v2 INTEGER, v3 DOUBLE)");
    }
    GroupBy.Levels levels = GroupBy.Levels.of(shape);
    try (DuckDBAppender appender =
        connection
            .unwrap(DuckDBConnection.class)
            .createAppender(DuckDBConnection.DEFAULT_SCHEMA, "x")) {
      for (int from = 0; from < shape.rows(); from += LOAD_ROWS) {
        RowGroup r = GroupByTable.read(file, from, Math.min(shape.rows(), from + LOAD_ROWS));
        for (int i = 0; i < r.rows(); i++) {
          appender
              .beginRow()
              .append(levels.large()[r.id1[i]])
              .append(levels.large()[r.id2[i]])
              .append(levels.small()[r.id3[i]])
              .append(r.id4[i])
              .append(r.id5[i])
              .append(r.id6[i])
              .append(r.v1[i])
              .append(r.v2[i])
              .append(r.v3[i])
              .endRow();
        }
      }
    }
  }

  @Override
  public int nodes() {
    return 1;
  }

  @Override
  public Answered answer(Question q) throws SQLException {
    long nanos;
    try (Statement s = connection.createStatement()) {
      s.execute("DROP TABLE IF EXISTS ans");
      long start = System.nanoTime();
      s.execute("CREATE TABLE ans AS " + q.sql());
      nanos = System.nanoTime() - start;
    }
    return new Answered(read(connection, q, "SELECT * FROM ans"), nanos);
  }

  /** Reads the rows of {@code sql} as the answer to {@code q} (NULL as NaN). */
  static Answer read(Connection connection, Question q, String sql) throws SQLException {
    Answer.Builder b = new Answer.Builder(q);
    List<Question.Type> types = q.types();
    try (Statement s = connection.createStatement();
        ResultSet rs = s.executeQuery(sql)) {
      while (rs.next()) {
        for (int c = 0; c < types.size(); c++) {
          switch (types.get(c)) {
            case STRING -> b.string(c, rs.getString(c + 1));
            case LONG -> b.integer(c, rs.getLong(c + 1));
            case DOUBLE -> {
              double v = rs.getDouble(c + 1);
              b.real(c, rs.wasNull() ? Double.NaN : v);
            }
          }
        }
        b.endRow();
      }
    }
    return b.build();
  }

  @Override
  public long offHeapBytes() {
    try (Statement s = connection.createStatement();
        ResultSet rs = s.executeQuery("SELECT sum(memory_usage_bytes) FROM duckdb_memory()")) {
      return rs.next() ? rs.getLong(1) : 0;
    } catch (SQLException e) {
      return 0;
    }
  }

  @Override
  public void close() {
    try {
      connection.close();
    } catch (SQLException e) {
      throw new IllegalStateException("DuckDB did not close: " + e.getMessage(), e);
    }
  }
}
