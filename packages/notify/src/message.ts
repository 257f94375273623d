import { createHash } from 'node:crypto';
import type { RunRecord } from '@tickwork/core';

/** What a notification is about. */
export type NotificationKind = 'failure' | 'reminder' | 'recovery' | 'dead-man' | 'dead-man-recovered';

/** The run a notification is about, as plain JSON (instants as ISO strings). */
export interface NotificationRun {
  id: string;
  slot: string;
  attempt: number;
  status: string;
  trigger: string;
  startedAt: string;
  finishedAt: string | null;
  durationMs: number | null;
  error: string | null;
  runnerId: string;
}

/**
 * One message, as every notifier receives it and as the webhook posts it (JSON). Its `id` is
 * the same on every runner and every retry, so a receiver can drop duplicates.
 */
export interface Notification {
  id: string;
  kind: NotificationKind;
  code: string;
  /** `''` for the job's code-defined schedule, else the runtime schedule's key. */
  key: string;
  /** One line: the e-mail subject, Slack's notification text. */
  title: string;
  /** Plain-text body, one fact a line. */
  text: string;
  run: NotificationRun | null;
  /** failure / reminder: failures in a row so far; recovery: failures the success ended. */
  consecutiveFailures: number | null;
  /** Finish time of the streak's first failure, when known. */
  streakStartedAt: string | null;
  /** Dead-man alerts: the window, the last success (null: never) and when the job became overdue. */
  deadMan: { expectSuccessWithinMs: number; lastSucceededAt: string | null; overdueSince: string } | null;
  /** The dashboard's page of this run (or of the job, for dead-man alerts), when `dashboardUrl` is set. */
  url: string | null;
  /** Groups the messages of one failure streak (e-mail threading); null when the streak start is unknown. */
  threadId: string | null;
  /** When this message was composed. */
  createdAt: string;
}

/** What a message is composed from. */
export interface MessageInput {
  kind: NotificationKind;
  code: string;
  key: string;
  run: RunRecord | null;
  consecutiveFailures: number | null;
  streakStartedAt: Date | null;
  deadMan: { expectSuccessWithinMs: number; lastSucceededAt: Date | null; overdueSince: Date } | null;
  /** Reminder number within the streak (1, 2, …), part of the reminder's id. */
  reminder?: number;
  dashboardUrl: URL | null;
  now: Date;
}

/** Composes the {@link Notification} for one event. */
export function composeNotification(input: MessageInput): Notification {
  const { kind, code, key, run, consecutiveFailures: n } = input;
  const job = key === '' ? code : `${code} [${key}]`;
  const lastSuccess = input.deadMan?.lastSucceededAt ? input.deadMan.lastSucceededAt.toISOString() : 'never';
  const titles: Record<NotificationKind, string> = {
    failure: `${job} ${verb(run)}${n !== null && n > 1 ? ` (${n} failures in a row)` : ''}`,
    reminder: `${job} is still failing: ${n ?? '?'} failures in a row${input.streakStartedAt ? ` since ${input.streakStartedAt.toISOString()}` : ''}`,
    recovery: `${job} recovered: succeeded after ${plural(n ?? 0, 'failure')}`,
    'dead-man': `${job}: no run succeeded within ${input.deadMan ? formatMs(input.deadMan.expectSuccessWithinMs) : '?'} (last success: ${lastSuccess})`,
    'dead-man-recovered': `${job} succeeded again after being overdue since ${input.deadMan?.overdueSince.toISOString() ?? '?'}`,
  };
  const url = input.dashboardUrl ? dashboardLink(input.dashboardUrl, code, run?.id ?? null) : null;
  const lines = [
    `job: ${code}`,
    ...(key !== '' ? [`key: ${key}`] : []),
    ...(run
      ? [
          `slot: ${run.slotAt.toISOString()}`,
          `attempt: ${run.attempt}`,
          `status: ${run.status}`,
          ...(run.error ? [`error: ${run.error}`] : []),
        ]
      : []),
    ...(n !== null ? [`${kind === 'recovery' ? 'failures before this success' : 'failures in a row'}: ${n}`] : []),
    ...(input.streakStartedAt ? [`failing since: ${input.streakStartedAt.toISOString()}`] : []),
    ...(input.deadMan
      ? [`expected a success within: ${formatMs(input.deadMan.expectSuccessWithinMs)}`, `last success: ${lastSuccess}`]
      : []),
    ...(url ? [`run: ${url}`] : []),
  ];
  const threadId = input.streakStartedAt ? digest(['streak', code, key, input.streakStartedAt.toISOString()]) : null;
  const idParts =
    kind === 'dead-man' || kind === 'dead-man-recovered'
      ? [kind, code, key, input.deadMan?.overdueSince.toISOString() ?? '']
      : [kind, code, key, run?.id ?? '', String(input.reminder ?? '')];
  return {
    id: digest(idParts),
    kind,
    code,
    key,
    title: titles[kind],
    text: `${lines.join('\n')}\n`,
    run: run ? toJson(run) : null,
    consecutiveFailures: n,
    streakStartedAt: input.streakStartedAt?.toISOString() ?? null,
    deadMan: input.deadMan
      ? {
          expectSuccessWithinMs: input.deadMan.expectSuccessWithinMs,
          lastSucceededAt: input.deadMan.lastSucceededAt?.toISOString() ?? null,
          overdueSince: input.deadMan.overdueSince.toISOString(),
        }
      : null,
    url,
    threadId,
    createdAt: input.now.toISOString(),
  };
}

/**
 * The dashboard page of a run: `${dashboardUrl}/#/run/<id>`, or of the job (`${dashboardUrl}/#/job/<code>`)
 * when there is no run — the hash routes of `@tickwork/dashboard`'s page (its router reads `#/run/:id`
 * and `#/job/:code`), so the link works wherever the dashboard is mounted.
 */
export function dashboardLink(dashboardUrl: URL, code: string, runId: string | null): string {
  const base = dashboardUrl.href.replace(/#.*$/, '').replace(/\/+$/, '');
  return runId === null ? `${base}/#/job/${encodeURIComponent(code)}` : `${base}/#/run/${encodeURIComponent(runId)}`;
}

/** Milliseconds as the largest units that fit: 7200000 → "2h", 5400000 → "1h 30m". */
export function formatMs(ms: number): string {
  const units: [string, number][] = [
    ['d', 86_400_000],
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1_000],
  ];
  const parts: string[] = [];
  let rest = ms;
  for (const [unit, size] of units) {
    if (rest >= size) {
      parts.push(`${Math.floor(rest / size)}${unit}`);
      rest %= size;
    }
  }
  if (rest > 0 || parts.length === 0) parts.push(`${rest}ms`);
  return parts.join(' ');
}

function verb(run: RunRecord | null): string {
  switch (run?.status) {
    case 'timed_out':
      return 'timed out';
    case 'interrupted':
      return 'was interrupted';
    default:
      return 'failed';
  }
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

function digest(parts: readonly string[]): string {
  return `ntf_${createHash('sha256').update(parts.join('\u0000')).digest('hex').slice(0, 32)}`;
}

function toJson(run: RunRecord): NotificationRun {
  return {
    id: run.id,
    slot: run.slotAt.toISOString(),
    attempt: run.attempt,
    status: run.status,
    trigger: run.trigger,
    startedAt: run.startedAt.toISOString(),
    finishedAt: run.finishedAt?.toISOString() ?? null,
    durationMs: run.durationMs,
    error: run.error,
    runnerId: run.runnerId,
  };
}
