/**
 * What each platform really reports through AiToEarn, read from the AiToEarn server's source
 * (github yikart/AiToEarn, `apps/aitoearn-server/src/core/channels/platforms/<p>/`): our own
 * table, applied when mapping, because the server's answers alone do not say it (a provider
 * zero-fills what the platform never sends; the platform list claims work analytics for douyin
 * and xhs that the endpoint cannot serve). The sandbox keeps its own model of the same source
 * (src/sandbox/aitoearn/providers.ts); the contract tests hold the two together.
 */
import type { MetricName, Platform } from '../../schemas/metrics.js'

export interface PlatformFacts {
  /** A work analytics provider exists (`<p>-analytics.provider.ts`); without one AiToEarn answers "Work analytics not supported". */
  workAnalytics: boolean
  /** The metrics its analytics provider fills; any other stays null. */
  analyticsMetrics: MetricName[]
  /** The metrics its list items carry (`<p>-work.provider.ts`); any other stays null. */
  listMetrics: MetricName[]
  /** The analytics provider writes `Number(x ?? 0)`: a 0 may be "not reported", and an unknown id may come back as all zeros. */
  zeroFill: boolean
  /** `snapshotAt` is the work's publish time (`publishedAt ?? fetchedAt`), not when it was read. */
  snapshotAtPublish: boolean
  /** One snapshot per day of since..until (the only provider that reads them). */
  daily: boolean
  /**
   * A work id the platform does not know comes back as code 0 with zeros (tiktok: its query finds
   * no video and the provider zero-fills; twitter likely the same when X answers errors with 200).
   */
  unknownAnswersZeros: boolean
}

const NONE: PlatformFacts = { workAnalytics: false, analyticsMetrics: [], listMetrics: [], zeroFill: false, snapshotAtPublish: false, daily: false, unknownAnswersZeros: false }

export const PLATFORM_FACTS: Readonly<Record<Platform, PlatformFacts>> = {
  bilibili: { ...NONE, workAnalytics: true, analyticsMetrics: ['viewCount', 'likeCount', 'collectCount', 'shareCount', 'commentCount'], zeroFill: true, snapshotAtPublish: true },
  facebook: { ...NONE, workAnalytics: true, analyticsMetrics: ['impressionCount', 'engagementCount', 'clickCount'], zeroFill: true },
  instagram: { ...NONE, workAnalytics: true, analyticsMetrics: ['reachCount', 'likeCount', 'commentCount', 'shareCount', 'saveCount', 'engagementCount'], listMetrics: ['likeCount', 'commentCount'], zeroFill: true },
  KWAI: { ...NONE, workAnalytics: true, analyticsMetrics: ['viewCount', 'likeCount', 'commentCount'], listMetrics: ['viewCount', 'likeCount', 'commentCount'], snapshotAtPublish: true },
  pinterest: { ...NONE, workAnalytics: true, analyticsMetrics: ['impressionCount', 'saveCount', 'clickCount', 'playCount'], zeroFill: true, daily: true },
  threads: { ...NONE, workAnalytics: true, analyticsMetrics: ['viewCount', 'likeCount', 'commentCount', 'shareCount', 'engagementCount'], zeroFill: true },
  tiktok: { ...NONE, workAnalytics: true, analyticsMetrics: ['viewCount', 'likeCount', 'commentCount', 'shareCount'], listMetrics: ['viewCount', 'likeCount', 'commentCount', 'shareCount'], zeroFill: true, snapshotAtPublish: true, unknownAnswersZeros: true },
  twitter: { ...NONE, workAnalytics: true, analyticsMetrics: ['likeCount', 'commentCount', 'shareCount', 'saveCount', 'impressionCount'], listMetrics: ['likeCount', 'commentCount', 'shareCount', 'saveCount', 'impressionCount'], zeroFill: true, snapshotAtPublish: true, unknownAnswersZeros: true },
  youtube: { ...NONE, workAnalytics: true, analyticsMetrics: ['viewCount', 'likeCount', 'commentCount'], zeroFill: true, snapshotAtPublish: true },
  douyin: NONE,
  xhs: NONE,
  wxSph: NONE,
  wxGzh: NONE,
  linkedin: NONE,
  google_business: NONE
}

/** The platforms with work analytics, for the docs. */
export const ANALYTICS_PLATFORMS = (Object.keys(PLATFORM_FACTS) as Platform[]).filter(p => PLATFORM_FACTS[p].workAnalytics)

const list = (metrics: MetricName[]): string => (metrics.length ? metrics.map(m => `\`${m}\``).join(', ') : 'none')

/** What each platform really reports, as a Markdown table: for `/docs` and the README (a test keeps them equal). */
export function platformFactsTable (): string {
  const rows = (Object.keys(PLATFORM_FACTS) as Platform[]).map(p => {
    const f = PLATFORM_FACTS[p]
    if (!f.workAnalytics) return `| ${p} | no | - | ${list(f.listMetrics)} | - |`
    const notes = [
      f.daily ? 'one snapshot per day of since..until (default 30 days), dated by its day' : 'one snapshot per call, dated when we read it',
      f.snapshotAtPublish ? 'AiToEarn stamps it with the publish time; we use the read time' : '',
      f.zeroFill ? 'AiToEarn writes 0 where the platform sent nothing' : '',
      f.unknownAnswersZeros ? 'an unknown id answers all zeros: `metricsReliable: false`, metrics null' : ''
    ].filter(Boolean).join('; ')
    return `| ${p} | yes | ${list(f.analyticsMetrics)} | ${list(f.listMetrics)} | ${notes} |`
  })
  return ['| platform | work analytics | analytics metrics | list item metrics (where listed) | notes |', '|---|---|---|---|---|', ...rows].join('\n')
}
