/**
 * Our own spans (cache reads, limiter waits, front-door hits) over the OpenTelemetry API. Off,
 * the default, each helper is one branch on `tracer`: no span object, no context switch, nothing
 * on the hot path. src/telemetry.ts turns it on when OTEL_EXPORTER_OTLP_ENDPOINT is set.
 */
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, context, propagation, trace, type Attributes, type Span, type Tracer } from '@opentelemetry/api'
import { secrets } from './secrets.js'

let tracer: Tracer | undefined

/** Called once by the process when tracing is configured (telemetry.ts), never by app code. */
export function useTracer (t: Tracer | undefined): void {
  tracer = t
}

export const tracing = (): boolean => tracer !== undefined

/**
 * `fn` inside a span of its own, a child of the active one: errors are recorded on it (their
 * messages scrubbed of every known secret) and the span ends when `fn` settles. Off: `fn()`.
 */
export function traced<T> (name: string, attributes: Attributes, fn: (span: Span | undefined) => Promise<T>): Promise<T> {
  if (tracer === undefined) return fn(undefined)
  return tracer.startActiveSpan(name, { attributes }, async span => {
    try {
      return await fn(span)
    } catch (err) {
      const message = secrets.scrub(String((err as Error)?.message ?? err))
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

/** The ids a log line carries while a span is active (pino `mixin`); nothing when off or outside a span. */
export function traceFields (): Record<string, string> {
  if (tracer === undefined) return {}
  const span = trace.getSpan(context.active())
  if (span === undefined) return {}
  const { traceId, spanId, traceFlags } = span.spanContext()
  return { trace_id: traceId, span_id: spanId, trace_flags: `0${traceFlags.toString(16)}` }
}
