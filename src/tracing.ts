/**
 * Our own spans (cache reads, limiter waits, front-door hits) over the OpenTelemetry API. Off,
 * the default, each helper is one branch on `tracer`: no span object, no context switch, nothing
 * on the hot path. src/telemetry.ts turns it on when OTEL_EXPORTER_OTLP_ENDPOINT is set.
 */
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, context, propagation, trace, type Attributes, type Context, type Span, type Tracer } from '@opentelemetry/api'

let tracer: Tracer | undefined

/** Called once by the process when tracing is configured (telemetry.ts), never by app code. */
export function useTracer (t: Tracer | undefined): void {
  tracer = t
}

export const tracing = (): boolean => tracer !== undefined

/**
 * `fn` inside a span of its own, a child of the active one: errors are recorded on it and the
 * span ends when `fn` settles. Off: `fn()`.
 */
export function traced<T> (name: string, attributes: Attributes, fn: (span: Span | undefined) => Promise<T>): Promise<T> {
  if (tracer === undefined) return fn(undefined)
  return tracer.startActiveSpan(name, { attributes }, async span => {
    try {
      return await fn(span)
    } catch (err) {
      // Scrubbed of secrets with every other span text on its way out (telemetry.ts).
      const message = String((err as Error)?.message ?? err)
      span.recordException({ name: (err as Error)?.name ?? 'Error', message })
      span.setStatus({ code: SpanStatusCode.ERROR, message })
      throw err
    } finally {
      span.end()
    }
  })
}

/**
 * A request answered outside Fastify (the cache front door): one SERVER span, from the moment
 * it came in, under the caller's `traceparent` when it sent one.
 */
export function servedSpan (headers: Record<string, string | string[] | undefined>, route: string, startedAt: number, attributes: Attributes): void {
  if (tracer === undefined) return
  const parent = propagation.extract(ROOT_CONTEXT, headers)
  tracer.startSpan(`GET ${route}`, { kind: SpanKind.SERVER, startTime: startedAt, attributes: { 'http.route': route, ...attributes } }, parent).end()
}

/**
 * Shared work started from inside one request (a batch for every caller, a queue serving every
 * waiter) must not become that request's: `detached(fn)` runs under no trace at all, and
 * `activeContext()` / `within(ctx, fn)` carry one waiter's trace to the step done for it.
 */
export function detached<A extends unknown[]> (fn: (...args: A) => void): (...args: A) => void {
  return tracer === undefined ? fn : context.bind(ROOT_CONTEXT, fn)
}
export const activeContext = (): Context | undefined => (tracer === undefined ? undefined : context.active())
export function within<T> (ctx: Context | undefined, fn: () => T): T {
  return ctx === undefined ? fn() : context.with(ctx, fn)
}

/** The ids a log line carries while a span is active (pino `mixin`); nothing when off or outside a span. */
export function traceFields (): Record<string, string> {
  if (tracer === undefined) return {}
  const span = trace.getSpan(context.active())
  if (span === undefined) return {}
  const { traceId, spanId, traceFlags } = span.spanContext()
  return { trace_id: traceId, span_id: spanId, trace_flags: `0${traceFlags.toString(16)}` }
}
