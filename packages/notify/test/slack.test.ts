import { afterEach, describe, expect, it } from 'vitest';
import { composeNotification, createSlackNotifier, slackMessage } from '../src/index.js';
import { failureNotification, runRecord } from './fixtures.js';
import { recordingSleep, startHttpReceiver } from './receivers.js';

const receivers: { close(): Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(receivers.splice(0).map((r) => r.close()));
});

describe('Slack-compatible notifier', () => {
  it('posts text and blocks with the job, slot, attempt, error and the dashboard link', async () => {
    const hook = await startHttpReceiver([{ status: 200, body: 'ok' }]);
    receivers.push(hook);
    await createSlackNotifier({ url: hook.url, channel: '#ops', username: 'tickwork' }).send(failureNotification({ error: 'x < y & z' }));
    expect(hook.received).toHaveLength(1);
    const posted = JSON.parse(hook.received[0]?.body ?? '{}');
    expect(posted.channel).toBe('#ops');
    expect(posted.username).toBe('tickwork');
    expect(posted.text).toBe(':red_circle: reports.daily failed');
    const texts = posted.blocks.map(
      (b: { text?: { text: string }; elements?: { text: string }[] }) => b.text?.text ?? b.elements?.[0]?.text,
    );
    expect(texts[1]).toContain('slot: 2026-03-02T06:00:00.000Z');
    expect(texts[1]).toContain('attempt: 1');
    expect(texts[1]).toContain('status: failed');
    expect(texts[2]).toBe('```x &lt; y &amp; z```');
    expect(texts[3]).toBe('<https://ops.example.com/tickwork/#/run/42|Open in the dashboard>');
  });

  it('retries a 500 from the webhook like the generic webhook does', async () => {
    const hook = await startHttpReceiver([{ status: 500 }, { status: 200 }]);
    receivers.push(hook);
    const { waits, sleep } = recordingSleep();
    const result = await createSlackNotifier({ url: hook.url, sleep, random: () => 1 }).send(failureNotification());
    expect(result).toEqual({ attempts: 2, status: 200 });
    expect(waits).toEqual([1000]);
  });

  it('writes a recovery as a green line and clips an overlong error to Slack limits', () => {
    const run = runRecord({ status: 'succeeded', error: null });
    const recovery = composeNotification({
      kind: 'recovery',
      code: run.code,
      key: 'tenant-7',
      run,
      consecutiveFailures: 3,
      streakStartedAt: null,
      deadMan: null,
      dashboardUrl: null,
      now: new Date('2026-03-02T07:00:00Z'),
    });
    expect(slackMessage(recovery).text).toBe(':large_green_circle: reports.daily [tenant-7] recovered: succeeded after 3 failures');
    const long = slackMessage(failureNotification({ error: 'e'.repeat(10_000) }));
    const errorBlock = long.blocks[2] as { text: { text: string } };
    expect(errorBlock.text.text.length).toBeLessThanOrEqual(3000);
  });
});
