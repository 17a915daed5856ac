/**
 * The sandbox AiToEarn's seeded, deterministic accounts and works. What each platform reports
 * about them is in providers.ts (the real server's per-platform rules).
 */
import { DOUYIN_ACCOUNT_ID, DOUYIN_VIDEOS, publishTime, rng, seededInt } from '../seed.js'
import type { Platform } from '../../schemas/metrics.js'
import { MODEL } from './providers.js'

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
  /**
   * The account's state on AiToEarn (B/accounts, auth.service.ts getValidCredential): `abnormal`
   * after a credential failure (15001 until the user re-authorizes), `no-credential` (15006).
   */
  state?: 'abnormal' | 'no-credential'
}

/** Metrics a platform's providers fill, listing and analytics together: what its seeded works have. */
function seededMetricNames (platform: Platform): string[] {
  const m = MODEL[platform]
  return [...new Set([...(m.list?.metrics ?? []), ...(m.analytics?.metrics ?? [])])]
}

const MODES: ContentMode[] = ['video', 'article', 'article2']
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
    case 'KWAI': return `https://www.kuaishou.com/short-video/${id}`
    case 'pinterest': return `https://www.pinterest.com/pin/${id}/`
    case 'twitter': return `https://x.com/i/web/status/${id}`
    default: return `https://sandbox.example/${platform}/${id}`
  }
}

/** Seeded lifetime metrics of one work: the fields the platform's providers fill. */
export function lifetimeMetrics (platform: Platform, id: string): Record<string, number> {
  const out: Record<string, number> = {}
  for (const name of seededMetricNames(platform)) out[name] = seededInt(`${platform}:${id}:${name}`, 1, name.includes('impression') || name.includes('view') || name.includes('play') || name.includes('reach') ? 250_000 : 9_000)
  return out
}

function platformExtra (platform: Platform, id: string): Record<string, unknown> {
  return MODEL[platform].analytics?.extra?.(id, (name, max) => seededInt(`${id}:${name}`, 0, max)) ?? {}
}

function makeWorks (accountId: string, platform: Platform, count: number): SandboxWork[] {
  return Array.from({ length: count }, (_, i) => {
    const id = workId(platform, `${accountId}:${i}`)
    const contentMode = MODEL[platform].videoOnly ? 'video' : MODES[i % MODES.length]!
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
    { id: 'acc-threads-1', platform: 'threads', works: makeWorks('acc-threads-1', 'threads', 10) },
    { id: 'acc-xhs-1', platform: 'xhs', works: makeWorks('acc-xhs-1', 'xhs', 5) },
    { id: 'acc-wxgzh-1', platform: 'wxGzh', works: makeWorks('acc-wxgzh-1', 'wxGzh', 5) },
    // An account whose platform access failed (revoked, a refresh that failed): AiToEarn marks it
    // abnormal and answers 15001 until the user reconnects it.
    { id: 'acc-reconnect-1', platform: 'instagram', works: makeWorks('acc-reconnect-1', 'instagram', 3), state: 'abnormal' },
    { id: 'acc-nocred-1', platform: 'youtube', works: makeWorks('acc-nocred-1', 'youtube', 3), state: 'no-credential' },
    { id: DOUYIN_ACCOUNT_ID, platform: 'douyin', works: douyinWorks(nowMs) }
  ]
  return new Map(list.map(a => [a.id, a]))
}

/** Daily metrics of a work on one day (Pinterest reports per day). */
export function dailyMetrics (platform: Platform, id: string, day: string): Record<string, number> {
  const out: Record<string, number> = {}
  for (const name of MODEL[platform].analytics?.metrics ?? []) out[name] = seededInt(`${platform}:${id}:${day}:${name}`, 0, 600)
  return out
}
