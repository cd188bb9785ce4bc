package dev.pekkodsm.samples.chaos;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.filter.ThresholdFilter;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.Appender;
import ch.qos.logback.core.FileAppender;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import org.slf4j.LoggerFactory;

/**
 * The driver's log while a chaos run lasts, at the nodes' level, in a file beside theirs: the
 * driver's clients are where a stalled operation waits, so its view of membership and sharding is
 * needed to tell where the time went. The console keeps showing warnings only. {@link #close()}
 * puts the loggers back as they were.
 */
final class DriverLog implements AutoCloseable {

  private static final List<String> LOGGERS = List.of("dev.pekkodsm", "org.apache.pekko");

  private final LoggerContext context;
  private final FileAppender<ILoggingEvent> file;
  private final List<ThresholdFilter> consoleFilters = new ArrayList<>();
  private final List<Level> previous = new ArrayList<>();

  /**
   * Starts writing {@code dev.pekkodsm} and {@code org.apache.pekko} at {@code level} to {@code
   * log}, or does nothing if SLF4J is not bound to Logback.
   */
  DriverLog(Path log, String level) {
    if (!(LoggerFactory.getILoggerFactory() instanceof LoggerContext logback)) {
      context = null;
      file = null;
      return;
    }
    context = logback;
    Logger root = context.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
    for (Iterator<Appender<ILoggingEvent>> it = root.iteratorForAppenders(); it.hasNext(); ) {
      Appender<ILoggingEvent> console = it.next();
      ThresholdFilter warnings = new ThresholdFilter();
      warnings.setLevel("WARN");
      warnings.start();
      console.addFilter(warnings);
      consoleFilters.add(warnings);
    }
    PatternLayoutEncoder encoder = new PatternLayoutEncoder();
    encoder.setContext(context);
    encoder.setPattern("%d{HH:mm:ss.SSS} %-5level [%thread] %logger{36} - %msg%n");
    encoder.start();
    file = new FileAppender<>();
    file.setContext(context);
    file.setName("chaos-driver-log");
    file.setFile(log.toString());
    file.setEncoder(encoder);
    file.start();
    root.addAppender(file);
    for (String name : LOGGERS) {
      Logger logger = context.getLogger(name);
      previous.add(logger.getLevel());
      logger.setLevel(Level.toLevel(level, Level.WARN));
    }
  }

  @Override
  public void close() {
    if (context == null) {
      return;
    }
    for (int i = 0; i < LOGGERS.size(); i++) {
      context.getLogger(LOGGERS.get(i)).setLevel(previous.get(i));
    }
    Logger root = context.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
    root.detachAppender(file);
    file.stop();
    for (Iterator<Appender<ILoggingEvent>> it = root.iteratorForAppenders(); it.hasNext(); ) {
      Appender<ILoggingEvent> console = it.next();
      var kept = console.getCopyOfAttachedFiltersList();
      kept.removeAll(consoleFilters);
      console.clearAllFilters();
      kept.forEach(console::addFilter);
    }
  }
}
