import { systemClock, type Clock } from '@tickwork/core';
import { HTTP_OPTION_NAMES, postJson, resolveHttpDelivery, type HttpDeliveryOptions } from './http.js';
import type { Notification } from './message.js';
import type { HttpNotifier } from './notifier.js';
import { assertOptions, stringOption, urlOption } from './options.js';

/** Options of {@link createSlackNotifier}. */
export interface SlackOptions extends HttpDeliveryOptions {
  /** The incoming-webhook URL (Slack, Mattermost, Rocket.Chat, Discord's `/slack` endpoint). */
  url: string | URL;
  /** Overrides the webhook's channel, where the service allows it. */
  channel?: string;
  /** Overrides the poster's name, where the service allows it. */
  username?: string;
  /** Overrides the poster's icon (`:rotating_light:`), where the service allows it. */
  iconEmoji?: string;
  /** The clock of `Retry-After` dates. Default: the system clock. */
  clock?: Clock;
}

const SLACK_OPTIONS = ['url', 'channel', 'username', 'iconEmoji', 'clock', ...HTTP_OPTION_NAMES];
const ICONS: Record<Notification['kind'], string> = {
  failure: ':red_circle:',
  reminder: ':red_circle:',
  recovery: ':large_green_circle:',
  'dead-man': ':warning:',
  'dead-man-recovered': ':large_green_circle:',
};

/** A notifier that posts each notification to a Slack-compatible incoming webhook (`text` plus Block Kit `blocks`). */
export function createSlackNotifier(options: SlackOptions, what = 'slack'): HttpNotifier {
  const raw = assertOptions(options, what, SLACK_OPTIONS);
  const url = urlOption(raw.url, `${what}.url`, ['http:', 'https:']);
  const extra: Record<string, string> = {};
  if (raw.channel !== undefined) extra.channel = stringOption(raw.channel, `${what}.channel`);
  if (raw.username !== undefined) extra.username = stringOption(raw.username, `${what}.username`);
  if (raw.iconEmoji !== undefined) extra.icon_emoji = stringOption(raw.iconEmoji, `${what}.iconEmoji`);
  const delivery = resolveHttpDelivery(raw, what);
  const clock = (raw.clock as Clock | undefined) ?? systemClock;
  return {
    name: 'slack',
    send(notification: Notification) {
      return postJson(url, JSON.stringify({ ...extra, ...slackMessage(notification) }), () => ({}), delivery, clock);
    },
  };
}

/** The Slack message of a notification: `text` (the fallback shown in notifications) and `blocks`. */
export function slackMessage(notification: Notification): { text: string; blocks: object[] } {
  const title = `${ICONS[notification.kind]} ${notification.title}`;
  const facts = notification.text
    .trimEnd()
    .split('\n')
    .filter((line) => !line.startsWith('error: ') && !line.startsWith('run: '));
  const blocks: object[] = [
    { type: 'section', text: { type: 'mrkdwn', text: `*${escapeMrkdwn(clip(title, 2900))}*` } },
    { type: 'section', text: { type: 'mrkdwn', text: clip(facts.map(escapeMrkdwn).join('\n'), 3000) } },
  ];
  const error = notification.run?.error;
  if (error) blocks.push({ type: 'section', text: { type: 'mrkdwn', text: `\`\`\`${clip(escapeMrkdwn(error), 2990)}\`\`\`` } });
  if (notification.url)
    blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: `<${notification.url}|Open in the dashboard>` }] });
  return { text: clip(title, 3000), blocks };
}

// Slack's mrkdwn treats &, < and > as control characters.
function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
