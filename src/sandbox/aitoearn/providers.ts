/**
 * What the real AiToEarn server does per platform, read from its source (github yikart/AiToEarn,
 * `project/aitoearn-backend/apps/aitoearn-server/src/core/channels/` = B). Each platform's rules
 * name the file they come from. The sandbox answers by these rules only; the BFF keeps its own
 * table (src/upstream/aitoearn/platforms.ts) and the contract tests hold the two together.
 */
import type { Platform } from '../../schemas/metrics.js'

/** A work field a provider fills (the others are absent). */
export type WorkField = 'title' | 'description' | 'url' | 'coverUrl' | 'publishedAt' | 'status' | 'authorName' | 'authorPlatformUid'

export interface ListModel {
  defaultLimit: number
  maxLimit: number
  supportsPrevious: boolean
  /** The item metrics the provider fills; undefined: items carry no `metrics` at all. */
  metrics?: string[]
  /** `Number(x ?? 0)`: every metric present (0 may mean "not reported"); else only those the platform sent. */
  zeroFill: boolean
  /** KWAI decides "has next" by `items.length >= limit`: a full last page is followed by an empty one. */
  hasNextByCount?: boolean
  fields: WorkField[]
}

/** What an unknown work id answers: code 0 with zeros, or a platform error with its `data`. */
export type Unknown = { zeros: true } | { code: number, category: string, retryable: boolean, httpStatus?: number }

export interface AnalyticsModel {
  metrics: string[]
  zeroFill: boolean
  /** `publish`: snapshotAt is the work's publish time (`publishedAt ?? fetchedAt`); `fetch`: the fetch time; `day`: one per day, at its UTC midnight. */
  snapshotAt: 'publish' | 'fetch' | 'day'
  mediaType?: string
  /** The work fields of the answer (besides `id`). */
  work: WorkField[]
  extra?: (id: string, seed: (name: string, max: number) => number) => Record<string, unknown>
  unknown: Unknown
}

export interface PlatformModel {
  /** `hidden`: not registered (absent from the list, 15032); `coming_soon`: registered with no providers. */
  status: 'available' | 'coming_soon' | 'hidden'
  displayName: { 'en-US': string, 'zh-CN': string }
  authType: 'oauth2' | 'plugin' | 'qrcode'
  /** `capabilities.analytics` as the registry computes it (B/platforms/platforms.registry.ts createAnalyticsCapabilities). */
  caps: { account: boolean, work: boolean }
  list?: ListModel
  analytics?: AnalyticsModel
  /** Every content mode the platform's works come in. */
  videoOnly: boolean
}

const META_LIST = { defaultLimit: 25, maxLimit: 100, supportsPrevious: true }
/** Graph errors (B/utils/meta-graph-error.util.ts): an unknown post id is #100, category validation. */
const META_UNKNOWN: Unknown = { code: 15070, category: 'validation', retryable: false, httpStatus: 400 }

export const MODEL: Record<Platform, PlatformModel> = {
  // B/platforms/youtube/youtube-work.provider.ts (search.list: no url, no metrics);
  // B/platforms/youtube/youtube-analytics.provider.ts; unknown id: 15079 (youtube.service.ts getVideoDetails).
  youtube: {
    status: 'available',
    displayName: { 'en-US': 'YouTube', 'zh-CN': 'YouTube' },
    authType: 'oauth2',
    caps: { account: true, work: true },
    videoOnly: true,
    list: { defaultLimit: 25, maxLimit: 50, supportsPrevious: false, zeroFill: false, fields: ['title', 'description', 'coverUrl', 'publishedAt', 'authorName', 'authorPlatformUid'] },
    analytics: { metrics: ['viewCount', 'likeCount', 'commentCount'], zeroFill: true, snapshotAt: 'publish', work: ['title', 'description', 'publishedAt'], unknown: { code: 15079, category: 'validation', retryable: false } }
  },
  // B/platforms/bilibili/bilibili-analytics.provider.ts (getArchiveStat); no listWorks (15080).
  bilibili: {
    status: 'available',
    displayName: { 'en-US': 'Bilibili', 'zh-CN': '哔哩哔哩' },
    authType: 'oauth2',
    caps: { account: true, work: true },
    videoOnly: true,
    analytics: {
      metrics: ['viewCount', 'likeCount', 'collectCount', 'shareCount', 'commentCount'],
      zeroFill: true,
      snapshotAt: 'publish',
      work: ['title', 'publishedAt'],
      extra: (_id, seed) => ({ coinCount: seed('coin', 3000), danmakuCount: seed('danmaku', 800) }),
      unknown: { code: 15079, category: 'not_found', retryable: false }
    }
  },
  // No work provider with listWorks, no analytics provider; the registry still says analytics.work:
  // true (a 'post_insight_crawler' data source nothing uses), account false.
  douyin: { status: 'available', displayName: { 'en-US': 'Douyin', 'zh-CN': '抖音' }, authType: 'qrcode', caps: { account: false, work: true }, videoOnly: true },
  // B/platforms/kwai/kwai-work.provider.ts, kwai-analytics.provider.ts: raw metrics (not zero-filled);
  // every /photo/ error is 15074 (kwai.exception.ts), retryable for video_not_exist only.
  KWAI: {
    status: 'available',
    displayName: { 'en-US': 'Kwai', 'zh-CN': '快手' },
    authType: 'oauth2',
    caps: { account: true, work: true },
    videoOnly: true,
    list: { defaultLimit: 20, maxLimit: 200, supportsPrevious: false, metrics: ['viewCount', 'likeCount', 'commentCount'], zeroFill: false, hasNextByCount: true, fields: ['title', 'description', 'url', 'coverUrl', 'publishedAt', 'status'] },
    analytics: {
      metrics: ['viewCount', 'likeCount', 'commentCount'],
      zeroFill: false,
      snapshotAt: 'publish',
      mediaType: 'video',
      work: ['title', 'description', 'url', 'coverUrl', 'publishedAt', 'status'],
      extra: (_id, seed) => ({ pending: seed('pending', 1) === 1 }),
      unknown: { code: 15074, category: 'media_processing_failed', retryable: true }
    }
  },
  // B/platforms/pinterest/pinterest-work.provider.ts (no metrics); pinterest-analytics.provider.ts:
  // the only provider that reads since/until (default the 30 days to now), one snapshot per day
  // at its UTC midnight, no periodStartAt, extra.dataStatus; errors 15070 (pinterest.exception.ts).
  pinterest: {
    status: 'available',
    displayName: { 'en-US': 'Pinterest', 'zh-CN': 'Pinterest' },
    authType: 'oauth2',
    caps: { account: true, work: true },
    videoOnly: false,
    list: { defaultLimit: 25, maxLimit: 100, supportsPrevious: false, zeroFill: false, fields: ['title', 'description', 'url', 'coverUrl', 'publishedAt'] },
    analytics: { metrics: ['impressionCount', 'saveCount', 'clickCount', 'playCount'], zeroFill: true, snapshotAt: 'day', work: [], unknown: { code: 15070, category: 'not_found', retryable: false, httpStatus: 404 } }
  },
  // Hidden in the shipped config (S/config/config.yaml): not registered, absent from the list, 15032.
  google_business: { status: 'hidden', displayName: { 'en-US': 'Google Business', 'zh-CN': 'Google 商家' }, authType: 'oauth2', caps: { account: false, work: false }, videoOnly: false },
  // B/platforms/twitter/twitter-work.provider.ts, twitter-analytics.provider.ts (zero-filled public
  // metrics, mediaType 'tweet'); SDK errors are 15070 (twitter.exception.ts).
  twitter: {
    status: 'available',
    displayName: { 'en-US': 'Twitter (X)', 'zh-CN': 'Twitter（X）' },
    authType: 'oauth2',
    caps: { account: true, work: true },
    videoOnly: false,
    list: { defaultLimit: 10, maxLimit: 100, supportsPrevious: false, metrics: ['likeCount', 'commentCount', 'shareCount', 'saveCount', 'impressionCount'], zeroFill: true, fields: ['description', 'url', 'publishedAt', 'authorPlatformUid'] },
    analytics: {
      metrics: ['likeCount', 'commentCount', 'shareCount', 'saveCount', 'impressionCount'],
      zeroFill: true,
      snapshotAt: 'publish',
      mediaType: 'tweet',
      work: ['description', 'publishedAt'],
      extra: (_id, seed) => ({ quoteCount: seed('quote', 120) }),
      unknown: { code: 15070, category: 'not_found', retryable: false, httpStatus: 404 }
    }
  },
  // B/platforms/tiktok/tiktok-work.provider.ts (raw metrics), tiktok-analytics.provider.ts
  // (zero-filled; an unknown id finds no video and answers code 0 with zeros).
  tiktok: {
    status: 'available',
    displayName: { 'en-US': 'TikTok', 'zh-CN': 'TikTok' },
    authType: 'oauth2',
    caps: { account: true, work: true },
    videoOnly: true,
    list: { defaultLimit: 20, maxLimit: 20, supportsPrevious: false, metrics: ['viewCount', 'likeCount', 'commentCount', 'shareCount'], zeroFill: false, fields: ['title', 'description', 'url', 'coverUrl', 'publishedAt'] },
    analytics: { metrics: ['viewCount', 'likeCount', 'commentCount', 'shareCount'], zeroFill: true, snapshotAt: 'publish', mediaType: 'video', work: ['title', 'description', 'url', 'coverUrl', 'publishedAt'], unknown: { zeros: true } }
  },
  // B/platforms/facebook/facebook-work.provider.ts (no title, metrics or author),
  // facebook-analytics.provider.ts (post insights: impression, engaged users, clicks; reactions in extra).
  facebook: {
    status: 'available',
    displayName: { 'en-US': 'Facebook', 'zh-CN': 'Facebook' },
    authType: 'oauth2',
    caps: { account: true, work: true },
    videoOnly: false,
    list: { ...META_LIST, zeroFill: false, fields: ['description', 'url', 'coverUrl', 'publishedAt'] },
    analytics: {
      metrics: ['impressionCount', 'engagementCount', 'clickCount'],
      zeroFill: true,
      snapshotAt: 'fetch',
      work: [],
      extra: (_id, seed) => ({ post_reactions_by_type_total: { like: seed('like', 900), love: seed('love', 300) } }),
      unknown: META_UNKNOWN
    }
  },
  // B/platforms/instagram/instagram-work.provider.ts (like/comment only, raw),
  // instagram-analytics.provider.ts (reach, likes, comments, shares, saved, total_interactions).
  instagram: {
    status: 'available',
    displayName: { 'en-US': 'Instagram', 'zh-CN': 'Instagram' },
    authType: 'oauth2',
    caps: { account: true, work: true },
    videoOnly: false,
    list: { ...META_LIST, metrics: ['likeCount', 'commentCount'], zeroFill: false, fields: ['description', 'url', 'coverUrl', 'publishedAt'] },
    analytics: { metrics: ['reachCount', 'likeCount', 'commentCount', 'shareCount', 'saveCount', 'engagementCount'], zeroFill: true, snapshotAt: 'fetch', work: [], unknown: META_UNKNOWN }
  },
  // B/platforms/threads/threads-work.provider.ts (no metrics), threads-analytics.provider.ts
  // (views, likes, replies, reposts/shares, quotes as engagementCount).
  threads: {
    status: 'available',
    displayName: { 'en-US': 'Threads', 'zh-CN': 'Threads' },
    authType: 'oauth2',
    caps: { account: true, work: true },
    videoOnly: false,
    list: { ...META_LIST, zeroFill: false, fields: ['description', 'url', 'coverUrl', 'publishedAt', 'authorName', 'authorPlatformUid'] },
    analytics: { metrics: ['viewCount', 'likeCount', 'commentCount', 'shareCount', 'engagementCount'], zeroFill: true, snapshotAt: 'fetch', work: [], unknown: META_UNKNOWN }
  },
  linkedin: { status: 'available', displayName: { 'en-US': 'LinkedIn', 'zh-CN': 'LinkedIn' }, authType: 'oauth2', caps: { account: false, work: false }, videoOnly: false },
  // coming_soon in the shipped config: registered with no providers, every capability false.
  wxGzh: { status: 'coming_soon', displayName: { 'en-US': 'WeChat Official', 'zh-CN': '微信公众号' }, authType: 'oauth2', caps: { account: false, work: false }, videoOnly: false },
  wxSph: { status: 'available', displayName: { 'en-US': 'WeChat Channels', 'zh-CN': '微信视频号' }, authType: 'plugin', caps: { account: false, work: false }, videoOnly: true },
  // Like douyin: analytics.work true from an unused crawler data source, no provider.
  xhs: { status: 'available', displayName: { 'en-US': 'RedNote', 'zh-CN': '小红书' }, authType: 'plugin', caps: { account: false, work: true }, videoOnly: false }
}
