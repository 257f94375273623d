import type { Notification } from './message.js';

/** Something that delivers a {@link Notification}: the e-mail, webhook and Slack notifiers, or your own. */
export interface Notifier {
  /** A short name for logs ("email", "webhook", "slack"). */
  readonly name: string;
  /** Delivers one notification; rejects when it could not (the caller logs, never the job). */
  send(notification: Notification): Promise<unknown>;
  /** Releases connections (an SMTP pool); optional. */
  close?(): void | Promise<void>;
}

/** A notifier that delivers over HTTP (webhook, Slack): `send` resolves with the attempts made and the final status. */
export interface HttpNotifier extends Notifier {
  send(notification: Notification): Promise<{ attempts: number; status: number }>;
}
