package dev.pekkodsm;

import java.io.Serializable;
import java.util.concurrent.Callable;

/**
 * A task that can be shipped to another node: a lambda of this type is serializable. What it
 * captures travels with it and must be of registered classes; the code itself does not travel.
 *
 * @param <R> the result's type
 */
@FunctionalInterface
public interface DCallable<R> extends Callable<R>, Serializable {}
