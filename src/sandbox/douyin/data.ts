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
  ['ActiveCnt1d', 'active_cnt_1d', (v, _p, d) => seededInt(`${v.videoId}:${d}:active`, 0, 40)],
  ['AdShareCost1d', 'ad_share_cost_1d', (v, _p, d) => seededInt(`${v.videoId}:${d}:ad`, 0, 5_000)],
  ['Author', 'author', v => v.author],
  ['BillingGMV1d', 'billing_gmv_1d', (v, _p, d) => billing(v, d)],
  ['BillingRefundGMV1d', 'billing_refund_gmv_1d', (v, _p, d) => Math.floor(billing(v, d) * seededInt(`${v.videoId}:${d}:rr`, 0, 20) / 100)],
  ['ClientName', 'client_name', v => v.clientName],
  ['FeedAdShareCost1d', 'feed_ad_share_cost_1d', (v, _p, d) => seededInt(`${v.videoId}:${d}:feed`, 0, 3_000)],
  ['DouyinID', 'douyin_id', v => v.douyinId],
  ['ExpectedProfit', 'expected_profit', (v, _p, d) => Math.floor(gmv(v, d) * 0.3)],
  ['GMV1d', 'gmv_1d', (v, _p, d) => gmv(v, d)],
  ['MicroAppTitle', 'micro_app_title', v => v.appTitle],
  ['PublishTime', 'publish_time', (_v, p) => p],
  ['RefundGMV1d', 'refund_gmv_1d', (v, _p, d) => Math.floor(gmv(v, d) * seededInt(`${v.videoId}:${d}:rf`, 0, 20) / 100)],
  ['TaskId', 'task_id', v => v.taskId, true],
  ['TaskName', 'task_name', v => v.taskName],
  ['VideoId', 'video_id', v => v.videoId, true],
  ['VideoLink', 'video_link', v => `https://www.iesdouyin.com/share/video/${v.videoId}/?region=CN`],
  ['VideoTitle', 'video_title', v => v.title],
  ['date', 'date', (_v, _p, d) => d]
]

/** GMV of a video on a billing date, in fen. */
function gmv (v: DouyinVideo, date: string): number {
  return seededInt(`${v.videoId}:${date}:gmv`, 0, 250_000)
}
function billing (v: DouyinVideo, date: string): number {
  return Math.floor(gmv(v, date) * 0.9)
}

/**
 * One row as JSON text, built by hand so that the 19-digit ids go out as raw JSON integers, as
 * Douyin sends them (JSON.stringify of a number would already have rounded them).
 */
export function rowJson (video: DouyinVideo, published: number, date: string, spelling: RowSpelling): string {
  const parts = FIELDS.map(([pascal, snake, value, raw]) => {
    const v = value(video, published, date)
    return `${JSON.stringify(spelling === 'pascal' ? pascal : snake)}:${raw ? String(v) : JSON.stringify(v)}`
  })
  return `{${parts.join(',')}}`
}
