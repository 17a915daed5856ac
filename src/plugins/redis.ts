import fp from 'fastify-plugin'
import { Cluster, Redis } from 'ioredis'
import type { RedisTarget } from '../config.js'
import type { FastifyInstance } from 'fastify'
import { gaugeOf } from '../metrics/registry.js'
import { guard, usable } from '../redis-breaker.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** The shared Redis, or null when the service runs on its in-process defaults. */
    redis: Redis | null
  }
}

/** A Redis (one server, a cluster, or a Sentinel-managed primary) and the prefix of our keys. */
export type RedisOptions = RedisTarget

/** Fail fast, never queue: the request path falls back to its in-process paths meanwhile. */
const FAST = {
  enableOfflineQueue: false,
  maxRetriesPerRequest: 1,
  connectTimeout: 1000,
  commandTimeout: 500,
  enableReadyCheck: true
} as const
const backoff = (times: number) => Math.min(100 * 2 ** Math.min(times, 5), 2000)

/**
 * A Redis client fit for the request path: commands fail fast instead of queueing while Redis is
 * away (no offline queue, one retry, short timeouts), and it reconnects by itself in the
 * background, so callers can fall back to their in-process paths and come back when it answers.
 * Commands issued in the same tick go out as one write (auto-pipelining): under load, many cache
 * reads cost one round trip. A cluster client is used through the same interface: every
 * multi-key script and pipeline of ours keeps its keys in one hash slot (`{...}` tags).
 */
export function createRedis (target: RedisOptions): Redis {
  const { keyPrefix } = target
  if (target.mode === 'cluster') {
    const cluster = new Cluster(target.nodes, {
      keyPrefix,
      lazyConnect: true,
      enableOfflineQueue: false,
      enableReadyCheck: true,
      // Not auto-pipelining: ioredis 5.11 loses a queued auto-pipeline on a cluster node that is
      // still connecting ("reading 'stream'" in its ready handler), a crash in test/redis-cluster.test.ts.
      clusterRetryStrategy: backoff,
      // The nodes keep their own offline queue (ioredis needs it while it learns the slots); the
      // cluster client above refuses to queue, which is what the request path sees.
      redisOptions: { connectTimeout: FAST.connectTimeout, commandTimeout: FAST.commandTimeout, maxRetriesPerRequest: FAST.maxRetriesPerRequest, ...(target.password ? { password: target.password } : {}) }
    })
    return cluster as unknown as Redis
  }
  if (target.mode === 'sentinel') {
    return new Redis({
      ...FAST,
      sentinels: target.sentinels,
      name: target.name,
      keyPrefix,
      lazyConnect: true,
      enableAutoPipelining: true,
      ...(target.password ? { password: target.password, sentinelPassword: target.password } : {}),
      retryStrategy: backoff,
      sentinelRetryStrategy: backoff
    })
  }
  return new Redis(target.url, { ...FAST, keyPrefix, lazyConnect: true, enableAutoPipelining: true, retryStrategy: backoff })
}

async function redisPlugin (app: FastifyInstance, opts: { redis?: RedisOptions }) {
  gaugeOf(app.metricsRegistry, 'bff_redis_configured', '1 when a Redis is configured (REDIS_URL, REDIS_CLUSTER_NODES or REDIS_SENTINELS)', () => (opts.redis ? 1 : 0))
  if (!opts.redis) {
    app.log.info('no Redis configured: cache and Douyin limiter run in-process (one instance only)')
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
