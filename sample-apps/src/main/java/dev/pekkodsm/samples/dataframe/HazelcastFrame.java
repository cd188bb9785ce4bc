package dev.pekkodsm.samples.dataframe;

import com.hazelcast.config.InMemoryFormat;
import com.hazelcast.config.MapConfig;
import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.map.IMap;
import com.hazelcast.spi.properties.ClusterProperty;
import com.hazelcast.sql.SqlResult;
import com.hazelcast.sql.SqlRow;
import com.hazelcast.sql.SqlService;
import com.hazelcast.sql.SqlStatement;
import dev.pekkodsm.samples.kv.HazelcastKv;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.Consumer;

/**
 * Hazelcast SQL over an {@code IMap}, what a data-grid user runs: {@code N} embedded members in
 * this JVM (started as the KV comparison starts them, with the Jet engine on, which SQL needs), the
 * table as an {@code IMap<Long, Row>} of one Compact-serialized entry per row (BINARY format, no
 * backup: the table is read only and is loaded once), mapped for SQL as {@code x}. Each question is
 * one SQL query submitted on member 0, its rows read into the answer there.
 *
 * <p>Hazelcast's SQL has no median, standard deviation, correlation or window function. Questions 6
 * and 8 therefore read the needed columns of every row through SQL and finish on the caller ({@link
 * GroupBy}'s median, deviation and top two), and question 9 has SQL compute the six sums a
 * correlation needs and finishes {@code corr^2} on the caller; the rest are plain SQL.
 */
final class HazelcastFrame implements FrameSystem {

  /** A row of the table, as the map's value. */
  public record Row(
      String id1, String id2, String id3, int id4, int id5, int id6, int v1, int v2, double v3) {}

  static final String MAP_NAME = "x";

  private static final int LOAD_BATCH = 10_000;
  private static final long QUERY_TIMEOUT_MS = 30 * 60_000L;

  private static final Map<Question, String> SQL = new HashMap<>();

  static {
    SQL.put(Question.Q1, "SELECT id1, SUM(v1) FROM x GROUP BY id1");
    SQL.put(Question.Q2, "SELECT id1, id2, SUM(v1) FROM x GROUP BY id1, id2");
    SQL.put(Question.Q3, "SELECT id3, SUM(v1), AVG(v3) FROM x GROUP BY id3");
    SQL.put(
        Question.Q4,
        "SELECT id4, AVG(CAST(v1 AS DOUBLE)), AVG(CAST(v2 AS DOUBLE)), AVG(v3) FROM x"
            + " GROUP BY id4");
    SQL.put(Question.Q5, "SELECT id6, SUM(v1), SUM(v2), SUM(v3) FROM x GROUP BY id6");
    SQL.put(Question.Q6, "SELECT id4, id5, v3 FROM x");
    SQL.put(Question.Q7, "SELECT id3, MAX(v1) - MIN(v2) FROM x GROUP BY id3");
    SQL.put(Question.Q8, "SELECT id6, v3 FROM x");
    SQL.put(
        Question.Q9,
        "SELECT id2, id4, COUNT(*), SUM(CAST(v1 AS BIGINT)), SUM(CAST(v2 AS BIGINT)),"
            + " SUM(CAST(v1 AS BIGINT) * v1), SUM(CAST(v2 AS BIGINT) * v2),"
            + " SUM(CAST(v1 AS BIGINT) * v2) FROM x GROUP BY id2, id4");
    SQL.put(
        Question.Q10,
        "SELECT id1, id2, id3, id4, id5, id6, SUM(v3), COUNT(*) FROM x"
            + " GROUP BY id1, id2, id3, id4, id5, id6");
  }

  private final List<HazelcastInstance> members;
  private final GroupByShape shape;
  private final GroupBy.Levels levels;
  private final SqlService sql;

  private HazelcastFrame(List<HazelcastInstance> members, GroupByShape shape) {
    this.members = List.copyOf(members);
    this.shape = shape;
    this.levels = GroupBy.Levels.of(shape);
    this.sql = members.get(0).getSql();
  }

  static FrameSystem start(int nodes, Path file, GroupByShape shape) throws Exception {
    Consumer<com.hazelcast.config.Config> table =
        config -> {
          config.getJetConfig().setEnabled(true);
          // Hazelcast's own default call timeout, not the KV comparison's 10 s: a member busy
          // aggregating 1e7 rows misses heartbeats for longer, and SQL's job start-up is retried.
          config.setProperty(
              ClusterProperty.OPERATION_CALL_TIMEOUT_MILLIS.getName(), Long.toString(60_000));
          config.addMapConfig(
              new MapConfig(MAP_NAME)
                  .setInMemoryFormat(InMemoryFormat.BINARY)
                  .setBackupCount(0)
                  .setAsyncBackupCount(0));
        };
    List<HazelcastInstance> members =
        HazelcastKv.startMembers("pekko-dsm-df-" + UUID.randomUUID(), nodes, table);
    HazelcastFrame frame = new HazelcastFrame(members, shape);
    try {
      frame.load(file);
      return frame;
    } catch (Exception | Error e) {
      frame.close();
      throw e;
    }
  }

  private void load(Path file) throws Exception {
    IMap<Long, Row> map = members.get(0).getMap(MAP_NAME);
    Map<Long, Row> batch = new HashMap<>();
    for (int from = 0; from < shape.rows(); from += LOAD_BATCH) {
      RowGroup r = GroupByTable.read(file, from, Math.min(shape.rows(), from + LOAD_BATCH));
      batch.clear();
      for (int i = 0; i < r.rows(); i++) {
        batch.put(
            (long) from + i,
            new Row(
                levels.large()[r.id1[i]],
                levels.large()[r.id2[i]],
                levels.small()[r.id3[i]],
                r.id4[i],
                r.id5[i],
                r.id6[i],
                r.v1[i],
                r.v2[i],
                r.v3[i]));
      }
      map.putAll(batch);
    }
    sql.execute(
            "CREATE OR REPLACE MAPPING x (__key BIGINT, id1 VARCHAR, id2 VARCHAR, id3 VARCHAR,"
                + " id4 INT, id5 INT, id6 INT, v1 INT, v2 INT, v3 DOUBLE) TYPE IMap OPTIONS"
                + " ('keyFormat'='bigint', 'valueFormat'='compact', 'valueCompactTypeName'='"
                + Row.class.getName()
                + "')")
        .close();
  }

  @Override
  public int nodes() {
    return members.size();
  }

  @Override
  public Answered answer(Question q) throws Exception {
    return FrameSystem.timed(() -> compute(q));
  }

  private Answer compute(Question q) {
    SqlStatement statement = new SqlStatement(SQL.get(q)).setTimeoutMillis(QUERY_TIMEOUT_MS);
    try (SqlResult result = sql.execute(statement)) {
      return switch (q) {
        case Q6, Q8 -> finishOnCaller(q, result);
        case Q9 -> regression(result);
        default -> plain(q, result);
      };
    }
  }

  private static Answer plain(Question q, SqlResult result) {
    Answer.Builder b = new Answer.Builder(q);
    List<Question.Type> types = q.types();
    for (SqlRow row : result) {
      for (int c = 0; c < types.size(); c++) {
        Object v = row.getObject(c);
        switch (types.get(c)) {
          case STRING -> b.string(c, (String) v);
          case LONG -> b.integer(c, ((Number) v).longValue());
          case DOUBLE -> b.real(c, v == null ? Double.NaN : ((Number) v).doubleValue());
        }
      }
      b.endRow();
    }
    return b.build();
  }

  /** q6 and q8: every row's key and v3 through SQL, then GroupBy's partial and merge here. */
  private Answer finishOnCaller(Question q, SqlResult result) {
    int n = shape.rows();
    int[] a = new int[n];
    int[] b = q == Question.Q6 ? new int[n] : new int[0];
    double[] v3 = new double[n];
    int i = 0;
    for (SqlRow row : result) {
      a[i] = row.getObject(0);
      if (q == Question.Q6) {
        b[i] = row.getObject(1);
      }
      v3[i++] = row.getObject(q == Question.Q6 ? 2 : 1);
    }
    if (i != n) {
      throw new IllegalStateException("read " + i + " rows of " + n);
    }
    int[] none = new int[0];
    RowGroup rows =
        q == Question.Q6
            ? new RowGroup(none, none, none, a, b, none, none, none, v3)
            : new RowGroup(none, none, none, none, none, a, none, none, v3);
    Partial p = GroupBy.partial(q, shape, rows);
    return GroupBy.merge(q, shape, levels, List.of(p));
  }

  /** q9: the sums through SQL, {@code corr^2} here. */
  private static Answer regression(SqlResult result) {
    Answer.Builder b = new Answer.Builder(Question.Q9);
    for (SqlRow row : result) {
      b.string(0, row.getObject(0));
      b.integer(1, ((Number) row.getObject(1)).longValue());
      long[] s = new long[6];
      for (int c = 0; c < 6; c++) {
        s[c] = ((Number) row.getObject(2 + c)).longValue();
      }
      b.real(2, Statistics.r2(s[0], s[1], s[2], s[3], s[4], s[5]));
      b.endRow();
    }
    return b.build();
  }

  @Override
  public void close() {
    for (HazelcastInstance member : members) {
      if (member.getLifecycleService().isRunning()) {
        member.getLifecycleService().terminate();
      }
    }
  }
}
