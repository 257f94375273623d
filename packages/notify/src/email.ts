import type { Duration } from '@tickwork/core';
import nodemailer from 'nodemailer';
import { DeliveryError, InvalidNotifyOptionError } from './errors.js';
import type { Notification } from './message.js';
import type { Notifier } from './notifier.js';
import { assertOptions, durationOption, integerOption, stringOption, urlOption } from './options.js';

/** An SMTP server as an object (when a URL will not do: TLS options, an IPv6 host, …). */
export interface SmtpServer {
  host: string;
  /** Default 465 when `secure`, else 587. */
  port?: number;
  /** TLS from the first byte (port 465); otherwise STARTTLS is used when the server offers it. */
  secure?: boolean;
  /** Refuse to send unless the server upgrades to TLS (STARTTLS). */
  requireTLS?: boolean;
  /** Never upgrade to TLS, even if offered (a local relay). */
  ignoreTLS?: boolean;
  auth?: { user: string; pass: string };
  /** Passed to Node's TLS: `{ rejectUnauthorized: false }` for a self-signed relay, `servername`, … */
  tls?: Record<string, unknown>;
}

/** Options of {@link createEmailNotifier}. */
export interface EmailOptions {
  /** `smtp://user:pass@host:587` (STARTTLS when offered), `smtps://…:465` (TLS), or a {@link SmtpServer}. */
  smtp: string | SmtpServer;
  /** The sender, `alerts@example.com` or `"Tickwork" <alerts@example.com>`. */
  from: string;
  to: string | readonly string[];
  cc?: string | readonly string[];
  /** Put before every subject. Default `[tickwork]`. */
  subjectPrefix?: string;
  /** Connection, greeting and socket timeout of the SMTP session. Default 30 s. */
  timeout?: Duration;
}

const EMAIL_OPTIONS = ['smtp', 'from', 'to', 'cc', 'subjectPrefix', 'timeout'];
const SMTP_OPTIONS = ['host', 'port', 'secure', 'requireTLS', 'ignoreTLS', 'auth', 'tls'];

/**
 * A notifier that e-mails each notification through SMTP (nodemailer): plain text, the
 * streak's messages threaded together (`In-Reply-To`), `X-Tickwork-*` headers for filters.
 * One attempt per message; a refused or unreachable server rejects, and the caller logs it.
 */
export function createEmailNotifier(options: EmailOptions, what = 'email'): Notifier {
  const raw = assertOptions(options, what, EMAIL_OPTIONS);
  if (raw.smtp === undefined) throw new InvalidNotifyOptionError(`${what}.smtp is required (an smtp:// URL or { host, port, … })`);
  const server =
    typeof raw.smtp === 'string' || raw.smtp instanceof URL
      ? smtpFromUrl(raw.smtp, `${what}.smtp`)
      : smtpFromObject(raw.smtp, `${what}.smtp`);
  const from = address(raw.from, `${what}.from`);
  const to = addresses(raw.to, `${what}.to`);
  const cc = raw.cc === undefined ? [] : addresses(raw.cc, `${what}.cc`);
  const prefix = raw.subjectPrefix === undefined ? '[tickwork]' : String(raw.subjectPrefix);
  const timeoutMs = durationOption(raw.timeout, `${what}.timeout`, 30_000);
  const domain = /@([^>\s]+)>?\s*$/.exec(from)?.[1] ?? 'tickwork.invalid';
  const transport = nodemailer.createTransport({
    ...server,
    connectionTimeout: timeoutMs,
    greetingTimeout: timeoutMs,
    socketTimeout: timeoutMs,
  });
  const messageId = (id: string) => `<${id}@${domain}>`;

  return {
    name: 'email',
    async send(notification: Notification) {
      // The streak's first message carries the thread's id, so reminders and the recovery thread under it.
      const opensThread = notification.kind === 'failure' && notification.threadId !== null;
      const replyTo = !opensThread && notification.threadId !== null ? messageId(notification.threadId) : null;
      const info = await transport.sendMail({
        from,
        to: [...to],
        ...(cc.length ? { cc: [...cc] } : {}),
        subject: prefix ? `${prefix} ${notification.title}` : notification.title,
        text: notification.text,
        messageId: messageId(opensThread ? (notification.threadId as string) : notification.id),
        ...(replyTo ? { inReplyTo: replyTo, references: [replyTo] } : {}),
        headers: {
          'X-Tickwork-Kind': notification.kind,
          'X-Tickwork-Job': notification.code,
          ...(notification.key !== '' ? { 'X-Tickwork-Key': notification.key } : {}),
          'X-Tickwork-Notification-Id': notification.id,
        },
      });
      const rejected = (info.rejected ?? []).map(String);
      if (rejected.length > 0) throw new DeliveryError(`${server.host} refused recipient(s) ${rejected.join(', ')}`, 1);
      return { attempts: 1 };
    },
    close() {
      transport.close();
    },
  };
}

type Smtp = { host: string; port: number; secure: boolean } & Omit<SmtpServer, 'host' | 'port' | 'secure'>;

function smtpFromUrl(value: string | URL, what: string): Smtp {
  const url = urlOption(value, what, ['smtp:', 'smtps:']);
  if (url.search !== '' || (url.pathname !== '' && url.pathname !== '/')) {
    throw new InvalidNotifyOptionError(`${what}: a URL takes only user, password, host and port; pass an object for other settings`);
  }
  const secure = url.protocol === 'smtps:';
  return {
    host: url.hostname.replace(/^\[|\]$/g, ''),
    port: url.port === '' ? (secure ? 465 : 587) : Number(url.port),
    secure,
    ...(url.username ? { auth: { user: decodeURIComponent(url.username), pass: decodeURIComponent(url.password) } } : {}),
  };
}

function smtpFromObject(value: unknown, what: string): Smtp {
  const raw = assertOptions(value, what, SMTP_OPTIONS);
  const host = stringOption(raw.host, `${what}.host`);
  const secure = booleanOption(raw.secure, `${what}.secure`) ?? false;
  const smtp: Smtp = { host, port: integerOption(raw.port, `${what}.port`, secure ? 465 : 587, 1, 65_535), secure };
  const requireTLS = booleanOption(raw.requireTLS, `${what}.requireTLS`);
  const ignoreTLS = booleanOption(raw.ignoreTLS, `${what}.ignoreTLS`);
  if (requireTLS && ignoreTLS) throw new InvalidNotifyOptionError(`${what}: requireTLS and ignoreTLS contradict each other`);
  if (requireTLS !== undefined) smtp.requireTLS = requireTLS;
  if (ignoreTLS !== undefined) smtp.ignoreTLS = ignoreTLS;
  if (raw.auth !== undefined) {
    const auth = assertOptions(raw.auth, `${what}.auth`, ['user', 'pass']);
    smtp.auth = { user: stringOption(auth.user, `${what}.auth.user`), pass: stringOption(auth.pass, `${what}.auth.pass`) };
  }
  if (raw.tls !== undefined) smtp.tls = assertOptions(raw.tls, `${what}.tls`, Object.keys(raw.tls as object));
  return smtp;
}

function booleanOption(value: unknown, what: string): boolean | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'boolean') throw new InvalidNotifyOptionError(`${what} must be true or false`);
  return value;
}

function address(value: unknown, what: string): string {
  const text = stringOption(value, what);
  if (!/^[^@\s<>]+@[^@\s<>]+$|<[^@\s<>]+@[^@\s<>]+>\s*$/.test(text.trim())) {
    throw new InvalidNotifyOptionError(`${what}: "${text}" is not an e-mail address`);
  }
  return text.trim();
}

function addresses(value: unknown, what: string): string[] {
  const list = typeof value === 'string' ? [value] : value;
  if (!Array.isArray(list) || list.length === 0) {
    throw new InvalidNotifyOptionError(`${what} must be an e-mail address or a non-empty list of them`);
  }
  return list.map((item, i) => address(item, `${what}[${i}]`));
}
