/**
 * What every read service shares: a read of one cached answer, the request context a read gets,
 * the cache policies, and the check of what a fill stores.
 */
import { FormatRegistry, type TSchema } from '@sinclair/typebox'
import { TypeCompiler } from '@sinclair/typebox/compiler'
import type { CachePolicy, CacheResult, FetchContext, ReadThrough } from '../cache/cache.js'
import type { Entry } from '../cache/entry.js'
import type { Config } from '../config.js'
import { HttpProblem, type ProblemCode } from '../errors.js'
import { SHARED_SCHEMAS } from '../schemas/metrics.js'
import type { Problem } from '../schemas/problem.js'
import type { CallContext } from '../upstream/context.js'
import { traced } from '../tracing.js'

/**
 * What a read needs from the request it serves, built once per request object: its id, deadline,
 * language and priority, whether it asked to revalidate, and the capability to charge its
 * caller's budget. Nothing looks a request up by id: the context is the request, for the reads.
 */
export interface ReadContext extends CallContext {
  /** The caller said `Cache-Control: no-cache`: every entry this read touches revalidates. */
  noCache: boolean
  /**
   * Charges the caller's budget for one upstream call made for it (a Douyin page); throws a 429
   * problem with Retry-After when the budget is spent. Background work charges nobody.
   */
  charge: () => Promise<void>
}

/** The charge of work no caller waits for (background refreshes). */
export const NO_CHARGE = async (): Promise<void> => {}

/**
 * The context of a fill the cache asked for: its deadline, and a background fill (a stale
 * entry's refresh) yields upstream and charges nobody.
 */
export function fillContext (ctx: ReadContext, f: FetchContext): ReadContext {
  if (!f.background) return { ...ctx, deadline: f.deadline, noCache: f.revalidate }
  return { ...ctx, deadline: f.deadline, noCache: false, priority: 'background', charge: NO_CHARGE }
}

export type PolicyName = keyof Config['cache']['ttlSeconds']

/**
 * The cache policy of each route, from the config: fresh for its TTL, then served stale (for as long
 * again, or CACHE_SWR_S) while one background refresh runs, and standing in for a failing upstream
 * for CACHE_STALE_IF_ERROR_S.
 */
export function cachePolicies (config: Config): Record<PolicyName, CachePolicy> {
  const { ttlSeconds, staleWhileRevalidateSeconds, staleIfErrorSeconds, negativeSeconds } = config.cache
  const policy = (name: PolicyName): CachePolicy => ({
    name,
    freshMs: ttlSeconds[name] * 1000,
    staleMs: (staleWhileRevalidateSeconds ?? ttlSeconds[name]) * 1000,
    errorMs: staleIfErrorSeconds * 1000,
    negativeMs: negativeSeconds * 1000
  })
  return {
    platforms: policy('platforms'),
    works: policy('works'),
    analytics: policy('analytics'),
    douyinSettled: policy('douyinSettled'),
    douyinRecent: policy('douyinRecent')
  }
}

/** What a read service logs through (pino's shape; no framework needed). */
export interface Log {
  warn: (obj: object, msg: string) => void
}

/**
 * One cached answer a route can send: its key (the front door learns URLs by it), a synchronous
 * fresh hit for the hot path, and the read-through for everything else.
 */
export interface Read {
  readonly key: string
  /** Until then this URL keeps this key (a key with today's date in it changes at midnight). */
  readonly keyFixedUntil: number
  fresh: () => CacheResult | undefined
  get: (ctx: ReadContext) => Promise<CacheResult>
}

/** A Read over the cache: `fill` makes the bytes of the answer on a miss, checked before stored. */
export class CachedRead implements Read {
  constructor (
    private readonly cache: ReadThrough,
    readonly key: string,
    private readonly policy: CachePolicy,
    private readonly fill: (ctx: ReadContext) => Promise<Buffer>,
    readonly keyFixedUntil = Infinity
  ) {}

  fresh (): CacheResult | undefined {
    return this.cache.freshHit(this.key)
  }

  get (ctx: ReadContext): Promise<CacheResult> {
    return traced('cache.read', { 'cache.policy': this.policy.name }, async span => {
      const result = await this.cache.cached(this.key, this.policy, f => this.fill(fillContext(ctx, f)), { deadline: ctx.deadline, noCache: ctx.noCache })
      span?.setAttribute('cache.status', result.status)
      return result
    })
  }
}

// JSON Schema formats our bodies use; TypeBox checks only formats it was told about.
const DATE = /^\d{4}-\d{2}-\d{2}$/
const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/i
if (!FormatRegistry.Has('date')) FormatRegistry.Set('date', v => DATE.test(v) && !Number.isNaN(Date.parse(v)))
if (!FormatRegistry.Has('date-time')) FormatRegistry.Set('date-time', v => DATE_TIME.test(v) && !Number.isNaN(Date.parse(v)))

/**
 * The check of what a fill is about to store, compiled once from the body's schema (shared
 * schemas resolved by $id): a body that breaks it is a 502 UPSTREAM_BAD_RESPONSE with a log line,
 * never a cached 200. Returns the bytes to store.
 */
export function bodyCheck<T> (schema: TSchema, what: string, log: Log): (body: T, requestId: string) => Buffer {
  const check = TypeCompiler.Compile(schema, SHARED_SCHEMAS)
  return (body, requestId) => {
    if (!check.Check(body)) {
      const first = check.Errors(body).First()
      log.warn({ reqId: requestId, shape: what, path: first?.path, error: first?.message }, 'an upstream answer maps to a body that breaks its schema; not stored')
      throw new HttpProblem('UPSTREAM_BAD_RESPONSE', {
        detail: `The upstream answer does not fit the ${what} shape (${first?.path || '/'}: ${first?.message ?? 'invalid'})`
      })
    }
    return Buffer.from(JSON.stringify(body))
  }
}

/** A cached "not found" back into its problem, for reads that use an entry's data themselves. */
export function problemOf (entry: Entry): HttpProblem {
  const p = JSON.parse(entry.body.toString('utf8')) as Problem
  return new HttpProblem(p.code as ProblemCode, { detail: p.detail, status: p.status, ...(p.upstream ? { upstream: p.upstream } : {}) })
}
