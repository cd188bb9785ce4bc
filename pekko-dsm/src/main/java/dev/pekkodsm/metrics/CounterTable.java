package dev.pekkodsm.metrics;

import dev.pekkodsm.DsmCounters;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.RecordComponent;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * The counters of {@link DsmCounters}, read from its record components, so that every exporter
 * shows every counter, those added later included.
 */
final class CounterTable {

  /** The components that are levels, not running totals. */
  private static final Set<String> GAUGES = Set.of("liveObjects", "arenaSlots");

  /** One counter: its name as {@link DsmCounters} spells it, and whether it is a gauge. */
  record Counter(String name, boolean gauge, Method accessor) {
    long read(DsmCounters counters) {
      try {
        return (long) accessor.invoke(counters);
      } catch (IllegalAccessException | InvocationTargetException e) {
        throw new IllegalStateException("cannot read DsmCounters." + name, e);
      }
    }
  }

  static final List<Counter> COUNTERS = counters();

  private CounterTable() {}

  private static List<Counter> counters() {
    List<Counter> all = new ArrayList<>();
    for (RecordComponent c : DsmCounters.class.getRecordComponents()) {
      all.add(new Counter(c.getName(), GAUGES.contains(c.getName()), c.getAccessor()));
    }
    return List.copyOf(all);
  }

  /** {@code oneSidedReads} as a dotted lower-case name: {@code one.sided.reads}. */
  static String dotted(String camel) {
    StringBuilder out = new StringBuilder();
    for (char ch : camel.toCharArray()) {
      if (Character.isUpperCase(ch)) {
        out.append('.').append(Character.toLowerCase(ch));
      } else {
        out.append(ch);
      }
    }
    return out.toString();
  }
}
