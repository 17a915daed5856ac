import type { DouyinClient, CallContext, UnitResult } from '../upstream/douyin/client.js'
import type { DailyPlan, UpstreamQuery } from '../upstream/douyin/params.js'
import { Cache, type CachePolicy, type CacheResult } from './cache.js'
import type { Entry } from './entry.js'
import { douyinPolicy, type PolicyName } from './policies.js'

/** What a Douyin query through the cache needs of the app. */
export interface DouyinQueryDeps {
  cache: Cache
  cachePolicies: Record<PolicyName, CachePolicy>
  douyin: DouyinClient
}

/**
 * The cache key of one Douyin upstream query (billing date x publish window x filters x page):
 * everything the query sends. The daily-data route and the merged view both use it, so they share
 * entries: a billing date fetched by one is a hit for the other.
 */
export function douyinQueryKey (deps: DouyinQueryDeps, q: UpstreamQuery, plan: Pick<DailyPlan, 'all' | 'page' | 'pageSize'>, today: string): { key: string, policy: CachePolicy } {
  const policy = douyinPolicy(deps.cachePolicies, [q.billing_date], today)
  const key = Cache.key(policy, deps.douyin.credentialFingerprint, {
    scope: 'query',
    ...q,
    page: plan.all ? 'all' : plan.page,
    pageSize: plan.pageSize
  })
  return { key, policy }
}

/** One upstream query through the cache; `load` is the call itself (the client's `unit`). */
export async function cachedDouyinQuery (
  deps: DouyinQueryDeps,
  q: UpstreamQuery,
  plan: Pick<DailyPlan, 'all' | 'page' | 'pageSize'>,
  load: (ctx: CallContext) => Promise<UnitResult>,
  ctx: CallContext,
  today: string,
  revalidate: boolean
): Promise<CacheResult> {
  const { key, policy } = douyinQueryKey(deps, q, plan, today)
  return deps.cache.cached(key, policy, f => load({ ...ctx, deadline: f.deadline, ...(f.background ? { priority: 'background' } : {}) }), {
    deadline: ctx.deadline,
    noCache: revalidate
  })
}

/** The query result a cached entry holds. */
export function readUnit (entry: Entry): UnitResult {
  return JSON.parse(entry.body.toString('utf8')) as UnitResult
}
