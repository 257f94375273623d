import {
  parseDuration,
  systemClock,
  type Clock,
  type Duration,
  type FailureContext,
  type Logger,
  type OverdueContext,
  type RunRecord,
  type StoreInput,
} from '@tickwork/core';
import { resolveStore } from '@tickwork/core/runner';
import { createEmailNotifier, type EmailOptions } from './email.js';
import { InvalidNotifyOptionError } from './errors.js';
import { composeNotification, type MessageInput, type Notification } from './message.js';
import type { Notifier } from './notifier.js';
import { assertOptions, integerOption, urlOption } from './options.js';
import { createSlackNotifier, type SlackOptions } from './slack.js';
import { createRunLogStreaks, decideFailureMessage, type ReminderRule, type StreakReader } from './streak.js';
import { createWebhookNotifier, type WebhookOptions } from './webhook.js';

/** Options of {@link notify}. At least one of `email`, `webhook`, `slack`, `notifiers`. */
export interface NotifyOptions {
  email?: EmailOptions;
  webhook?: WebhookOptions;
  slack?: SlackOptions;
  /** Your own notifiers (PagerDuty, a chat bot, …), called like the built-in ones. */
  notifiers?: readonly Notifier[];
  /**
   * After a streak's first message, remind every so long (`'1h'`) or every so many failures (`{ failures: 10
   * }`). Default: no reminders.
   */
  remindEvery?: Duration | { failures: number };
  /** The failure count that opens a streak's message when the context does not carry it (core passes the job's, which wins). Default 1. */
  failuresBeforeAlert?: number;
  /** Base URL of `@tickwork/dashboard`; messages link to the run's page, `${dashboardUrl}/#/run/<id>`. */
  dashboardUrl?: string | URL;
  /**
   * The store the runners share, or a function returning it (as in `defineConfig`, called once, when first
   * needed): reminders by time read the streak's start from its run log.
   */
  store?: StoreInput;
  /** Default: the system clock. */
  clock?: Clock;
}

/**
 * What `onFailure` receives: core's {@link FailureContext} (which carries `failuresBeforeAlert`
 * and `streakStartedAt`), or one a host builds, where those may be absent.
 */
export interface NotifyFailureContext extends Omit<FailureContext, 'failuresBeforeAlert' | 'streakStartedAt'> {
  /** The job's threshold; when absent, `notify({ failuresBeforeAlert })`. */
  failuresBeforeAlert?: number;
  /** Finish time of the streak's first failure; when absent or null (unknown), read from `store`. */
  streakStartedAt?: Date | null;
  /** Finish time of the streak's previous failure (null for the first); when absent, read from `store`. */
  previousFailureAt?: Date | null;
}

/**
 * What `onRecovery` receives: core's `RecoveryContext` — the success that ended a failure streak
 * and/or an overdue episode, called by core once, by one runner.
 */
export interface RecoveryContext {
  code: string;
  key: string;
  /** The succeeded run. */
  run: RunRecord;
  /** Failures in a row that this success ended (0 when it ended only an overdue episode). */
  failures: number;
  /** The overdue alert this success ended (core's `onOverdue` was called for it): a `dead-man-recovered` message. */
  overdue?: { alertedAt: Date; expectSuccessWithinMs: number | null } | null;
  /** The job's threshold; a streak that never reached it sends no recovery. When absent, `notify({ failuresBeforeAlert })`. */
  failuresBeforeAlert?: number;
  /** Finish time of the streak's first failure; when absent, read from `store` if given. */
  streakStartedAt?: Date | null;
  logger: Logger;
}

/**
 * What `onDeadMan` receives: a schedule with no success within its window, or its first success after that.
 * Called by core once per episode.
 */
export interface DeadManContext {
  code: string;
  key: string;
  /** `overdue`: no success within the window; `recovered`: the first success after an `overdue`. */
  state: 'overdue' | 'recovered';
  /** The job's `expectSuccessWithin`, in milliseconds. */
  expectSuccessWithinMs: number;
  /** The last success before the alert; null when there never was one. */
  lastSucceededAt: Date | null;
  /** When the window ran out: `lastSucceededAt` (or the schedule's creation) + the window. */
  overdueSince: Date;
  /** `recovered`: the succeeded run; `overdue`: null. */
  run: RunRecord | null;
  logger: Logger;
}

/** The handlers {@link notify} returns; each logs its own failures and never throws into the job. */
export interface NotifyHandlers {
  /** For a job's `onFailure`: the streak's first message, then reminders. */
  onFailure: (ctx: NotifyFailureContext) => Promise<void>;
  /** For core's recovery hook: "succeeded after 3 failures", when the streak had alerted. */
  onRecovery: (ctx: RecoveryContext) => Promise<void>;
  /** For a job's (or the config's) `onOverdue`: "no run succeeded within 2h". Its recovery comes through `onRecovery`. */
  onOverdue: (ctx: OverdueContext) => Promise<void>;
  /** The dead-man message of either kind from a hand-built context (`onOverdue` and `onRecovery` call it for core's). */
  onDeadMan: (ctx: DeadManContext) => Promise<void>;
  /** Sends a composed notification to every notifier, logging each failure; never rejects. */
  deliver: (notification: Notification, logger: Logger) => Promise<void>;
  /** Closes the notifiers' connections (SMTP). */
  close: () => Promise<void>;
}

const NOTIFY_OPTIONS = ['email', 'webhook', 'slack', 'notifiers', 'remindEvery', 'failuresBeforeAlert', 'dashboardUrl', 'store', 'clock'];

/**
 * Builds the notification handlers of one or more jobs:
 * `defineJob({ …, onFailure: alerts.onFailure })`. Options are checked here, each error
 * naming its field.
 */
export function notify(options: NotifyOptions): NotifyHandlers {
  const raw = assertOptions(options, 'notify', NOTIFY_OPTIONS);
  const clock = (raw.clock as Clock | undefined) ?? systemClock;
  const notifiers = buildNotifiers(raw, clock);
  const threshold = integerOption(raw.failuresBeforeAlert, 'notify.failuresBeforeAlert', 1, 1, Number.MAX_SAFE_INTEGER);
  const rule = reminderRule(raw.remindEvery);
  const dashboardUrl = raw.dashboardUrl === undefined ? null : urlOption(raw.dashboardUrl, 'notify.dashboardUrl', ['http:', 'https:']);
  const store = (raw.store as StoreInput | undefined) ?? null;
  if (store !== null && typeof store !== 'function' && (typeof store !== 'object' || typeof store.queryRuns !== 'function')) {
    throw new InvalidNotifyOptionError(
      'notify.store must be a Tickwork Store (createSqlStore, createRedisStore, createMemoryStore) or a function returning one',
    );
  }
  if (rule !== null && 'everyMs' in rule && store === null) {
    throw new InvalidNotifyOptionError(
      "notify.remindEvery: a duration needs notify.store (reminders are timed from the streak's start in the shared run log); or remind by count, { failures: n }",
    );
  }
  const streaks: StreakReader | null = store ? lazyStreaks(store) : null;

  const compose = (input: Omit<MessageInput, 'dashboardUrl' | 'now'>) => composeNotification({ ...input, dashboardUrl, now: clock.now() });

  const deliver = async (notification: Notification, logger: Logger) => {
    await Promise.all(
      notifiers.map(async (notifier) => {
        const fields = { notifier: notifier.name, kind: notification.kind, notificationId: notification.id };
        try {
          const result = (await notifier.send(notification)) as { attempts?: number } | undefined;
          logger.info({ ...fields, ...(result?.attempts ? { attempts: result.attempts } : {}) }, 'notification sent');
        } catch (error) {
          const attempts = (error as { attempts?: unknown }).attempts;
          logger.error(
            {
              ...fields,
              err: error instanceof Error ? error.message : String(error),
              ...(typeof attempts === 'number' ? { attempts } : {}),
            },
            'notification not delivered',
          );
        }
      }),
    );
  };

  // Whatever goes wrong in here (a store read, a bug) is logged: a hook never fails a job.
  const guarded =
    <C extends { logger: Logger; code: string; key: string }>(what: string, handler: (ctx: C) => Promise<void>) =>
    async (ctx: C) => {
      try {
        await handler(ctx);
      } catch (error) {
        ctx.logger.error(
          { err: error instanceof Error ? error.message : String(error), job: ctx.code, key: ctx.key },
          `notify ${what} failed`,
        );
      }
    };

  const onFailure = guarded('onFailure', async (ctx: NotifyFailureContext) => {
    const n = ctx.consecutiveFailures;
    const failuresBeforeAlert = ctx.failuresBeforeAlert ?? threshold;
    const failedAt = ctx.run.finishedAt ?? clock.now();
    let streakStartedAt = ctx.streakStartedAt ?? (n === 1 ? failedAt : null);
    let previousFailureAt = ctx.previousFailureAt ?? null;
    const fromCore = ctx.streakStartedAt !== undefined && ctx.previousFailureAt !== undefined;
    // Reminders by time need the streak's start and previous failure before deciding.
    if (streaks && !fromCore && rule !== null && 'everyMs' in rule && n > failuresBeforeAlert) {
      ({ streakStartedAt, previousFailureAt } = await streaks(ctx.run, n));
    }
    const decision = decideFailureMessage(
      { consecutiveFailures: n, failuresBeforeAlert, failedAt, streakStartedAt, previousFailureAt },
      rule,
    );
    if (decision === null) return;
    // Otherwise the start is read only for a message that goes out (its "failing since" and thread).
    if (streaks && streakStartedAt === null && ctx.streakStartedAt == null) streakStartedAt = (await streaks(ctx.run, n)).streakStartedAt;
    const notification = compose({
      kind: decision.kind,
      code: ctx.code,
      key: ctx.key,
      run: ctx.run,
      consecutiveFailures: n,
      streakStartedAt,
      deadMan: null,
      ...(decision.kind === 'reminder' ? { reminder: decision.reminder } : {}),
    });
    await deliver(notification, ctx.logger);
  });

  const sendDeadMan = async (ctx: DeadManContext) => {
    const deadMan = {
      expectSuccessWithinMs: ctx.expectSuccessWithinMs,
      lastSucceededAt: ctx.lastSucceededAt,
      overdueSince: ctx.overdueSince,
    };
    const kind = ctx.state === 'recovered' ? 'dead-man-recovered' : 'dead-man';
    await deliver(
      compose({ kind, code: ctx.code, key: ctx.key, run: ctx.run, consecutiveFailures: null, streakStartedAt: null, deadMan }),
      ctx.logger,
    );
  };

  const onRecovery = guarded('onRecovery', async (ctx: RecoveryContext) => {
    if (ctx.failures >= 1 && ctx.failures >= (ctx.failuresBeforeAlert ?? threshold)) {
      const known = ctx.streakStartedAt ?? null;
      const streakStartedAt = known !== null ? known : streaks ? (await streaks(ctx.run, ctx.failures)).streakStartedAt : null;
      await deliver(
        compose({
          kind: 'recovery',
          code: ctx.code,
          key: ctx.key,
          run: ctx.run,
          consecutiveFailures: ctx.failures,
          streakStartedAt,
          deadMan: null,
        }),
        ctx.logger,
      );
    }
    if (ctx.overdue) {
      // The episode's "overdue since" is when the alert was raised (its id then matches on every runner); the last success is this run.
      await sendDeadMan({
        code: ctx.code,
        key: ctx.key,
        state: 'recovered',
        expectSuccessWithinMs: ctx.overdue.expectSuccessWithinMs ?? 0,
        lastSucceededAt: ctx.run.finishedAt,
        overdueSince: ctx.overdue.alertedAt,
        run: ctx.run,
        logger: ctx.logger,
      });
    }
  });

  const onOverdue = guarded('onOverdue', async (ctx: OverdueContext) => {
    await sendDeadMan({
      code: ctx.code,
      key: ctx.key,
      state: 'overdue',
      expectSuccessWithinMs: ctx.expectSuccessWithinMs,
      lastSucceededAt: ctx.lastSucceededAt,
      overdueSince: ctx.overdueSince,
      run: null,
      logger: ctx.logger,
    });
  });

  const onDeadMan = guarded('onDeadMan', sendDeadMan);

  return {
    onFailure,
    onRecovery,
    onOverdue,
    onDeadMan,
    deliver,
    async close() {
      await Promise.all(notifiers.map((n) => n.close?.()));
    },
  };
}

// The store is resolved once, on the first failure that needs it, like core's config does.
function lazyStreaks(input: StoreInput): StreakReader {
  let reader: Promise<StreakReader> | null = null;
  return async (current, failures) => {
    reader ??= resolveStore(input).then(createRunLogStreaks, (error: unknown) => {
      reader = null; // a store that could not be opened is tried again at the next failure
      throw error;
    });
    return (await reader)(current, failures);
  };
}

function buildNotifiers(raw: Record<string, unknown>, clock: Clock): Notifier[] {
  const list: Notifier[] = [];
  const withClock = (value: unknown) => (value !== null && typeof value === 'object' && !('clock' in value) ? { ...value, clock } : value);
  if (raw.email !== undefined) list.push(createEmailNotifier(raw.email as EmailOptions, 'notify.email'));
  if (raw.webhook !== undefined) list.push(createWebhookNotifier(withClock(raw.webhook) as WebhookOptions, 'notify.webhook'));
  if (raw.slack !== undefined) list.push(createSlackNotifier(withClock(raw.slack) as SlackOptions, 'notify.slack'));
  if (raw.notifiers !== undefined) {
    if (!Array.isArray(raw.notifiers)) throw new InvalidNotifyOptionError('notify.notifiers must be an array of { name, send }');
    raw.notifiers.forEach((n: unknown, i) => {
      const candidate = n as Partial<Notifier> | null;
      if (!candidate || typeof candidate.send !== 'function' || typeof candidate.name !== 'string') {
        throw new InvalidNotifyOptionError(`notify.notifiers[${i}] must be an object with a name and a send(notification) function`);
      }
      list.push(candidate as Notifier);
    });
  }
  if (list.length === 0) throw new InvalidNotifyOptionError('notify: give at least one of email, webhook, slack or notifiers');
  return list;
}

function reminderRule(value: unknown): ReminderRule {
  if (value === undefined) return null;
  if (value !== null && typeof value === 'object' && 'failures' in value) {
    const raw = assertOptions(value, 'notify.remindEvery', ['failures']);
    return { everyFailures: integerOption(raw.failures, 'notify.remindEvery.failures', 1, 1, Number.MAX_SAFE_INTEGER) };
  }
  return { everyMs: parseDuration(value as Duration, 'notify.remindEvery', InvalidNotifyOptionError) };
}
