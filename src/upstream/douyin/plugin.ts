import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'
import type { Config } from '../../config.js'
import { SANDBOX_DOUYIN_CLIENT_KEY, SANDBOX_DOUYIN_CLIENT_SECRET } from '../../sandbox/seed.js'
import { QueueingLimiter } from '../limiter/queue.js'
import { RedisReserver } from '../limiter/redis-reserver.js'
import { DouyinClient } from './client.js'

/**
 * Douyin counts requests as they arrive; ours leave after admission, and the time in between
 * varies (event-loop turns, timers firing late, connection set-up, the network). A window of
 * 1 s + this margin keeps any arrival-second at the ceiling even when an earlier request is
 * delayed this much more than a later one (the limiter also holds the window on actual send
 * times). Measured with the app and the Douyin sandbox starved of CPU (three busy loops on two
 * cores) through a Redis outage and back: 30 ms let 11-12 arrivals into one second in 3 of 4
 * runs, 40 ms in 0 of 4. `npm run bench:limiter` (three processes, 3x the ceiling): 0 rejections,
 * at most 10 in any second, ~9.5 req/s (the margin caps it at 10 / 1.04 s = 9.6).
 */
export const ARRIVAL_MARGIN_MS = 40

declare module 'fastify' {
  interface FastifyInstance {
    /** The Douyin open platform client (taskbox daily video data). */
    douyin: DouyinClient
  }
}

/** Decorates `app.douyin`; registered after the `redis` plugin, whose client shares the token. */
async function douyinPlugin (app: FastifyInstance, { config }: { config: Config }) {
  const c = config.douyin
  // A sandbox without credentials of its own uses the sandbox app's (as src/sandbox/attach.ts sets them).
  const useSandboxApp = c.sandbox && !c.accessToken && !(c.clientKey && c.clientSecret)
  const client = new DouyinClient({
    baseUrl: c.baseUrl,
    clientKey: useSandboxApp ? SANDBOX_DOUYIN_CLIENT_KEY : c.clientKey,
    clientSecret: useSandboxApp ? SANDBOX_DOUYIN_CLIENT_SECRET : c.clientSecret,
    accessToken: c.accessToken,
    qps: c.qps,
    sandbox: c.sandbox,
    timeoutMs: config.upstreamTimeoutMs,
    requestDeadlineMs: config.requestDeadlineMs,
    redis: app.redis,
    log: app.log.child({ upstream: 'douyin' }),
    limiter: new QueueingLimiter({
      name: 'douyin',
      shared: app.redis ? new RedisReserver(app.redis, 'douyin', c.qps, 1000 + ARRIVAL_MARGIN_MS) : null,
      limit: c.qps,
      fallbackLimit: c.qpsFallback,
      windowMs: 1000 + ARRIVAL_MARGIN_MS,
      maxQueue: 1000,
      horizonMs: 250,
      log: app.log.child({ upstream: 'douyin' })
    })
  })
  app.decorate('douyin', client)
  app.addHook('onClose', async () => { await client.close() })
}

export default fp(douyinPlugin, { name: 'douyin', dependencies: ['redis'] })
