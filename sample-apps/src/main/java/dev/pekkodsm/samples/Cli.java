package dev.pekkodsm.samples;

import com.typesafe.config.ConfigException;
import dev.pekkodsm.DsmException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.util.Arrays;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;

/**
 * What every {@code ./dsm} command shares when something goes wrong: a user's error is one or two
 * plain lines ({@code ./dsm <command>: <what is wrong>}, then where to look), a usage error exits
 * with {@value #EXIT_USAGE} before anything starts, and a stack trace is printed only with {@code
 * --verbose} or for what looks like a bug in pekko-dsm.
 *
 * <p>Commands validate their options at the top of {@code call()} with {@link #check} and {@link
 * #option} (both throw picocli's {@link ParameterException}, which {@link #commandLine} turns into
 * the two lines and exit {@value #EXIT_USAGE}); anything else they throw goes through the execution
 * handler: {@code IllegalArgumentException} is a usage error, {@code IllegalStateException}, {@link
 * DsmException}, configuration and I/O errors are a failure in one line (exit {@value
 * #EXIT_FAILED}), and any other exception is printed with its trace.
 */
final class Cli {

  /** The command failed at run time (a node left, the cluster could not be joined, ...). */
  static final int EXIT_FAILED = 1;

  /** Bad arguments or configuration; nothing was started. */
  static final int EXIT_USAGE = 2;

  private Cli() {}

  /**
   * The command line of {@code root} with this class's handlers. {@code args} are the arguments it
   * will run with: {@code --verbose} among them turns traces on.
   */
  static CommandLine commandLine(Object root, String[] args) {
    boolean verbose = Arrays.asList(args).contains("--verbose");
    CommandLine cli = new CommandLine(root);
    cli.setParameterExceptionHandler(
        (ex, ignored) -> {
          PrintWriter err = ex.getCommandLine().getErr();
          err.println(name(ex.getCommandLine().getCommandSpec()) + ": " + ex.getMessage());
          err.println("Try '" + name(ex.getCommandLine().getCommandSpec()) + " --help'.");
          if (verbose) {
            ex.printStackTrace(err);
          }
          err.flush();
          return EXIT_USAGE;
        });
    cli.setExecutionExceptionHandler(
        (ex, commandLine, parsed) ->
            report(commandLine.getCommandSpec(), ex, commandLine.getErr(), verbose));
    return cli;
  }

  /**
   * Prints {@code failure} as the command's error (one line, or a trace if it looks like a bug or
   * {@code verbose} is on) and returns the exit code it deserves.
   */
  static int report(CommandSpec spec, Throwable failure, PrintWriter err, boolean verbose) {
    Throwable cause = unwrap(failure);
    boolean expected = expected(cause);
    if (expected) {
      err.println(name(spec) + ": " + message(cause));
    } else {
      err.println(name(spec) + ": unexpected " + cause + " (a bug in pekko-dsm; please report it)");
    }
    if (verbose || !expected) {
      cause.printStackTrace(err);
    } else {
      err.println("Run with --verbose for the details.");
    }
    err.flush();
    return cause instanceof IllegalArgumentException ? EXIT_USAGE : EXIT_FAILED;
  }

  /**
   * A usage error unless {@code ok}: the message is {@code String.format(format, args)}.
   *
   * @throws ParameterException if not {@code ok}
   */
  static void check(CommandSpec spec, boolean ok, String format, Object... args) {
    if (!ok) {
      throw new ParameterException(spec.commandLine(), String.format(format, args));
    }
  }

  /**
   * Runs {@code check}, a validation of option {@code name} that throws {@code
   * IllegalArgumentException}, and turns its failure into a usage error naming the option.
   *
   * @throws ParameterException if {@code check} throws {@code IllegalArgumentException}
   */
  static void option(CommandSpec spec, String name, Runnable check) {
    try {
      check.run();
    } catch (IllegalArgumentException e) {
      throw new ParameterException(spec.commandLine(), name + ": " + e.getMessage(), e);
    }
  }

  /**
   * {@code what.get()}, with an {@code IllegalArgumentException} turned into a usage error: for
   * options checked by the code that consumes them (a configuration builder, say).
   *
   * @throws ParameterException if {@code what} throws {@code IllegalArgumentException}
   */
  static <T> T usage(CommandSpec spec, java.util.function.Supplier<T> what) {
    try {
      return what.get();
    } catch (IllegalArgumentException e) {
      throw usageError(spec, e);
    }
  }

  /**
   * The usage error that {@code rejected}, thrown by the code that checks or consumes an option,
   * stands for: its message, then exit {@value #EXIT_USAGE}.
   */
  static ParameterException usageError(CommandSpec spec, IllegalArgumentException rejected) {
    return new ParameterException(spec.commandLine(), rejected.getMessage(), rejected);
  }

  /** {@code ./dsm tour}, {@code ./dsm bench kv}: how the user typed the command. */
  static String name(CommandSpec spec) {
    String qualified = spec.qualifiedName(" ");
    return "./" + qualified;
  }

  private static boolean expected(Throwable t) {
    return t instanceof IllegalStateException
        || t instanceof IllegalArgumentException
        || t instanceof DsmException
        || t instanceof ConfigException
        || t instanceof UncheckedIOException
        || t instanceof java.io.IOException
        || t instanceof java.util.concurrent.TimeoutException
        || t instanceof InterruptedException;
  }

  private static Throwable unwrap(Throwable t) {
    Throwable cause = t;
    while ((cause instanceof CompletionException || cause instanceof ExecutionException)
        && cause.getCause() != null) {
      cause = cause.getCause();
    }
    return cause;
  }

  private static String message(Throwable t) {
    String message = t.getMessage();
    return message == null || message.isBlank() ? t.getClass().getSimpleName() : message;
  }
}
