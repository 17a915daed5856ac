import { DOUYIN_VIDEOS, beijingMidnight, publishTime, seededInt, type DouyinVideo } from '../seed.js'

export type RowSpelling = 'pascal' | 'snake'

/** Agency client keys of the seeded tasks' agencies (filter `agency_client_key`). */
export const SANDBOX_AGENCY_KEYS: Record<string, string> = {
  撮合网站应用015: 'awck97rsdsd015wd14',
  'Agency North': 'awcknorth0000001'
}

export interface DailyQuery {
  billingDate: string
  start: number
  end: number
  douyinId?: string
  agencyClientKey?: string
}

const DAY = 86_400

/** The videos a query matches, in a stable order (newest publication first, then id). */
export function matchingVideos (q: DailyQuery, nowMs: number): Array<{ video: DouyinVideo, published: number }> {
  const billingEnd = beijingMidnight(q.billingDate) + DAY
  return DOUYIN_VIDEOS
    .map(video => ({ video, published: publishTime(video, nowMs) }))
    .filter(({ video, published }) =>
      published >= q.start && published <= q.end && published < billingEnd &&
      (q.douyinId === undefined || video.douyinId === q.douyinId) &&
      (q.agencyClientKey === undefined || SANDBOX_AGENCY_KEYS[video.clientName] === q.agencyClientKey))
    .sort((a, b) => b.published - a.published || (a.video.videoId < b.video.videoId ? -1 : 1))
}

// [PascalCase, snake_case, raw JSON integer?]
const FIELDS: Array<[string, string, (v: DouyinVideo, published: number, date: string) => string | number, boolean?]> = [
  ['ActiveCnt1d', 'active_cnt_1d', (v, _p, d) => dayValues(v, d).activeCount],
  ['AdShareCost1d', 'ad_share_cost_1d', (v, _p, d) => dayValues(v, d).adShareCost],
  ['Author', 'author', v => v.author],
  ['BillingGMV1d', 'billing_gmv_1d', (v, _p, d) => dayValues(v, d).billingGmv],
  ['BillingRefundGMV1d', 'billing_refund_gmv_1d', (v, _p, d) => dayValues(v, d).billingRefundGmv],
  ['ClientName', 'client_name', v => v.clientName],
  ['FeedAdShareCost1d', 'feed_ad_share_cost_1d', (v, _p, d) => dayValues(v, d).feedAdShareCost],
  ['DouyinID', 'douyin_id', v => v.douyinId],
  ['ExpectedProfit', 'expected_profit', (v, _p, d) => dayValues(v, d).expectedProfit],
  // UPSTREAMS.md "Taskbox daily video data": TalentProfit1d = creator commission (fen); not in the SDK's row class.
  ['TalentProfit1d', 'talent_profit_1d', (v, _p, d) => dayValues(v, d).talentProfit],
  ['GMV1d', 'gmv_1d', (v, _p, d) => dayValues(v, d).gmv],
  ['MicroAppTitle', 'micro_app_title', v => v.appTitle],
  ['PublishTime', 'publish_time', (_v, p) => p],
  ['RefundGMV1d', 'refund_gmv_1d', (v, _p, d) => dayValues(v, d).refundGmv],
  ['TaskId', 'task_id', v => v.taskId, true],
  ['TaskName', 'task_name', v => v.taskName],
  ['VideoId', 'video_id', v => v.videoId, true],
  ['VideoLink', 'video_link', v => `https://www.iesdouyin.com/share/video/${v.videoId}/?region=CN`],
  ['VideoTitle', 'video_title', v => v.title],
  ['date', 'date', (_v, _p, d) => d]
]

/** A video's values of one billing date (fen and counts): the one model both the daily API and the bill are drawn from. */
export function dayValues (v: DouyinVideo, date: string) {
  const g = gmv(v, date)
  const b = billing(v, date)
  const plays = seededInt(`${v.videoId}:${date}:plays`, 50, 20_000)
  return {
    gmv: g,
    refundGmv: Math.floor(g * seededInt(`${v.videoId}:${date}:rf`, 0, 20) / 100),
    billingGmv: b,
    billingRefundGmv: Math.floor(b * seededInt(`${v.videoId}:${date}:rr`, 0, 20) / 100),
    adShareCost: seededInt(`${v.videoId}:${date}:ad`, 0, 5_000),
    feedAdShareCost: seededInt(`${v.videoId}:${date}:feed`, 0, 3_000),
    activeCount: seededInt(`${v.videoId}:${date}:active`, 0, 40),
    talentProfit: talentProfit(v, date),
    expectedProfit: Math.floor(g * 0.3),
    plays,
    likes: Math.floor(plays * seededInt(`${v.videoId}:${date}:lk`, 2, 8) / 100),
    comments: Math.floor(plays * seededInt(`${v.videoId}:${date}:cm`, 0, 10) / 1000),
    shares: Math.floor(plays * seededInt(`${v.videoId}:${date}:sh`, 0, 6) / 1000),
    clicks: Math.floor(plays * seededInt(`${v.videoId}:${date}:ck`, 1, 6) / 100)
  }
}
export type DayValues = ReturnType<typeof dayValues>

/** A video's running totals up to a billing date: the sum of its day values from the Beijing day it was published. */
export function totalsTo (v: DouyinVideo, published: number, date: string): DayValues {
  const sum = Object.fromEntries(Object.keys(dayValues(v, date)).map(k => [k, 0])) as DayValues
  const first = new Date((published + 8 * 3600) * 1000).toISOString().slice(0, 10)
  for (let d = first; d <= date; d = new Date(Date.parse(`${d}T00:00:00Z`) + DAY * 1000).toISOString().slice(0, 10)) {
    const day = dayValues(v, d)
    for (const k of Object.keys(sum) as Array<keyof DayValues>) sum[k] += day[k]
  }
  return sum
}

function talentProfit (v: DouyinVideo, date: string): number {
  return Math.floor(gmv(v, date) * seededInt(`${v.videoId}:${date}:tp`, 5, 15) / 100)
}

/** GMV of a video on a billing date, in fen. */
function gmv (v: DouyinVideo, date: string): number {
  return seededInt(`${v.videoId}:${date}:gmv`, 0, 250_000)
}
function billing (v: DouyinVideo, date: string): number {
  return Math.floor(gmv(v, date) * 0.9)
}

/**
 * One row as JSON text (`override`: values by PascalCase field, e.g. a fractional ExpectedProfit), built by hand so that the 19-digit ids go out as raw JSON integers, as
 * Douyin sends them (JSON.stringify of a number would already have rounded them).
 */
export function rowJson (video: DouyinVideo, published: number, date: string, spelling: RowSpelling, override?: Record<string, string | number>): string {
  const parts = FIELDS.map(([pascal, snake, value, raw]) => {
    const v = override?.[pascal] ?? value(video, published, date)
    return `${JSON.stringify(spelling === 'pascal' ? pascal : snake)}:${raw ? String(v) : JSON.stringify(v)}`
  })
  return `{${parts.join(',')}}`
}
