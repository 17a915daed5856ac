import fp from 'fastify-plugin'
import type { FastifyInstance, FastifyReply, FastifyRequest, onRequestHookHandler } from 'fastify'
import type { Config } from '../config.js'
import { Budget, type Verdict } from '../budgets/budget.js'
import { HttpProblem } from '../errors.js'
import { byLabel, countsOf } from '../metrics/registry.js'
import { sendProblem } from './problems.js'
import { withHook } from './route-hooks.js'

declare module 'fastify' {
  interface FastifyInstance {
    /**
     * Charges a request's caller for one uncached Douyin query (throws 429 when spent), or null
     * when that budget is off. Each request's read context carries it as its `charge()`.
     */
    douyinUncachedBudget: ((req: FastifyRequest) => Promise<void>) | null
    /** The per-caller budget of /v1 requests, or null when RATE_LIMIT_MAX=0 (the front door takes from it too). */
    callerBudget: CallerBudget | null
  }
}

/** Only the API is limited; health, docs, metrics and the dashboard's files are not. */
const LIMITED_PREFIX = '/v1/'

/** The caller a budget belongs to: its key name when authenticated, else its IP. */
export function callerKey (req: FastifyRequest): string {
  return req.caller !== undefined ? `key:${req.caller}` : `ip:${req.ip}`
}

/** The headers of a verdict (draft RateLimit fields; Retry-After when refused). */
export function budgetHeaders (v: Verdict): Array<[string, string]> {
  const out: Array<[string, string]> = [['ratelimit-limit', String(v.limit)], ['ratelimit-remaining', String(v.remaining)], ['ratelimit-reset', String(v.resetS)]]
  if (!v.ok) out.push(['retry-after', String(v.resetS)])
  return out
}

export interface CallerBudget {
  budget: Budget
  /** The 429 problem of a refused verdict. */
  refusal: (v: Verdict) => HttpProblem
  /** Counts a refusal (the front door refuses too). */
  refused: () => void
}

/**
 * Caller budgets (src/budgets/budget.ts: counted in process, shared through Redis in batches, a
 * Redis that is away or frozen never on the request path):
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
  const perWindow = `${Math.round(windowMs / 1000)} s`
  const budgets: Budget[] = []
  app.addHook('onClose', (_app, done) => {
    for (const b of budgets) b.close()
    done()
  })

  if (max > 0) {
    const budget = new Budget({ name: 'caller', max, windowMs, redis: app.redis })
    budgets.push(budget)
    const caller: CallerBudget = {
      budget,
      refusal: v => new HttpProblem('RATE_LIMITED', {
        detail: `Rate limit reached: at most ${max} requests per ${perWindow} per caller; try again in ${v.resetS} s`,
        retryAfter: v.resetS
      }),
      refused: () => { stats.caller++ }
    }
    app.decorate('callerBudget', caller)
    const send = (reply: FastifyReply, v: Verdict): boolean => {
      for (const [name, value] of budgetHeaders(v)) reply.header(name, value)
      if (v.ok) return true
      caller.refused()
      sendProblem(reply, caller.refusal(v))
      return false
    }
    const limit: onRequestHookHandler = (req, reply, done) => {
      const key = callerKey(req)
      const now = budget.take(key)
      if (now !== undefined) {
        if (send(reply, now)) done()
        return
      }
      budget.takeAsync(key).then(v => { if (send(reply, v)) done() }, done)
    }
    app.addHook('onRoute', route => {
      if (!route.url.startsWith(LIMITED_PREFIX)) return
      route.onRequest = withHook(route.onRequest, limit)
    })
  } else {
    app.decorate('callerBudget', null)
  }

  if (douyinUncachedMax <= 0) {
    app.decorate('douyinUncachedBudget', null)
    return
  }
  const douyin = new Budget({ name: 'douyin-uncached', max: douyinUncachedMax, windowMs, redis: app.redis })
  budgets.push(douyin)
  app.decorate('douyinUncachedBudget', async (req: FastifyRequest) => {
    const v = await douyin.takeAsync(callerKey(req))
    if (!v.ok) {
      stats.douyinUncached++
      throw new HttpProblem('RATE_LIMITED', {
        detail: `Rate limit reached for uncached Douyin data: at most ${douyinUncachedMax} queries per ${perWindow} per caller reach Douyin; cached answers are still served`,
        retryAfter: v.resetS
      })
    }
  })
}

export default fp(rateLimitPlugin, { name: 'rate-limit', dependencies: ['redis', 'auth', 'metrics', 'problems'] })
