import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'
import type { Config } from '../config.js'
import { Cache, STATUS_RANK, type CacheStatus } from '../cache/cache.js'
import { MemoryStore } from '../cache/memory-store.js'
import { RedisStore } from '../cache/redis-store.js'
import { countsOf, gaugeOf } from '../metrics/registry.js'

declare module 'fastify' {
  interface FastifyInstance {
    cache: Cache
  }
}

/** The read-through cache, on Redis when configured, in-process otherwise (and while Redis is down). */
async function cachePlugin (app: FastifyInstance, { config }: { config: Config }) {
  const cache = new Cache({
    memory: new MemoryStore(config.cache.localMaxBytes),
    redis: app.redis,
    log: app.log,
    localTtlMs: config.cache.localTtlMs,
    lockMs: 5000,
    backgroundMs: config.requestDeadlineMs,
    // One server or a Sentinel-managed primary; not a cluster (tracking is per node), not when
    // CACHE_LOCAL_TTL_MS=0 asks for every answer to be checked.
    invalidations: config.redis !== undefined && config.redis.mode !== 'cluster' && config.cache.localTtlMs > 0
      ? { prefix: `${config.redis.keyPrefix}${RedisStore.PREFIX}` }
      : undefined
  })
  app.decorate('cache', cache)
  app.addHook('onClose', (_app, done) => {
    cache.close()
    done()
  })
  const r = app.metricsRegistry
  const statuses = Object.keys(STATUS_RANK) as CacheStatus[]
  countsOf(r, 'bff_cache_requests_total', 'Cache reads, by how they were answered', ['result'], () => statuses.map(s => [{ result: s }, cache.stats[s]]))
  countsOf(r, 'bff_cache_fetches_total', 'Fills of the cache (each one upstream call or page walk)', [], () => cache.stats.fetches)
  countsOf(r, 'bff_cache_refreshes_total', 'Background refreshes started (stale-while-revalidate)', [], () => cache.stats.refreshes)
  gaugeOf(r, 'bff_cache_local_bytes', 'Bytes held by the in-process cache tier (bounded by CACHE_LOCAL_MAX_MB)', () => cache.local.bytes)
  gaugeOf(r, 'bff_cache_local_entries', 'Entries held by the in-process cache tier', () => cache.local.entries)
  gaugeOf(r, 'bff_cache_invalidations_trusted', '1 while Redis invalidations flow and in-process copies are trusted until one arrives', () => (cache.tracking?.trusted === true ? 1 : 0))
  countsOf(r, 'bff_cache_invalidated_copies_total', 'In-process copies dropped because Redis said another instance changed them', [], () => cache.tracking?.dropped ?? 0)
}

export default fp(cachePlugin, { name: 'cache', dependencies: ['redis', 'metrics'] })
