package dev.pekkodsm.samples.socialnet;

import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

/**
 * text: finds the mentions and urls of a post's text ({@link TextParser}), has user-mention resolve
 * the mentions and url-shorten shorten the urls (both replicas on this node, asked in parallel, as
 * DeathStarBench's text service does), and returns the text with its urls shortened.
 */
final class TextService {

  sealed interface Command extends SnMessage permits ComposeText {}

  record ComposeText(String text, ActorRef<Text> replyTo) implements Command {}

  /** The text as it will be posted, with the users it mentions and the urls it had. */
  record Text(
      String text, int[] mentionIds, String[] mentionNames, String[] shortUrls, String[] expanded)
      implements SnMessage {}

  private TextService() {}

  static Behavior<Command> create(SnNode node) {
    return Behaviors.receive(Command.class)
        .onMessage(
            ComposeText.class,
            m -> {
              SnNode.replyWhenDone(compose(node, m.text()), m.replyTo());
              return Behaviors.same();
            })
        .build();
  }

  private static CompletionStage<Text> compose(SnNode node, String text) {
    SnNode.Directory d = node.directory();
    String[] names = TextParser.mentions(text);
    String[] urls = TextParser.urls(text);
    CompletionStage<UserMentionService.Mentions> mentions =
        node.ask(
            d.userMentions().get(node.index()),
            replyTo -> new UserMentionService.ComposeUserMentions(names, replyTo));
    CompletionStage<UrlShortenService.Urls> shortened =
        node.ask(
            d.urlShorteners().get(node.index()),
            replyTo -> new UrlShortenService.ComposeUrls(urls, replyTo));
    return mentions.thenCombine(
        shortened,
        (m, u) ->
            new Text(
                TextParser.replaceUrls(text, u.shortUrls()),
                m.ids(),
                m.names(),
                u.shortUrls(),
                u.expandedUrls()));
  }
}
