/**
 * OpenTelemetry for the process: a tracer provider, the official instrumentations (Fastify's own
 * @fastify/otel, undici for every upstream call, ioredis for every Redis command) and our spans
 * (src/tracing.ts). Started by server.ts only when OTEL_EXPORTER_OTLP_ENDPOINT is set; its
 * packages are not even loaded otherwise. W3C `traceparent` is read from callers and sent
 * upstream; log lines carry `trace_id` and `span_id`.
 *
 * What a trace never holds: query values that may be credentials (the signed query of a bill
 * link included: url.full of an upstream call is its origin and path only), Redis arguments (only
 * command names), secrets in error messages (scrubbed). Probes and /metrics make no trace.
 */
import { createRequire } from 'node:module'
import type { FastifyPluginCallback } from 'fastify'
import { trace } from '@opentelemetry/api'
import type { SpanExporter } from '@opentelemetry/sdk-trace-base'
import { useTracer } from './tracing.js'
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
  let processor
  if (opts.exporter !== undefined) processor = new SimpleSpanProcessor(opts.exporter)
  else {
    const { OTLPTraceExporter } = await import('@opentelemetry/exporter-trace-otlp-http')
    processor = new BatchSpanProcessor(new OTLPTraceExporter({ url: `${opts.endpoint}/v1/traces` }))
  }
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ 'service.name': opts.serviceName }),
    spanProcessors: [processor]
  })
  // The global provider, AsyncLocalStorage context and the W3C trace-context propagator.
  provider.register()

  const fastify = new FastifyOtelInstrumentation({
    registerOnInitialization: false,
    // One span per request and one for its handler; a span per hook would be noise.
    instrumentHooks: false,
    ignorePaths: (route: { url: string }) => UNTRACED.has(route.url.split('?')[0]!),
    requestHook: (span, request) => { span.setAttribute('url.path', loggableUrl(request.url)) }
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
