import { AsyncLocalStorage } from 'node:async_hooks';
import { defineJob, every, type RunSpan, type RunTracer } from '@tickwork/core';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createDaemon } from '../src/index.js';
import { advance, fakeTime, START, startDaemons, stopAll } from './fixtures.js';

afterEach(() => {
  vi.useRealTimers();
});

/** A recording tracer with OpenTelemetry's `startActiveSpan` shape (core's own test uses the real SDK). */
function recordingTracer() {
  const spans: Array<{
    name: string;
    attributes: Record<string, unknown>;
    status: { code: number } | null;
    ended: boolean;
    handlerInside: boolean;
  }> = [];
  const active = new AsyncLocalStorage<(typeof spans)[number]>();
  const tracer: RunTracer = {
    startActiveSpan(name, options, fn) {
      const record = {
        name,
        attributes: { ...options.attributes },
        status: null as { code: number } | null,
        ended: false,
        handlerInside: false,
      };
      spans.push(record);
      const span: RunSpan = {
        setAttribute: (key, value) => {
          record.attributes[key] = value;
        },
        setStatus: (status) => {
          record.status = status;
        },
        recordException: () => {},
        end: () => {
          record.ended = true;
        },
      };
      // As OpenTelemetry's async-hooks context manager: the span is active in everything fn starts.
      return active.run(record, () => fn(span)) as ReturnType<typeof fn>;
    },
  };
  return { tracer, spans, inside: () => active.getStore() };
}

describe('daemon tracing', () => {
  it('passes its tracer to every attempt: one ended span per run with job, key, slot, attempt and status, the handler called inside it', async () => {
    fakeTime();
    const { tracer, spans, inside } = recordingTracer();
    const job = defineJob({
      code: 'traced',
      schedule: every('1s'),
      run: () => {
        const span = inside();
        if (span) span.handlerInside = true;
      },
    });
    const { daemons } = await startDaemons(1, [job], { tracer });
    await advance(2_000);
    await stopAll(daemons);
    expect(spans.length).toBeGreaterThanOrEqual(2);
    for (const span of spans) {
      expect(span).toMatchObject({ name: 'tickwork.run traced', ended: true, handlerInside: true, status: { code: 1 } });
      expect(Object.keys(span.attributes).sort()).toEqual([
        'tickwork.attempt',
        'tickwork.job',
        'tickwork.key',
        'tickwork.slot',
        'tickwork.status',
      ]);
      expect(span.attributes).toMatchObject({
        'tickwork.job': 'traced',
        'tickwork.key': '',
        'tickwork.attempt': 1,
        'tickwork.status': 'succeeded',
      });
    }
    expect(spans[0]?.attributes['tickwork.slot']).toBe(START.toISOString());
  });

  it('refuses a tracer without startActiveSpan, naming the option', () => {
    const job = defineJob({ code: 'x', schedule: every('1s'), run: () => {} });
    expect(() => createDaemon({ jobs: [job], store: {} as never }, { tracer: {} as never })).toThrow(
      /tracer: expected an OpenTelemetry Tracer/,
    );
  });
});
