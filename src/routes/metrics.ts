import { Type } from '@sinclair/typebox'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { problemResponses } from '../schemas/responses.js'
import { METRICS_PATH } from '../metrics/registry.js'

/** GET /metrics: the app's registry in the Prometheus text format, rendered at scrape time. */
const metricsRoute: FastifyPluginAsyncTypebox = async app => {
  const registry = app.metricsRegistry
  app.get(METRICS_PATH, {
    schema: {
      tags: ['operations'],
      operationId: 'getPrometheusMetrics',
      summary: 'Prometheus metrics',
      description: [
        'Counters and gauges in the Prometheus text exposition format (0.0.4): requests and latency per route and status, requests per caller, refusals (auth, rate limits, load shedding, shutdown), upstream calls per upstream and outcome, cache events, the Douyin limiter (admitted, waits, rejected, cooldowns, queue length, shared or local), Douyin token fetches, Redis up, and the process and Node.js metrics of prom-client.',
        'Needs an API key when keys are configured, unless METRICS_REQUIRE_KEY=false.'
      ].join('\n\n'),
      response: {
        200: { description: 'The metrics, text/plain; version=0.0.4', content: { 'text/plain': { schema: Type.String({ examples: ['bff_http_requests_total{route="/v1/platforms",method="GET",status="200"} 42'] }) } } },
        ...problemResponses('UNAUTHORIZED')
      }
    }
  }, async (_req, reply) => {
    const text = await registry.metrics()
    return reply.header('content-type', registry.contentType).header('cache-control', 'no-store').send(text as never)
  })
}

export default metricsRoute
