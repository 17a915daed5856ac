/**
 * The AiToEarn reads: the platform list, a works page and one work's analytics, each with its
 * cache key and policy, read through the cache, and checked against its body's schema before it
 * is stored. Routes and the merged view ask here; nothing else builds these keys.
 */
import { cacheKey, type CachePolicy, type CacheResult, type ReadThrough } from '../cache/cache.js'
import { byteLru } from '../cache/memory-store.js'
import { PlatformsBodySchema, WorkAnalyticsBodySchema, WorksPageBodySchema, type PlatformsBody, type WorkAnalyticsBody, type WorksPageBody } from '../schemas/aitoearn.js'
import type { Platform } from '../schemas/metrics.js'
import { HttpProblem } from '../errors.js'
import type { AitoearnClient } from '../upstream/aitoearn/client.js'
import { ANALYTICS_PLATFORMS, PLATFORM_FACTS } from '../upstream/aitoearn/platforms.js'
import type { AnalyticsParams, ListWorksParams } from '../upstream/aitoearn/requests.js'
import { CachedRead, bodyCheck, problemOf, type Log, type PolicyName, type Read, type ReadContext } from './read.js'

/** True when AiToEarn has work analytics for the platform (our table: its own flag is wrong for douyin and xhs). */
export function hasWorkAnalytics (platform: Platform): boolean {
  return PLATFORM_FACTS[platform].workAnalytics
}

export interface AitoearnReadsOptions {
  cache: ReadThrough
  client: AitoearnClient
  policies: Record<PolicyName, CachePolicy>
  log: Log
}

/** One work's analytics over the days of a view (Beijing dates, oldest first). */
export interface AnalyticsDays {
  platform: Platform
  workId: string
  accountId: string
  dates: string[]
}

export class AitoearnReads {
  private readonly platformsRead: Read
  private readonly checkPlatforms: (body: PlatformsBody, requestId: string) => Buffer
  private readonly checkPage: (body: WorksPageBody, requestId: string) => Buffer
  private readonly checkAnalytics: (body: WorkAnalyticsBody, requestId: string) => Buffer
  /** Parsed analytics bodies by validator, for the merged view: each parsed once per content. */
  private readonly parsed = byteLru<WorkAnalyticsBody>(16 * 1024 * 1024, v => 2048 + v.series.length * 768)

  constructor (private readonly opts: AitoearnReadsOptions) {
    this.checkPlatforms = bodyCheck(PlatformsBodySchema, 'platforms', opts.log)
    this.checkPage = bodyCheck(WorksPageBodySchema, 'works page', opts.log)
    this.checkAnalytics = bodyCheck(WorkAnalyticsBodySchema, 'work analytics', opts.log)
    const policy = opts.policies.platforms
    this.platformsRead = new CachedRead(opts.cache, cacheKey(policy, opts.client.fingerprint, {}), policy,
      async ctx => this.checkPlatforms(await opts.client.platforms(ctx), ctx.requestId))
  }

  /** Every platform, its capabilities and our sources for it. */
  platforms (): Read {
    return this.platformsRead
  }

  /** One page of an account's works. */
  worksPage (params: ListWorksParams): Read {
    const { platform, accountId, limit, cursor, direction, page, pageSize } = params
    return this.read(this.opts.policies.works, { platform, accountId, limit, cursor, direction, page, pageSize },
      async ctx => this.checkPage(await this.opts.client.listWorks(params, ctx), ctx.requestId))
  }

  /**
   * One work's analytics (AiToEarn saves a snapshot on every call it gets: the cache spares it).
   * A platform without them is refused here, before any call: AiToEarn would answer code 0 with
   * "Work analytics not supported".
   */
  analytics (params: AnalyticsParams): Read {
    const { platform, workId, accountId, since, until } = params
    if (!hasWorkAnalytics(platform)) {
      throw new HttpProblem('OPERATION_NOT_SUPPORTED', {
        detail: `AiToEarn has no work analytics for ${platform}: it reports them for ${ANALYTICS_PLATFORMS.join(', ')} only${platform === 'douyin' ? '; a douyin video\'s money comes from the Douyin taskbox (GET /v1/works/douyin/{workId}/metrics, tag douyin)' : ''}`,
        upstream: { name: 'aitoearn' }
      })
    }
    return this.read(this.opts.policies.analytics, { platform, workId, accountId, since, until },
      async ctx => this.checkAnalytics(await this.opts.client.analytics(params, ctx), ctx.requestId))
  }

  /** A read keyed by everything its upstream call sends. */
  private read (policy: CachePolicy, keyed: Record<string, string | number | undefined>, fill: (ctx: ReadContext) => Promise<Buffer>): Read {
    return new CachedRead(this.opts.cache, cacheKey(policy, this.opts.client.fingerprint, keyed), policy, fill)
  }

  /**
   * A work's analytics for the days of a view, through the same entry as the analytics route with
   * the same parameters (Pinterest, which reports per day, asked for exactly those days), parsed.
   */
  async analyticsOverDays (v: AnalyticsDays, ctx: ReadContext): Promise<{ result: CacheResult, data: WorkAnalyticsBody }> {
    const daily = PLATFORM_FACTS[v.platform].daily
    const result = await this.analytics({
      platform: v.platform,
      workId: v.workId,
      accountId: v.accountId,
      since: daily ? `${v.dates[0]}T00:00:00Z` : undefined,
      until: daily ? `${v.dates.at(-1)}T00:00:00Z` : undefined
    }).get(ctx)
    const { entry } = result
    if (entry.status !== 200) throw problemOf(entry)
    let data = this.parsed.get(entry.etag)
    if (data === undefined) {
      data = JSON.parse(entry.body.toString('utf8')) as WorkAnalyticsBody
      this.parsed.set(entry.etag, data)
    }
    return { result, data }
  }
}
