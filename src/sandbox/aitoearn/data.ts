/**
 * The sandbox AiToEarn's seeded, deterministic accounts and works, and the per-platform rules a
 * real AiToEarn server applies (which platforms list works, their page limits, which metrics each
 * platform fills). Independent of the BFF's own tables on purpose: tests compare the two.
 */
import { DOUYIN_ACCOUNT_ID, DOUYIN_VIDEOS, publishTime, rng, seededInt } from '../seed.js'
import type { Platform } from '../../schemas/metrics.js'

export type ContentMode = 'video' | 'article' | 'article2'

export interface SandboxWork {
  platformWorkId: string
  contentMode: ContentMode
  title: string
  description: string
  url: string
  coverUrl: string
  publishedAt: string
  authorName: string
  authorPlatformUid: string
  status: string
  /** Lifetime totals; only the fields this platform reports are present. */
  metrics: Record<string, number>
  extra: Record<string, unknown>
}

export interface SandboxAccount {
  id: string
  platform: Platform
  works: SandboxWork[]
}

export interface CursorRules { defaultLimit: number, maxLimit: number, supportsPrevious: boolean }

/** Platforms that list works (all in cursor mode) and their limits; the others answer 15080. */
export const LIST_RULES: Partial<Record<Platform, CursorRules>> = {
  facebook: { defaultLimit: 25, maxLimit: 100, supportsPrevious: true },
  instagram: { defaultLimit: 25, maxLimit: 100, supportsPrevious: true },
  threads: { defaultLimit: 25, maxLimit: 100, supportsPrevious: true },
  pinterest: { defaultLimit: 25, maxLimit: 100, supportsPrevious: false },
  KWAI: { defaultLimit: 20, maxLimit: 200, supportsPrevious: false },
  tiktok: { defaultLimit: 20, maxLimit: 20, supportsPrevious: false },
  twitter: { defaultLimit: 10, maxLimit: 100, supportsPrevious: false },
  youtube: { defaultLimit: 25, maxLimit: 50, supportsPrevious: false }
}

/** Which metrics each platform fills; every other metric is absent from its JSON. */
export const METRICS_BY_PLATFORM: Record<Platform, string[]> = {
  douyin: ['playCount', 'likeCount', 'commentCount', 'shareCount', 'collectCount'],
  xhs: ['viewCount', 'likeCount', 'collectCount', 'commentCount', 'shareCount'],
  wxSph: ['playCount', 'likeCount', 'commentCount', 'shareCount'],
  KWAI: ['playCount', 'likeCount', 'commentCount'],
  youtube: ['viewCount', 'likeCount', 'commentCount'],
  wxGzh: ['viewCount', 'likeCount', 'shareCount'],
  bilibili: ['playCount', 'likeCount', 'collectCount', 'commentCount', 'shareCount'],
  twitter: ['impressionCount', 'likeCount', 'commentCount', 'shareCount'],
  tiktok: ['viewCount', 'likeCount', 'commentCount', 'shareCount'],
  facebook: ['impressionCount', 'engagementCount', 'clickCount'],
  instagram: ['impressionCount', 'reachCount', 'likeCount', 'commentCount', 'saveCount', 'shareCount'],
  threads: ['viewCount', 'likeCount', 'commentCount', 'shareCount'],
  pinterest: ['impressionCount', 'saveCount', 'clickCount'],
  linkedin: ['impressionCount', 'clickCount', 'likeCount', 'commentCount', 'shareCount', 'engagementCount'],
  google_business: []
}

/** Platforms whose work analytics AiToEarn serves; the others answer "Work analytics not supported". */
export const WORK_ANALYTICS = new Set<Platform>([
  'douyin', 'xhs', 'KWAI', 'youtube', 'bilibili', 'twitter', 'tiktok', 'facebook', 'instagram', 'threads', 'pinterest', 'linkedin'
])

const MODES: ContentMode[] = ['video', 'article', 'article2']
const VIDEO_ONLY = new Set<Platform>(['tiktok', 'youtube', 'KWAI', 'bilibili', 'douyin', 'wxSph'])
const BASE_TIME = Date.UTC(2026, 0, 20, 12, 0, 0)

function digits (seed: string, n: number): string {
  const next = rng(seed)
  let out = String(1 + Math.floor(next() * 9))
  while (out.length < n) out += String(Math.floor(next() * 10))
  return out
}

function chars (seed: string, n: number, alphabet: string): string {
  const next = rng(seed)
  let out = ''
  while (out.length < n) out += alphabet[Math.floor(next() * alphabet.length)]
  return out
}

const B64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'

function workId (platform: Platform, seed: string): string {
  switch (platform) {
    case 'youtube': return chars(seed, 11, B64URL)
    case 'facebook': return `104857600123_${digits(seed, 15)}`
    case 'bilibili': return `BV1${chars(seed, 9, B64URL.slice(0, 62))}`
    case 'tiktok':
    case 'twitter': return digits(seed, 19)
    case 'instagram': return digits(seed, 17)
    case 'pinterest': return digits(seed, 18)
    case 'KWAI': return digits(seed, 13)
    default: return `${platform.toLowerCase()}-${chars(seed, 12, B64URL.slice(0, 62))}`
  }
}

function workUrl (platform: Platform, id: string): string {
  switch (platform) {
    case 'youtube': return `https://www.youtube.com/watch?v=${id}`
    case 'tiktok': return `https://www.tiktok.com/@sandbox/video/${id}`
    case 'bilibili': return `https://www.bilibili.com/video/${id}`
    case 'douyin': return `https://www.douyin.com/video/${id}`
    default: return `https://sandbox.example/${platform}/${id}`
  }
}

/** Seeded lifetime metrics of one work: only the platform's fields. */
export function lifetimeMetrics (platform: Platform, id: string): Record<string, number> {
  const out: Record<string, number> = {}
  for (const name of METRICS_BY_PLATFORM[platform]) out[name] = seededInt(`${platform}:${id}:${name}`, 0, name.includes('impression') || name.includes('view') || name.includes('play') ? 250_000 : 9_000)
  return out
}

function platformExtra (platform: Platform, id: string): Record<string, unknown> {
  switch (platform) {
    case 'bilibili': return { coinCount: seededInt(`${id}:coin`, 0, 3000), danmakuCount: seededInt(`${id}:danmaku`, 0, 800) }
    case 'twitter': return { quoteCount: seededInt(`${id}:quote`, 0, 120) }
    case 'KWAI': return { pending: seededInt(`${id}:pending`, 0, 1) === 1 }
    default: return {}
  }
}

function makeWorks (accountId: string, platform: Platform, count: number): SandboxWork[] {
  return Array.from({ length: count }, (_, i) => {
    const id = workId(platform, `${accountId}:${i}`)
    const contentMode = VIDEO_ONLY.has(platform) ? 'video' : MODES[i % MODES.length]!
    return {
      platformWorkId: id,
      contentMode,
      title: `${platform} sandbox work ${i + 1}`,
      description: `Seeded ${contentMode} work ${i + 1} of ${accountId}`,
      url: workUrl(platform, id),
      coverUrl: `https://sandbox.example/covers/${platform}/${i + 1}.jpg`,
      // Newest first, as the platforms list them.
      publishedAt: new Date(BASE_TIME - i * 36 * 3600_000).toISOString(),
      authorName: `${platform} creator`,
      authorPlatformUid: `${platform}-uid-${seededInt(accountId, 10_000, 99_999)}`,
      status: 'published',
      metrics: lifetimeMetrics(platform, id),
      extra: platformExtra(platform, id)
    }
  })
}

function douyinWorks (nowMs: number): SandboxWork[] {
  return DOUYIN_VIDEOS.map((v, i) => ({
    platformWorkId: v.videoId,
    contentMode: 'video' as const,
    title: v.title,
    description: `${v.taskName} · ${v.appTitle}`,
    url: workUrl('douyin', v.videoId),
    coverUrl: `https://sandbox.example/covers/douyin/${i + 1}.jpg`,
    publishedAt: new Date(publishTime(v, nowMs) * 1000).toISOString(),
    authorName: v.author,
    authorPlatformUid: v.douyinId,
    status: 'published',
    metrics: lifetimeMetrics('douyin', v.videoId),
    extra: { dataId: v.videoId, uniqueId: v.douyinId, type: 'video', videoType: 1 }
  }))
}

/** The seeded accounts, keyed by id. */
export function seedAccounts (nowMs = Date.now()): Map<string, SandboxAccount> {
  const list: SandboxAccount[] = [
    { id: 'acc-tiktok-1', platform: 'tiktok', works: makeWorks('acc-tiktok-1', 'tiktok', 45) },
    { id: 'acc-kwai-1', platform: 'KWAI', works: makeWorks('acc-kwai-1', 'KWAI', 40) },
    { id: 'acc-youtube-1', platform: 'youtube', works: makeWorks('acc-youtube-1', 'youtube', 30) },
    { id: 'acc-facebook-1', platform: 'facebook', works: makeWorks('acc-facebook-1', 'facebook', 30) },
    { id: 'acc-instagram-1', platform: 'instagram', works: makeWorks('acc-instagram-1', 'instagram', 12) },
    { id: 'acc-twitter-1', platform: 'twitter', works: makeWorks('acc-twitter-1', 'twitter', 15) },
    { id: 'acc-pinterest-1', platform: 'pinterest', works: makeWorks('acc-pinterest-1', 'pinterest', 12) },
    { id: 'acc-bilibili-1', platform: 'bilibili', works: makeWorks('acc-bilibili-1', 'bilibili', 8) },
    { id: 'acc-wxgzh-1', platform: 'wxGzh', works: makeWorks('acc-wxgzh-1', 'wxGzh', 5) },
    { id: DOUYIN_ACCOUNT_ID, platform: 'douyin', works: douyinWorks(nowMs) }
  ]
  return new Map(list.map(a => [a.id, a]))
}

/** Daily metrics of a work on one day (Pinterest reports per day). */
export function dailyMetrics (platform: Platform, id: string, day: string): Record<string, number> {
  const out: Record<string, number> = {}
  for (const name of METRICS_BY_PLATFORM[platform]) out[name] = seededInt(`${platform}:${id}:${day}:${name}`, 0, 600)
  return out
}
