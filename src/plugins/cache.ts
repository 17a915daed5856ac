import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'
import type { Config } from '../config.js'
import { Cache, type CachePolicy } from '../cache/cache.js'
import { MemoryStore } from '../cache/memory-store.js'
import { cachePolicies, type PolicyName } from '../cache/policies.js'

declare module 'fastify' {
  interface FastifyInstance {
    cache: Cache
    cachePolicies: Record<PolicyName, CachePolicy>
  }
}

/** The read-through cache, on Redis when configured, in-process otherwise (and while Redis is down). */
async function cachePlugin (app: FastifyInstance, { config }: { config: Config }) {
  app.decorate('cache', new Cache({
    memory: new MemoryStore(config.cache.localMaxBytes),
    redis: app.redis,
    log: app.log,
    localTtlMs: config.cache.localTtlMs,
    lockMs: 5000,
    backgroundMs: config.requestDeadlineMs
  }))
  app.decorate('cachePolicies', cachePolicies(config))
}

export default fp(cachePlugin, { name: 'cache', dependencies: ['redis'] })
