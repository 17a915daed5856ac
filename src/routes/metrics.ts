import { Type } from '@sinclair/typebox'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { problemResponses } from '../schemas/responses.js'
import { Exposition, PROMETHEUS_CONTENT_TYPE, type Labels } from '../metrics/prometheus.js'
import { LATENCY_BOUNDS } from '../metrics/requests.js'
import { WAIT_BUCKETS } from '../upstream/limiter/queue.js'
import { METRICS_PATH } from '../plugins/auth.js'

const CACHE_EVENTS = ['hit', 'stale', 'miss', 'coalesced', 'revalidated', 'stale-if-error'] as const
const WAIT_BOUNDS_S = WAIT_BUCKETS.map(ms => ms / 1000)

const entries = (record: Record<string, number>, label: string, extra: Labels = {}): Array<[Labels, number]> =>
  Object.entries(record).map(([k, v]) => [{ ...extra, [label]: k }, v])

/** GET /metrics: the service's counters in the Prometheus text format, rendered at scrape time. */
const metricsRoute: FastifyPluginAsyncTypebox = async app => {
  app.get(METRICS_PATH, {
    schema: {
      tags: ['operations'],
      summary: 'Prometheus metrics',
      description: [
        'Counters and gauges in the Prometheus text exposition format (0.0.4): requests and latency per route and status, requests per caller, refusals (auth, rate limits, load shedding, shutdown), upstream calls per upstream and outcome, cache events, the Douyin limiter (admitted, waits, rejected, cooldowns, queue length, shared or local), Douyin token fetches, Redis up.',
        'Needs an API key when keys are configured, unless METRICS_REQUIRE_KEY=false.'
      ].join('\n\n'),
      response: {
        200: { description: 'The metrics, text/plain; version=0.0.4', content: { 'text/plain': { schema: Type.String({ examples: ['bff_http_requests_total{route="/v1/platforms",method="GET",status="200"} 42'] }) } } },
        ...problemResponses('UNAUTHORIZED')
      }
    }
  }, (_req, reply) => {
    reply.header('content-type', PROMETHEUS_CONTENT_TYPE).header('cache-control', 'no-store').send(render() as never)
  })

  function render (): string {
    const out = new Exposition()
    const series = [...app.requestMetrics.series()]
    const labelsOf = (s: { route: string, method: string, status: number }) => ({ route: s.route, method: s.method, status: s.status })
    out.counter('bff_http_requests_total', 'Requests answered, by route pattern, method and status', series.map(s => [labelsOf(s), sum(s.counts)]))
    out.histogram('bff_http_request_duration_seconds', 'Time to answer, by route pattern, method and status', series.map(s => [labelsOf(s), { bounds: LATENCY_BOUNDS, counts: s.counts, sum: s.sumSeconds }]))
    out.counter('bff_http_requests_by_caller_total', 'Requests answered, by the name of the caller\'s API key', [...app.requestMetrics.byCaller].map(([caller, n]) => [{ caller }, n]))
    out.counter('bff_auth_refused_total', 'Requests refused 401, by reason', entries({ ...app.authStats }, 'reason'))
    out.counter('bff_rate_limited_total', 'Requests refused 429, by budget', entries({ ...app.rateLimitStats }, 'budget'))
    out.counter('bff_load_shed_total', 'Requests refused 503 before any work, by reason', [
      ...entries(app.shedStats, 'reason'),
      [{ reason: 'shutting_down' }, app.drain.refused],
      [{ reason: 'shutdown_grace_over' }, app.drain.expired]
    ])
    out.gauge('bff_http_requests_in_flight', 'Requests being served now', [[undefined, app.drain.inflight()]])

    const douyin = app.douyin.stats
    out.counter('bff_upstream_requests_total', 'Upstream HTTP attempts (retries included), by upstream and outcome: ok (an answer below 500) or the problem code', [
      ...entries(app.aitoearn.http.stats, 'outcome', { upstream: 'aitoearn' }),
      ...entries(douyin.http, 'outcome', { upstream: 'douyin' })
    ])

    const cache = app.cache.stats
    out.counter('bff_cache_requests_total', 'Cache reads, by how they were answered', CACHE_EVENTS.map(e => [{ result: e }, cache[e]]))
    out.counter('bff_cache_fetches_total', 'Fills of the cache (each one upstream call or page walk)', [[undefined, cache.fetches]])
    out.counter('bff_cache_refreshes_total', 'Background refreshes started (stale-while-revalidate)', [[undefined, cache.refreshes]])
    out.gauge('bff_cache_local_bytes', 'Bytes held by the in-process cache tier (bounded by CACHE_LOCAL_MAX_MB)', [[undefined, app.cache.local.bytes]])
    out.gauge('bff_cache_local_entries', 'Entries held by the in-process cache tier', [[undefined, app.cache.local.entries]])
    out.counter('bff_cache_front_door_answers_total', 'Cache hits answered by the front door, before routing (also counted in bff_cache_requests_total)', [[undefined, app.frontDoor?.served ?? 0]])

    const limiter = douyin.limiter
    if (limiter) {
      out.counter('bff_douyin_limiter_admitted_total', 'Douyin requests admitted by the limiter', [[undefined, limiter.admitted]])
      out.counter('bff_douyin_limiter_rejected_total', 'Douyin requests refused by the limiter (no slot before the deadline, or the queue full)', [[undefined, limiter.rejected]])
      out.counter('bff_douyin_limiter_cooldowns_total', 'Pauses after Douyin said too many anyway', [[undefined, limiter.cooldowns]])
      out.histogram('bff_douyin_limiter_wait_seconds', 'Time admitted requests waited for a Douyin slot', [[undefined, { bounds: WAIT_BOUNDS_S, counts: limiter.waited, sum: limiter.waitedSumMs / 1000 }]])
      out.gauge('bff_douyin_limiter_queue_length', 'Requests waiting for a Douyin slot in this instance', [[undefined, limiter.queueLength]])
      out.gauge('bff_douyin_limiter_shared', '1 while the Douyin ceiling is kept in Redis for every instance, 0 while held in process', [[undefined, limiter.mode === 'shared' ? 1 : 0]])
    }
    if (douyin.tokens) {
      out.counter('bff_douyin_token_fetches_total', 'Douyin access token fetches (refreshes)', [[undefined, douyin.tokens.fetches]])
      out.counter('bff_douyin_token_fetch_failures_total', 'Douyin access token fetches that gave no token', [[undefined, douyin.tokens.failures]])
    }

    out.gauge('bff_redis_configured', '1 when REDIS_URL is set', [[undefined, app.redis ? 1 : 0]])
    if (app.redis) out.gauge('bff_redis_up', '1 while the Redis connection is ready', [[undefined, app.redis.status === 'ready' ? 1 : 0]])

    const mem = process.memoryUsage()
    out.gauge('process_resident_memory_bytes', 'Resident set size', [[undefined, mem.rss]])
    out.gauge('nodejs_heap_used_bytes', 'V8 heap in use', [[undefined, mem.heapUsed]])
    if (app.hasDecorator('memoryUsage')) out.gauge('nodejs_eventloop_delay_seconds', 'Mean event-loop delay over the last second', [[undefined, app.memoryUsage().eventLoopDelay / 1000]])
    out.gauge('process_uptime_seconds', 'Seconds since the process started', [[undefined, Math.round(process.uptime())]])
    return out.text()
  }
}

function sum (counts: ArrayLike<number>): number {
  let total = 0
  for (let i = 0; i < counts.length; i++) total += counts[i]!
  return total
}

export default metricsRoute
