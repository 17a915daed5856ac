import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'
import type { Config } from '../config.js'
import { FrontDoor, frontDoorOf } from '../cache/front-door.js'
import { authenticator } from './auth.js'
import { genReqId } from './request-id.js'
import { loggableUrl } from './redact.js'
import { countsOf } from '../metrics/registry.js'
import { clientIp, proxyTrust } from './client-ip.js'
import type { IncomingMessage } from 'node:http'
import { servedSpan, tracing } from '../tracing.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** The cache-hit fast path in front of the router; null where it is off (see below). */
    frontDoor: FrontDoor | null
  }
}

/**
 * Wires the front door of the server (cache/front-door.ts) to the app: the in-process cache, the
 * caller keys and budget, the metrics, shutdown and load shedding. It stays off where the server
 * was not made by frontDoorServer (a test's bare Fastify).
 */
async function frontDoorPlugin (app: FastifyInstance, { config }: { config: Config }) {
  const door = frontDoorOf(app.server)
  countsOf(app.metricsRegistry, 'bff_cache_front_door_answers_total', 'Cache hits answered by the front door, before routing (also counted in bff_cache_requests_total)', [], () => (door !== undefined && app.frontDoor !== null ? door.served : 0))
  if (door === undefined) {
    app.decorate('frontDoor', null)
    return
  }
  app.decorate('frontDoor', door)
  const log = app.log
  const trust = proxyTrust(config.trustProxy)
  const caller = app.callerBudget
  const limit = caller === null ? '' : String(caller.budget.max)
  door.wire({
    cache: app.cache,
    refusing: () => app.drain.closing() || app.isUnderPressure(),
    authenticate: authenticator(config.auth.keys),
    observe: (route, status, elapsedMs, caller) => app.requestMetrics.observe(route, 'GET', status, elapsedMs, caller),
    requestId: genReqId,
    // The caller budget as the full path counts it (plugins/rate-limit.ts): the key name, else the
    // client's address; a refusal or a batch still on its way to Redis goes to the full path.
    ...(caller === null
      ? {}
      : {
          budget: (req: IncomingMessage, name: string | undefined) => {
            const v = caller.budget.take(name !== undefined ? `key:${name}` : `ip:${clientIp(req, trust)}`)
            return v === undefined || !v.ok ? undefined : { limit, remaining: String(v.remaining), reset: String(v.resetS) }
          }
        }),
    // Fastify logs each request at info; a hit answered here gets one line at that level too.
    logServed: ['info', 'debug', 'trace'].includes(config.logLevel)
      ? (req, reqId, statusCode, responseTime, caller) => log.info({ reqId, req: { method: req.method, url: loggableUrl(req.url ?? '') }, res: { statusCode }, responseTime, caller }, 'request completed from the cache front door')
      : undefined,
    // With tracing on, a hit answered here is a span too (under the caller's traceparent).
    traceServed: tracing()
      ? (req, route, status, started) => servedSpan(req.headers, route, started, { 'http.request.method': 'GET', 'http.response.status_code': status, 'cache.status': 'hit', 'bff.front_door': true })
      : undefined
  })
  app.addHook('onClose', (_app, done) => {
    door.wire(undefined)
    done()
  })
}

export default fp(frontDoorPlugin, { name: 'front-door', dependencies: ['cache', 'auth', 'metrics', 'shutdown', 'pressure', 'rate-limit'] })
