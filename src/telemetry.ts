/**
 * OpenTelemetry for the process: a tracer provider, the official instrumentations (Fastify's own
 * @fastify/otel, undici for every upstream call, ioredis for every Redis command) and our spans
 * (src/tracing.ts). Started by server.ts only when OTEL_EXPORTER_OTLP_ENDPOINT is set; its
 * packages are not even loaded otherwise. W3C trace context is read from callers and sent
 * upstream (not their baggage); log lines carry `trace_id` and `span_id`.
 *
 * What a trace never holds: query values that may be credentials (the signed query of a bill
 * link included: url.full of an upstream call is its origin and path only), Redis arguments (only
 * command names), any secret the process knows (every span's texts are scrubbed as they end).
 * Probes and /metrics make no trace.
 */
import { createRequire } from 'node:module'
import type { FastifyPluginCallback } from 'fastify'
import { trace } from '@opentelemetry/api'
import type { Span, SpanExporter, SpanProcessor } from '@opentelemetry/sdk-trace-base'
import { useTracer } from './tracing.js'
import { secrets } from './secrets.js'
import { loggableUrl } from './plugins/redact.js'
import { METRICS_PATH } from './metrics/registry.js'

export interface Telemetry {
  /** @fastify/otel's plugin: app.ts registers it first, so every route and hook runs in the request's span. */
  fastifyPlugin: FastifyPluginCallback
  /** Sends what is left and stops (on shutdown). */
  shutdown: () => Promise<void>
}

let active: Telemetry | undefined

/** The process's telemetry, when started. */
export const telemetry = (): Telemetry | undefined => active

export interface TelemetryOptions {
  /** The OTLP/HTTP endpoint (`/v1/traces` is added), or */
  endpoint?: string
  /** an exporter of one's own (an in-memory one in a test): spans are then exported one by one. */
  exporter?: SpanExporter
  serviceName: string
}

const UNTRACED = new Set(['/healthz', '/readyz', METRICS_PATH])

/**
 * Every text of a span scrubbed of every secret the process knows as it ends, before any exporter
 * sees it, as every log line is (src/secrets.ts): attributes, event attributes (an exception's
 * message and stack, whoever recorded it: @fastify/otel does so raw) and the status message.
 */
const scrubbing: SpanProcessor = {
  onStart: () => {},
  onEnding: (span: Span) => {
    for (const [name, value] of Object.entries(span.attributes)) {
      if (typeof value === 'string') {
        const clean = secrets.scrub(value)
        if (clean !== value) span.setAttribute(name, clean)
      }
    }
    for (const event of span.events) {
      const attributes = event.attributes as Record<string, unknown> | undefined
      if (attributes === undefined) continue
      for (const [name, value] of Object.entries(attributes)) if (typeof value === 'string') attributes[name] = secrets.scrub(value)
    }
    if (span.status.message !== undefined) span.setStatus({ code: span.status.code, message: secrets.scrub(span.status.message) })
  },
  onEnd: () => {},
  forceFlush: async () => {},
  shutdown: async () => {}
}

/** Starts tracing for this process (once; a second call returns the first). */
export async function startTelemetry (opts: TelemetryOptions): Promise<Telemetry> {
  if (active !== undefined) return active
  const [{ NodeTracerProvider, BatchSpanProcessor, SimpleSpanProcessor }, { resourceFromAttributes }, { registerInstrumentations }, { UndiciInstrumentation }, { IORedisInstrumentation }, { FastifyOtelInstrumentation }] = await Promise.all([
    import('@opentelemetry/sdk-trace-node'),
    import('@opentelemetry/resources'),
    import('@opentelemetry/instrumentation'),
    import('@opentelemetry/instrumentation-undici'),
    import('@opentelemetry/instrumentation-ioredis'),
    import('@fastify/otel')
  ])
  const { W3CTraceContextPropagator } = await import('@opentelemetry/core')
  let processor
  if (opts.exporter !== undefined) processor = new SimpleSpanProcessor(opts.exporter)
  else {
    const { OTLPTraceExporter } = await import('@opentelemetry/exporter-trace-otlp-http')
    processor = new BatchSpanProcessor(new OTLPTraceExporter({ url: `${opts.endpoint}/v1/traces` }))
  }
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ 'service.name': opts.serviceName }),
    spanProcessors: [scrubbing, processor]
  })
  // The global provider and AsyncLocalStorage context. W3C trace context only: a caller's
  // `baggage` (up to 8 KB of its own headers) is not passed on to AiToEarn and Douyin.
  provider.register({ propagator: new W3CTraceContextPropagator() })

  const fastify = new FastifyOtelInstrumentation({
    registerOnInitialization: false,
    // One span per request and one for its handler; a span per hook would be noise.
    instrumentHooks: false,
    ignorePaths: (route: { url: string }) => UNTRACED.has(route.url.split('?')[0]!),
    requestHook: (span, request) => { span.setAttribute('url.path', secrets.scrub(loggableUrl(request.url))) }
  })
  registerInstrumentations({
    instrumentations: [
      new UndiciInstrumentation({
        // Origin and path only: a query may be a signed link (bill files) or carry a caller's value.
        startSpanHook: request => {
          const url = new URL(request.path, request.origin)
          return { 'url.full': `${url.origin}${url.pathname}`, 'url.query': '' }
        }
      }),
      // Commands made for a request only (not the limiter's heartbeats), by name (never their arguments).
      new IORedisInstrumentation({ requireParentSpan: true, dbStatementSerializer: command => command }),
      fastify
    ],
    tracerProvider: provider
  })
  // ioredis is CommonJS: requiring it here lets its instrumentation patch the prototype our
  // ESM imports share, whichever was loaded first.
  createRequire(import.meta.url)('ioredis')
  useTracer(trace.getTracer(opts.serviceName))

  active = {
    fastifyPlugin: fastify.plugin() as unknown as FastifyPluginCallback,
    shutdown: async () => {
      useTracer(undefined)
      await provider.shutdown()
    }
  }
  return active
}
