import { afterEach, describe, expect, it } from 'vitest';
import { composeNotification, createEmailNotifier, type Notifier } from '../src/index.js';
import { failureNotification, runRecord } from './fixtures.js';
import { closedPort, startSmtpReceiver } from './receivers.js';

const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const close of cleanup.splice(0)) await close();
});

function closing(notifier: Notifier): Notifier {
  cleanup.push(() => notifier.close?.());
  return notifier;
}

describe('e-mail notifier (nodemailer → a real SMTP server)', () => {
  it('delivers a plain-text message with the run facts, the link and X-Tickwork headers', async () => {
    const smtp = await startSmtpReceiver();
    cleanup.push(smtp.close);
    const notification = failureNotification();
    const email = closing(
      createEmailNotifier({
        smtp: `smtp://ops:secret@127.0.0.1:${smtp.port}`,
        from: '"Tickwork" <alerts@example.com>',
        to: ['ops@example.com', 'oncall@example.com'],
      }),
    );
    await email.send(notification);

    expect(smtp.mails).toHaveLength(1);
    const [mail] = smtp.mails;
    expect(smtp.envelopes[0]).toEqual({ from: 'alerts@example.com', to: ['ops@example.com', 'oncall@example.com'], user: 'ops' });
    expect(mail?.subject).toBe('[tickwork] reports.daily failed');
    expect(mail?.from?.text).toBe('"Tickwork" <alerts@example.com>');
    expect(mail?.headers.get('x-tickwork-kind')).toBe('failure');
    expect(mail?.headers.get('x-tickwork-job')).toBe('reports.daily');
    expect(mail?.headers.get('x-tickwork-notification-id')).toBe(notification.id);
    expect(mail?.messageId).toBe(`<${notification.threadId}@example.com>`);
    expect(mail?.text).toContain('job: reports.daily\n');
    expect(mail?.text).toContain('slot: 2026-03-02T06:00:00.000Z\n');
    expect(mail?.text).toContain('attempt: 1\n');
    expect(mail?.text).toContain('status: failed\n');
    expect(mail?.text).toContain('error: connection refused by the reporting database\n');
    expect(mail?.text).toContain('run: https://ops.example.com/tickwork/#/run/42\n');
  });

  it("threads a streak's reminder under its first message", async () => {
    const smtp = await startSmtpReceiver();
    cleanup.push(smtp.close);
    const email = closing(
      createEmailNotifier({
        smtp: { host: '127.0.0.1', port: smtp.port, ignoreTLS: true },
        from: 'alerts@example.com',
        to: 'ops@example.com',
        subjectPrefix: '',
      }),
    );
    const first = failureNotification();
    const run = runRecord({ id: '43', attempt: 2 });
    const reminder = composeNotification({
      kind: 'reminder',
      code: run.code,
      key: run.key,
      run,
      consecutiveFailures: 5,
      streakStartedAt: new Date(first.streakStartedAt ?? ''),
      deadMan: null,
      reminder: 1,
      dashboardUrl: null,
      now: new Date('2026-03-02T07:00:00Z'),
    });
    await email.send(first);
    await email.send(reminder);
    expect(smtp.mails.map((m) => m.subject)).toEqual([
      'reports.daily failed',
      'reports.daily is still failing: 5 failures in a row since 2026-03-02T06:00:02.100Z',
    ]);
    expect(smtp.mails[1]?.inReplyTo).toBe(smtp.mails[0]?.messageId);
    expect(smtp.mails[1]?.references).toBe(smtp.mails[0]?.messageId);
  });

  it('rejects when the server refuses a recipient, naming it', async () => {
    const smtp = await startSmtpReceiver({ refuse: (to) => to === 'gone@example.com' });
    cleanup.push(smtp.close);
    const email = closing(createEmailNotifier({ smtp: smtp.url, from: 'alerts@example.com', to: ['ops@example.com', 'gone@example.com'] }));
    await expect(email.send(failureNotification())).rejects.toThrow(/refused recipient\(s\) gone@example\.com/);
    expect(smtp.envelopes).toEqual([{ from: 'alerts@example.com', to: ['ops@example.com'], user: null }]);
  });

  it('rejects when no SMTP server listens', async () => {
    const port = await closedPort();
    const email = closing(
      createEmailNotifier({ smtp: `smtp://127.0.0.1:${port}`, from: 'alerts@example.com', to: 'ops@example.com', timeout: '5s' }),
    );
    await expect(email.send(failureNotification())).rejects.toThrow(/ECONNREFUSED/);
  });
});
