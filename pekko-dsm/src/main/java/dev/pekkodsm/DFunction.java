package dev.pekkodsm;

import java.io.Serializable;
import java.util.function.Function;

/**
 * A function that can be shipped to another node: a lambda or method reference of this type is
 * serializable. What it captures travels with it and must be of registered classes (handles move
 * with it, as in any message); the code itself does not travel, every node has it.
 *
 * @param <T> the argument's type
 * @param <R> the result's type
 */
@FunctionalInterface
public interface DFunction<T, R> extends Function<T, R>, Serializable {}
