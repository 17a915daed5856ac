import fp from 'fastify-plugin'
import { Redis } from 'ioredis'
import type { FastifyInstance } from 'fastify'
import { gaugeOf } from '../metrics/registry.js'
import { guard, usable } from '../redis-breaker.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** The shared Redis, or null when the service runs on its in-process defaults. */
    redis: Redis | null
  }
}

export interface RedisOptions { url: string, keyPrefix: string }

/**
 * A Redis client fit for the request path: commands fail fast instead of queueing while Redis is
 * away (no offline queue, one retry, short timeouts), and it reconnects by itself in the
 * background, so callers can fall back to their in-process paths and come back when it answers.
 */
export function createRedis ({ url, keyPrefix }: RedisOptions): Redis {
  return new Redis(url, {
    keyPrefix,
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 1000,
    commandTimeout: 500,
    enableReadyCheck: true,
    // Commands issued in the same tick go out as one write: under load, many cache reads (one per
    // request) cost one round trip and one syscall instead of one each.
    enableAutoPipelining: true,
    retryStrategy: times => Math.min(100 * 2 ** Math.min(times, 5), 2000)
  })
}

async function redisPlugin (app: FastifyInstance, opts: { redis?: RedisOptions }) {
  gaugeOf(app.metricsRegistry, 'bff_redis_configured', '1 when REDIS_URL is set', () => (opts.redis ? 1 : 0))
  if (!opts.redis) {
    app.log.info('REDIS_URL is not set: cache and Douyin limiter run in-process (one instance only)')
    app.decorate('redis', null)
    return
  }
  const redis = createRedis(opts.redis)
  guard(redis, app.log)
  let up = true
  redis.on('error', (err: Error) => {
    if (up) app.log.warn({ err: { message: err.message } }, 'Redis is unreachable; falling back to in-process paths')
    up = false
  })
  redis.on('ready', () => {
    if (!up) app.log.info('Redis answers again')
    up = true
  })
  // Start with Redis when it answers within the connect timeout; otherwise start anyway, in-process.
  await redis.connect().catch(() => { /* reported by the error event; reconnects by itself */ })
  app.decorate('redis', redis)
  gaugeOf(app.metricsRegistry, 'bff_redis_up', '1 while Redis is in use: connected and answering in time (its circuit breaker closed)', () => (usable(redis) ? 1 : 0))
  app.addHook('onClose', async () => { redis.disconnect() })
}

export default fp(redisPlugin, { name: 'redis', dependencies: ['metrics'] })
