import { context } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFakeClock, createMemoryStore, defineJob, every, runDue } from '../src/index.js';

const exporter = new InMemorySpanExporter();
const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
const tracer = provider.getTracer('tickwork-test');
const contextManager = new AsyncLocalStorageContextManager();

beforeAll(() => {
  context.setGlobalContextManager(contextManager.enable());
});
afterAll(() => {
  context.disable();
});

describe('OpenTelemetry: a span per attempt', () => {
  it('wraps each attempt in a span with job, key, slot, attempt and status; a span the handler starts is its child', async () => {
    exporter.reset();
    const store = createMemoryStore();
    const clock = createFakeClock('2026-03-02T12:00:30.000Z');
    const jobs = [
      defineJob({
        code: 'traced',
        schedule: every('1m'),
        run: async () => {
          const inner = tracer.startSpan('inner work');
          await new Promise((resolve) => setTimeout(resolve, 5));
          inner.end();
        },
      }),
      defineJob({
        code: 'broken',
        schedule: every('1m'),
        run: () => {
          throw new Error('boom');
        },
      }),
    ];
    const report = await runDue({ jobs, store, clock, runnerId: 'a', tracer });
    expect(report.results.map((r) => [r.code, r.outcome]).sort()).toEqual([
      ['broken', 'failed'],
      ['traced', 'succeeded'],
    ]);
    const spans = exporter.getFinishedSpans();
    const byName = new Map(spans.map((s) => [s.name, s]));
    expect([...byName.keys()].sort()).toEqual(['inner work', 'tickwork.run broken', 'tickwork.run traced']);
    const traced = byName.get('tickwork.run traced');
    expect(traced?.attributes).toEqual({
      'tickwork.job': 'traced',
      'tickwork.key': '',
      'tickwork.slot': '2026-03-02T12:00:00.000Z',
      'tickwork.attempt': 1,
      'tickwork.status': 'succeeded',
    });
    expect(traced?.status).toEqual({ code: 1 });
    const broken = byName.get('tickwork.run broken');
    expect(broken?.attributes['tickwork.status']).toBe('failed');
    expect(broken?.status).toEqual({ code: 2, message: 'boom' });
    expect(broken?.events.map((e) => e.name)).toEqual(['exception']);
    // The handler ran inside the run's span: the span it started is the run span's child, in its trace.
    const inner = byName.get('inner work');
    expect(inner?.parentSpanContext?.spanId).toBe(traced?.spanContext().spanId);
    expect(inner?.spanContext().traceId).toBe(traced?.spanContext().traceId);
  });

  it('without a tracer nothing is traced', async () => {
    exporter.reset();
    const jobs = [defineJob({ code: 'plain', schedule: every('1m'), run: () => {} })];
    await runDue({ jobs, store: createMemoryStore(), clock: createFakeClock('2026-03-02T12:00:30.000Z'), runnerId: 'a' });
    expect(exporter.getFinishedSpans()).toEqual([]);
  });

  it('core itself imports nothing of OpenTelemetry, so a host without the package loads and runs it', () => {
    const src = fileURLToPath(new URL('../src/', import.meta.url));
    const files = readdirSync(src, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts'));
    expect(files.length).toBeGreaterThan(10);
    expect(files.filter((f) => /['"]@opentelemetry\//.test(readFileSync(join(src, f), 'utf8')))).toEqual([]);
  });
});
