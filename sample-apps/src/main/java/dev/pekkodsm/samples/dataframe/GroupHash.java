package dev.pekkodsm.samples.dataframe;

import java.util.Arrays;

/**
 * Open-addressing hash table from a 128-bit key (two longs) to a dense group index, assigned in
 * insertion order. Linear probing, kept at most half full. Not thread-safe.
 */
final class GroupHash {
  private int[] slots; // group index + 1; 0 is empty
  private int mask;
  private long[] high;
  private long[] low;
  private int size;

  GroupHash(int expected) {
    int capacity = Integer.highestOneBit(Math.max(16, expected) * 2 - 1) << 1;
    slots = new int[capacity];
    mask = capacity - 1;
    high = new long[Math.max(16, expected)];
    low = new long[high.length];
  }

  /** The group of key (h, l), added as group {@link #size()} if new. */
  int add(long h, long l) {
    int s = slot(h, l);
    while (true) {
      int g = slots[s];
      if (g == 0) {
        return insert(s, h, l);
      }
      if (low[g - 1] == l && high[g - 1] == h) {
        return g - 1;
      }
      s = (s + 1) & mask;
    }
  }

  private int slot(long h, long l) {
    return (int) Answer.mix(h * 0x9E3779B97F4A7C15L + l) & mask;
  }

  private int insert(int s, long h, long l) {
    if (size == high.length) {
      high = Arrays.copyOf(high, size * 2);
      low = Arrays.copyOf(low, size * 2);
    }
    high[size] = h;
    low[size] = l;
    slots[s] = ++size;
    if (2 * size > slots.length) {
      rehash();
    }
    return size - 1;
  }

  private void rehash() {
    slots = new int[slots.length * 2];
    mask = slots.length - 1;
    for (int g = 0; g < size; g++) {
      int s = slot(high[g], low[g]);
      while (slots[s] != 0) {
        s = (s + 1) & mask;
      }
      slots[s] = g + 1;
    }
  }

  int size() {
    return size;
  }

  /** The high halves of the keys, by group (the array may be longer than {@link #size()}). */
  long[] high() {
    return high;
  }

  /** The low halves of the keys, by group. */
  long[] low() {
    return low;
  }
}
