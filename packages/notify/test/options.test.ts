import { createMemoryStore } from '@tickwork/core';
import { describe, expect, it } from 'vitest';
import {
  createEmailNotifier,
  createSlackNotifier,
  createWebhookNotifier,
  InvalidNotifyOptionError,
  notify,
  type NotifyOptions,
} from '../src/index.js';

const webhook = { url: 'https://hooks.example.com/tickwork' };
const email = { smtp: 'smtp://smtp.example.com:587', from: 'alerts@example.com', to: 'ops@example.com' };

function refusal(build: () => unknown): Error {
  try {
    build();
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidNotifyOptionError);
    return error as Error;
  }
  throw new Error('expected the options to be refused');
}

describe('bad options are refused at construction, naming the field', () => {
  it.each([
    [
      'a webhook URL that is not a URL',
      { webhook: { url: 'not a url' } },
      /^\[tickwork\] \[notify\] notify\.webhook\.url: "not a url" is not a valid URL$/,
    ],
    [
      'a webhook URL that is not http(s)',
      { webhook: { url: 'ftp://hooks.example.com/x' } },
      /notify\.webhook\.url: "ftp:\/\/hooks\.example\.com\/x" must use http or https, not ftp/,
    ],
    ['a Slack URL that is missing', { slack: {} }, /notify\.slack\.url must be a URL string, got undefined/],
    ['a negative webhook timeout', { webhook: { ...webhook, timeout: -5 } }, /notify\.webhook\.timeout: duration must be a positive/],
    ['an unparsable timeout', { webhook: { ...webhook, timeout: 'soon' } }, /notify\.webhook\.timeout: "soon" is not a duration/],
    [
      'a fractional retry count',
      { webhook: { ...webhook, retries: 1.5 } },
      /notify\.webhook\.retries must be an integer from 0 to 10, got 1\.5/,
    ],
    [
      'maxBackoff shorter than backoff',
      { webhook: { ...webhook, backoff: '10s', maxBackoff: '1s' } },
      /notify\.webhook\.maxBackoff \(1000 ms\) must not be shorter than backoff \(10000 ms\)/,
    ],
    ['an empty secret', { webhook: { ...webhook, secret: '' } }, /notify\.webhook\.secret must be a non-empty string/],
    [
      'a whsec_ secret that is not base64',
      { webhook: { ...webhook, secret: 'whsec_not base64!' } },
      /notify\.webhook\.secret: after "whsec_" a Standard Webhooks secret is base64/,
    ],
    [
      'an unknown webhook option',
      { webhook: { ...webhook, retry: 3 } },
      /notify\.webhook\.retry is not a known option \(known: url, secret, clock, timeout, retries/,
    ],
    ['an unknown notify option', { webhook, remind: '1h' }, /notify\.remind is not a known option \(known: email, webhook/],
    ['a malformed SMTP URL', { email: { ...email, smtp: 'smtp//mail' } }, /notify\.email\.smtp: "smtp\/\/mail" is not a valid URL/],
    [
      'an SMTP URL of another scheme',
      { email: { ...email, smtp: 'http://mail.example.com' } },
      /notify\.email\.smtp: "http:\/\/mail\.example\.com\/" must use smtp or smtps, not http/,
    ],
    [
      'an SMTP URL with options',
      { email: { ...email, smtp: 'smtp://mail.example.com/?pool=true' } },
      /notify\.email\.smtp: a URL takes only user, password, host and port/,
    ],
    ['no SMTP server', { email: { from: email.from, to: email.to } }, /notify\.email\.smtp is required/],
    [
      'an SMTP object without host',
      { email: { ...email, smtp: { port: 25 } } },
      /notify\.email\.smtp\.host must be a non-empty string, got undefined/,
    ],
    [
      'an SMTP port out of range',
      { email: { ...email, smtp: { host: 'mail', port: 70_000 } } },
      /notify\.email\.smtp\.port must be an integer from 1 to 65535/,
    ],
    [
      'contradicting TLS flags',
      { email: { ...email, smtp: { host: 'mail', requireTLS: true, ignoreTLS: true } } },
      /notify\.email\.smtp: requireTLS and ignoreTLS contradict/,
    ],
    ['a sender that is not an address', { email: { ...email, from: 'alerts' } }, /notify\.email\.from: "alerts" is not an e-mail address/],
    ['an empty recipient list', { email: { ...email, to: [] } }, /notify\.email\.to must be an e-mail address or a non-empty list/],
    [
      'a bad recipient in a list',
      { email: { ...email, to: ['ops@example.com', 'nobody'] } },
      /notify\.email\.to\[1\]: "nobody" is not an e-mail address/,
    ],
    ['a negative reminder interval', { webhook, remindEvery: '-1h' }, /notify\.remindEvery: "-1h" is not a duration/],
    ['a zero reminder interval', { webhook, remindEvery: 0 }, /notify\.remindEvery: duration must be a positive/],
    ['a reminder count below 1', { webhook, remindEvery: { failures: 0 } }, /notify\.remindEvery\.failures must be an integer from 1/],
    ['a reminder by time without a store', { webhook, remindEvery: '1h' }, /notify\.remindEvery: a duration needs notify\.store/],
    ['a threshold below 1', { webhook, failuresBeforeAlert: 0 }, /notify\.failuresBeforeAlert must be an integer from 1/],
    [
      'a dashboard URL that is not http(s)',
      { webhook, dashboardUrl: 'javascript:alert(1)' },
      /notify\.dashboardUrl: "javascript:alert\(1\)" must use http or https/,
    ],
    ['no notifier at all', {}, /notify: give at least one of email, webhook, slack or notifiers/],
    [
      'a custom notifier without send',
      { notifiers: [{ name: 'pager' }] },
      /notify\.notifiers\[0\] must be an object with a name and a send/,
    ],
    ['a store that is not a store', { webhook, store: {} }, /notify\.store must be a Tickwork Store/],
  ])('%s', (_what, options, message) => {
    expect(refusal(() => notify(options as unknown as NotifyOptions)).message).toMatch(message);
  });

  it('a notifier built on its own names its own field', () => {
    expect(refusal(() => createWebhookNotifier({ url: 'mailto:ops@example.com' })).message).toMatch(
      /^\[tickwork\] \[notify\] webhook\.url: /,
    );
    expect(refusal(() => createSlackNotifier({ url: 'https://hooks.slack.test/x', iconEmoji: '' })).message).toMatch(
      /slack\.iconEmoji must be a non-empty string/,
    );
    expect(refusal(() => createEmailNotifier({ ...email, timeout: '-1s' })).message).toMatch(/email\.timeout: "-1s" is not a duration/);
  });

  it('accepts every documented form', () => {
    const store = createMemoryStore();
    const handlers = notify({
      email: {
        ...email,
        smtp: { host: 'mail.example.com', port: 465, secure: true, auth: { user: 'u', pass: 'p' }, tls: { rejectUnauthorized: false } },
        cc: ['cc@example.com'],
      },
      webhook: {
        ...webhook,
        secret: 'whsec_c2VjcmV0',
        timeout: '5s',
        retries: 0,
        backoff: 500,
        maxBackoff: { seconds: 10 },
        headers: { authorization: 'x' },
      },
      slack: { url: 'https://hooks.slack.test/services/T/B/X', channel: '#ops' },
      notifiers: [{ name: 'pager', send: async () => undefined }],
      remindEvery: '1h',
      failuresBeforeAlert: 3,
      dashboardUrl: 'https://ops.example.com/tickwork',
      store,
    });
    expect(Object.keys(handlers).sort()).toEqual(['close', 'deliver', 'onDeadMan', 'onFailure', 'onOverdue', 'onRecovery']);
    expect(() => notify({ webhook, remindEvery: { failures: 10 } })).not.toThrow();
  });
});
