import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'
import type { Config } from '../config.js'
import { FrontDoor, frontDoorOf } from '../cache/front-door.js'
import { authenticator } from './auth.js'
import { genReqId } from './request-id.js'
import { loggableUrl } from './redact.js'
import { countsOf } from '../metrics/registry.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** The cache-hit fast path in front of the router; null where it is off (see below). */
    frontDoor: FrontDoor | null
  }
}

/**
 * Wires the front door of the server (cache/front-door.ts) to the app: the in-process cache, the
 * caller keys, the metrics, shutdown and load shedding. It stays off where the server was not made
 * by frontDoorServer (a test's bare Fastify), and where per-caller rate limits are on: each request
 * then counts against its caller's budget, which only the full path does.
 */
async function frontDoorPlugin (app: FastifyInstance, { config }: { config: Config }) {
  const door = frontDoorOf(app.server)
  countsOf(app.metricsRegistry, 'bff_cache_front_door_answers_total', 'Cache hits answered by the front door, before routing (also counted in bff_cache_requests_total)', [], () => (door !== undefined && app.frontDoor !== null ? door.served : 0))
  if (door === undefined || config.rateLimit.max > 0) {
    if (door !== undefined) app.log.info('cache front door off: RATE_LIMIT_MAX counts every request on the full path')
    app.decorate('frontDoor', null)
    return
  }
  app.decorate('frontDoor', door)
  const log = app.log
  door.wire({
    cache: app.cache,
    refusing: () => app.drain.closing() || app.isUnderPressure(),
    authenticate: authenticator(config.auth.keys),
    observe: (route, status, elapsedMs, caller) => app.requestMetrics.observe(route, 'GET', status, elapsedMs, caller),
    requestId: genReqId,
    // Fastify logs each request at info; a hit answered here gets one line at that level too.
    logServed: ['info', 'debug', 'trace'].includes(config.logLevel)
      ? (req, reqId, statusCode, responseTime, caller) => log.info({ reqId, req: { method: req.method, url: loggableUrl(req.url ?? '') }, res: { statusCode }, responseTime, caller }, 'request completed from the cache front door')
      : undefined
  })
  app.addHook('onClose', (_app, done) => {
    door.wire(undefined)
    done()
  })
}

export default fp(frontDoorPlugin, { name: 'front-door', dependencies: ['cache', 'auth', 'metrics', 'shutdown', 'pressure'] })
