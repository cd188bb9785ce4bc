package dev.pekkodsm.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dev.pekkodsm.serialization.ClassRegistry;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/** The startup warning of a removal margin that keeps a removed node's objects away too long. */
class RemovalMarginWarningTest {

  private static final String SBR =
      "pekko.cluster.downing-provider-class ="
          + " \"org.apache.pekko.cluster.sbr.SplitBrainResolverProvider\"\n";

  @Test
  void shouldTakeTheMarginFromTheSettingOrTheResolversStableAfter() {
    assertEquals(
        Duration.ofMillis(200),
        NodeRuntime.removalMargin(config("pekko.cluster.down-removal-margin = 200ms")));
    assertEquals(Duration.ofSeconds(20), NodeRuntime.removalMargin(config(SBR)), "Pekko's default");
    assertEquals(
        Duration.ofSeconds(3),
        NodeRuntime.removalMargin(
            config(SBR + "pekko.cluster.split-brain-resolver.stable-after = 3s")));
    assertNull(NodeRuntime.removalMargin(config("")), "no downing provider: no margin to tell");
  }

  @Test
  void shouldWarnOnlyWithABackupAndAMarginLongerThanTheAskTimeout() {
    assertEquals(1, warnings(config(SBR + "pekko.dsm.replication.factor = 1")).size());
    List<String> warned = warnings(config(SBR + "pekko.dsm.replication.factor = 1"));
    assertTrue(warned.get(0).contains("down-removal-margin"), warned.get(0));
    assertEquals(0, warnings(config(SBR)).size(), "factor 0: nothing to serve again");
    assertEquals(
        0,
        warnings(
                config(
                    SBR
                        + "pekko.dsm.replication.factor = 1\n"
                        + "pekko.cluster.down-removal-margin = 200ms"))
            .size());
  }

  private static Config config(String text) {
    return ConfigFactory.parseString(text).withFallback(ConfigFactory.load()).resolve();
  }

  private static List<String> warnings(Config config) {
    DsmSettings settings =
        DsmSettings.from(
            config, ClassRegistry.empty(), RemovalMarginWarningTest.class.getClassLoader());
    Logger logger = (Logger) LoggerFactory.getLogger(NodeRuntime.class);
    ListAppender<ILoggingEvent> appender = new ListAppender<>();
    appender.start();
    logger.addAppender(appender);
    try {
      NodeRuntime.warnOfALongRemovalMargin(config, settings);
    } finally {
      logger.detachAppender(appender);
    }
    return appender.list.stream().map(ILoggingEvent::getFormattedMessage).toList();
  }
}
