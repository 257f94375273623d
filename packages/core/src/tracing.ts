/**
 * OpenTelemetry tracing without a dependency: the slice of `@opentelemetry/api`'s `Tracer` and
 * `Span` that core calls. A host that has the API (an optional peer dependency) passes
 * `trace.getTracer('tickwork')` as the runners' `tracer` option; without one nothing is traced and
 * nothing is imported.
 */

/** What a span's attributes may hold. */
export type SpanAttributeValue = string | number | boolean;

/** The part of an OpenTelemetry `Span` core uses. */
export interface RunSpan {
  setAttribute(key: string, value: SpanAttributeValue): unknown;
  /** `code`: 1 OK, 2 ERROR (OpenTelemetry's `SpanStatusCode`). */
  setStatus(status: { code: number; message?: string }): unknown;
  recordException(exception: { name?: string; message: string; stack?: string } | string): void;
  end(): void;
}

/** The part of an OpenTelemetry `Tracer` core uses: `startActiveSpan`, so the handler runs with the span active. */
export interface RunTracer {
  startActiveSpan<F extends (span: RunSpan) => unknown>(
    name: string,
    options: { attributes?: Record<string, SpanAttributeValue> },
    fn: F,
  ): ReturnType<F>;
}

/** OpenTelemetry's `SpanStatusCode.OK`: a run that succeeded. */
export const SPAN_STATUS_OK = 1;
/** OpenTelemetry's `SpanStatusCode.ERROR`: a run that did not succeed. */
export const SPAN_STATUS_ERROR = 2;

/** The attributes of a run's span (the `tickwork.status` one is set when the run is recorded). */
export function runSpanAttributes(run: { code: string; key: string; slotAt: Date; attempt: number }): Record<string, SpanAttributeValue> {
  return { 'tickwork.job': run.code, 'tickwork.key': run.key, 'tickwork.slot': run.slotAt.toISOString(), 'tickwork.attempt': run.attempt };
}
