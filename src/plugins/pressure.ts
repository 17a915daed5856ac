import { getHeapStatistics } from 'node:v8'
import fp from 'fastify-plugin'
import underPressure from '@fastify/under-pressure'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { Config } from '../config.js'
import { HttpProblem } from '../errors.js'
import { eventCounter } from '../metrics/registry.js'

/** Seconds a shed caller is asked to wait. */
export const PRESSURE_RETRY_AFTER_S = 5
/** Never shed: the probes and the scrape must keep telling what is going on. */
const NEVER_SHED = new Set(['/healthz', '/metrics'])

/**
 * Load shedding with @fastify/under-pressure: while the event loop lags more than
 * PRESSURE_MAX_EVENT_LOOP_DELAY_MS or the heap holds more than PRESSURE_MAX_HEAP_MB (default 90%
 * of its limit), requests are answered at once with 503 SERVICE_UNAVAILABLE and Retry-After,
 * before any work. Its check is a synchronous comparison against values sampled once a second.
 */
async function pressure (app: FastifyInstance, { config }: { config: Config }) {
  const shed = eventCounter(app.metricsRegistry, 'bff_load_shed_total', 'Requests refused 503 before any work, by reason', ['reason'])
  const { maxEventLoopDelayMs, maxHeapUsedBytes } = config.pressure
  const heapLimit = maxHeapUsedBytes ?? Math.floor(getHeapStatistics().heap_size_limit * 0.9)
  await app.register(underPressure, {
    maxEventLoopDelay: maxEventLoopDelayMs,
    maxHeapUsedBytes: heapLimit,
    retryAfter: PRESSURE_RETRY_AFTER_S,
    exposeStatusRoute: false,
    pressureHandler: (req: FastifyRequest, _reply: unknown, type: string, value: number | undefined) => {
      if (NEVER_SHED.has(req.url.split('?', 1)[0]!)) return undefined
      shed.inc({ reason: type })
      req.log.warn({ type, value }, 'under pressure: request shed')
      return Promise.reject(new HttpProblem('SERVICE_UNAVAILABLE', {
        detail: `The service is overloaded (${type}); try again shortly`,
        retryAfter: PRESSURE_RETRY_AFTER_S
      }))
    }
  })
}

export default fp(pressure, { name: 'pressure', dependencies: ['problems', 'metrics'] })
