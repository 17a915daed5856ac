import fp from 'fastify-plugin'
import rateLimit from '@fastify/rate-limit'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { Config } from '../config.js'
import { HttpProblem } from '../errors.js'
import { byLabel, countsOf } from '../metrics/registry.js'

declare module 'fastify' {
  interface FastifyInstance {
    /**
     * Charges a request's caller for one uncached Douyin query (throws 429 when spent), or null
     * when that budget is off. Each request's read context carries it as its `charge()`.
     */
    douyinUncachedBudget: ((req: FastifyRequest) => Promise<void>) | null
  }
}

/** Only the API is limited; health, docs, metrics and the dashboard's files are not. */
const LIMITED_PREFIX = '/v1/'

/** The caller a budget belongs to: its key name when authenticated, else its IP. */
export function callerKey (req: FastifyRequest): string {
  return req.caller !== undefined ? `key:${req.caller}` : `ip:${req.ip}`
}

/**
 * Caller rate limits with @fastify/rate-limit (in Redis when configured, so every instance counts
 * together; a Redis failure lets the request through rather than failing it):
 * - every /v1 request counts against RATE_LIMIT_MAX per window, with RateLimit-* headers and a
 *   429 RATE_LIMITED problem (Retry-After) when spent;
 * - a stricter budget, RATE_LIMIT_DOUYIN_UNCACHED_MAX per window, counts only Douyin pages that
 *   missed the cache: the Douyin read charges it (the request's `charge()`) before each upstream
 *   page it fetches for the request, so a cache hit costs nothing here, and a caller who keeps
 *   asking for uncached data cannot spend everyone's 10 Douyin requests a second. Background
 *   refreshes are not charged.
 * Must be registered before the routes it limits (it attaches per-route hooks as they are added).
 */
async function rateLimitPlugin (app: FastifyInstance, { config }: { config: Config }) {
  const { max, windowMs, douyinUncachedMax } = config.rateLimit
  const stats = { caller: 0, douyinUncached: 0 }
  countsOf(app.metricsRegistry, 'bff_rate_limited_total', 'Requests refused 429, by budget', ['budget'], () => byLabel('budget', stats))

  // Before the plugin's own onRoute hook: routes outside /v1 opt out, so they get no hook at all.
  app.addHook('onRoute', route => {
    if (!route.url.startsWith(LIMITED_PREFIX)) route.config = { ...route.config, rateLimit: false }
  })
  await app.register(rateLimit, {
    global: max > 0,
    max: Math.max(1, max),
    timeWindow: windowMs,
    keyGenerator: callerKey,
    ...(app.redis ? { redis: app.redis } : {}),
    nameSpace: 'ratelimit:',
    skipOnError: true,
    enableDraftSpec: true,
    onExceeded: () => { stats.caller++ },
    errorResponseBuilder: (_req, context) => {
      const ctx = context as typeof context & { max: number, ttl: number, after: string }
      return new HttpProblem('RATE_LIMITED', {
        detail: `Rate limit reached: at most ${ctx.max} requests per ${Math.round(windowMs / 1000)} s per caller; try again in ${ctx.after}`,
        retryAfter: Math.ceil(ctx.ttl / 1000)
      })
    }
  })

  if (douyinUncachedMax <= 0) {
    app.decorate('douyinUncachedBudget', null)
    return
  }
  const check = app.createRateLimit({
    max: douyinUncachedMax,
    timeWindow: windowMs,
    skipOnError: true,
    keyGenerator: req => `douyin-uncached:${callerKey(req)}`
  })
  app.decorate('douyinUncachedBudget', async (req: FastifyRequest) => {
    const result = await check(req)
    if (!result.isAllowed && result.isExceeded) {
      stats.douyinUncached++
      throw new HttpProblem('RATE_LIMITED', {
        detail: `Rate limit reached for uncached Douyin data: at most ${douyinUncachedMax} queries per ${Math.round(windowMs / 1000)} s per caller reach Douyin; cached answers are still served`,
        retryAfter: result.ttlInSeconds
      })
    }
  })
}

export default fp(rateLimitPlugin, { name: 'rate-limit', dependencies: ['redis', 'auth', 'metrics'] })
