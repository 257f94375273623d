import { defineJob } from '@tickwork/core';
import type { RuntimeScheduleDefinition } from '@tickwork/core/runner';
import { describe, expect, it } from 'vitest';
import { SharedValues } from '../src/shared-values.js';

describe('SharedValues.job', () => {
  it('shares one effective job between schedules with the same definition and last change, not across changes', () => {
    const shared = new SharedValues('UTC', () => 10);
    const base = defineJob({ code: 'r', schedule: null, run: () => undefined });
    const definition: RuntimeScheduleDefinition = {
      schedule: { kind: 'cron', expression: '* * * * *' },
      timezone: null,
      payload: null,
      enabled: true,
      startAt: null,
      expiresAt: null,
      description: null,
      options: {},
    };
    const early = shared.job(base, { ...definition, updatedAt: new Date('2026-03-02T09:00:00Z') });
    const sameBatch = shared.job(base, { ...definition, updatedAt: new Date('2026-03-02T09:00:00Z') });
    const later = shared.job(base, { ...definition, updatedAt: new Date('2026-03-02T12:00:00Z') });
    expect(sameBatch).toBe(early);
    expect(later).not.toBe(early);
    // Each keeps its own catch-up floor (core: the last change minus the missed-run grace).
    expect(early.startAt?.toISOString()).toBe('2026-03-02T08:59:00.001Z');
    expect(later.startAt?.toISOString()).toBe('2026-03-02T11:59:00.001Z');
  });
});
