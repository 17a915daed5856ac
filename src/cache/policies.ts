import type { Config } from '../config.js'
import type { CachePolicy } from './cache.js'

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

/** Douyin data settles: billing dates at least 3 days old (Beijing) change no more. */
export const SETTLED_AFTER_DAYS = 3

/** The policy of Douyin data for these billing dates: settled only when every date is. */
export function douyinPolicy (policies: Record<PolicyName, CachePolicy>, billingDates: string[], todayBeijing: string): CachePolicy {
  const settledUntil = new Date(Date.parse(`${todayBeijing}T00:00:00Z`) - SETTLED_AFTER_DAYS * 86_400_000).toISOString().slice(0, 10)
  return billingDates.every(d => d <= settledUntil) ? policies.douyinSettled : policies.douyinRecent
}
