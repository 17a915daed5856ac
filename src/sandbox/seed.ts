/**
 * Seeded, deterministic data shared by both sandbox upstreams, so that a Douyin video listed by the
 * sandbox AiToEarn is the same video (same 19-digit id) that the sandbox Douyin taskbox reports.
 */

export const SANDBOX_AITOEARN_API_KEY = 'sandbox-aitoearn-key'
export const SANDBOX_DOUYIN_CLIENT_KEY = 'sandbox-client-key'
export const SANDBOX_DOUYIN_CLIENT_SECRET = 'sandbox-client-secret'

/** The AiToEarn account (platform douyin) whose works are the Douyin taskbox videos below. */
export const DOUYIN_ACCOUNT_ID = 'acc-douyin-1'

const DAY = 86_400
const BEIJING_OFFSET = 8 * 3600

/** A small deterministic PRNG (mulberry32) seeded from a string. */
export function rng (seed: string): () => number {
  let h = 1779033703 ^ seed.length
  for (let i = 0; i < seed.length; i++) {
    h = Math.imul(h ^ seed.charCodeAt(i), 3432918353)
    h = (h << 13) | (h >>> 19)
  }
  let a = h >>> 0
  return () => {
    a = (a + 0x6D2B79F5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** An integer in [min, max] drawn from a seed. */
export function seededInt (seed: string, min: number, max: number): number {
  return min + Math.floor(rng(seed)() * (max - min + 1))
}

export interface DouyinVideo {
  /** 19 digits, beyond 2^53: JSON.parse would round it. */
  videoId: string
  taskId: string
  taskName: string
  appTitle: string
  clientName: string
  author: string
  douyinId: string
  title: string
  /** Days before today (Beijing) that the video was published. */
  publishedDaysAgo: number
  publishedHour: number
}

const TASKS = [
  { taskId: '7270785143852253697', taskName: '小程序B的支付分成绑定任务R4', appTitle: '行业ITC', clientName: '撮合网站应用015' },
  { taskId: '7301122334455667789', taskName: 'Summer game promotion', appTitle: 'Puzzle Garden', clientName: 'Agency North' },
  { taskId: '7312345678901234567', taskName: 'Mini drama launch', appTitle: 'Daily Drama', clientName: 'Agency North' }
]

/** 24 videos, published 1 to 70 days ago; the first is the one from Douyin's own docs example. */
export const DOUYIN_VIDEOS: DouyinVideo[] = Array.from({ length: 24 }, (_, i) => {
  const task = TASKS[i % TASKS.length]!
  const videoId = i === 0 ? '7270855478333246754' : (7270855478333246754n + BigInt(i) * 1_000_003_333n).toString()
  return {
    videoId,
    ...task,
    author: `creator${(i % 6) + 1}`,
    douyinId: `A79322${String(340 + (i % 6))}`,
    title: `Sandbox video ${i + 1}`,
    publishedDaysAgo: 1 + ((i * 3) % 70),
    publishedHour: (i * 5) % 24
  }
})

/** Midnight of a Beijing date (YYYY-MM-DD) as unix seconds. */
export function beijingMidnight (date: string): number {
  return Date.parse(`${date}T00:00:00+08:00`) / 1000
}

/** Today's date in Beijing (UTC+8), as YYYY-MM-DD. */
export function beijingToday (nowMs = Date.now()): string {
  return new Date(nowMs + BEIJING_OFFSET * 1000).toISOString().slice(0, 10)
}

/** When a sandbox video was published (unix seconds), relative to today in Beijing. */
export function publishTime (v: DouyinVideo, nowMs = Date.now()): number {
  return beijingMidnight(beijingToday(nowMs)) - v.publishedDaysAgo * DAY + v.publishedHour * 3600
}
