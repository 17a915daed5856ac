/**
 * The sandbox's Douyin bill file: what `query_bill_link` links to. A model of the real file as
 * public code that reads it shows it (UPSTREAMS.md "Bill download"): one CSV per billing date,
 * one row per video in billing on that date, the Chinese header row, money in integer fen
 * (单位：分), engagement and money totals cumulative (累计), times as Beijing wall-clock text,
 * ids as digit text. What nobody has shown (BOM, line endings, column order) is a knob, so the
 * reader is tested on each.
 */
import { stringify } from 'csv-stringify/sync'
import { DOUYIN_VIDEOS, beijingMidnight, publishTime, type DouyinVideo } from '../seed.js'
import { dayValues, totalsTo, type DayValues } from './data.js'

/** The header row, in the order public code lists it. */
export const BILL_HEADER = [
  '账单统计日期', '视频ID', '视频关联的小程序ID', '视频关联的任务ID', '视频关联的团长ID', '视频发布时间',
  '视频归属用户抖音号', '视频累计播放量', '视频累计点击数', '视频累计评论数', '视频累计点赞数', '视频累计分享量',
  '视频当日达人佣金（单位：分）', '视频累计达人佣金（单位：分）', '当日视频产生的交易订单支付金额（单位：分）',
  '视频累计产生的交易订单支付金额（单位：分）', '视频产生的交易订单当日退款金额（单位：分）',
  '视频产生的交易订单累计退款金额（单位：分）', '当日视频CPS关联的交易订单支付金额（单位：分）',
  '视频累计CPS关联的交易订单支付金额（单位：分）', '视频CPS关联的交易订单当日退款金额（单位：分）',
  '视频CPS关联的交易订单累计退款金额（单位：分）', '当日视频产生的广告收入（单位：分）',
  '视频累计产生的广告收入（单位：分）', '当日视频Feed流产生的广告收入（单位：分）',
  '视频Feed流累计产生的广告收入（单位：分）', '当日视频关联的有效日活用户数', '视频累计关联的有效日活用户数', '视频结束计费时间'
] as const
export type BillColumn = typeof BILL_HEADER[number]

export interface BillStyle {
  /** A UTF-8 byte order mark first (as spreadsheet exports write). Default true. */
  bom: boolean
  /** Line ending. Default CRLF. */
  eol: '\r\n' | '\n'
  /** Columns in reverse order (the reader must go by header text). */
  reversed: boolean
  /** A column the reader does not know, with a value per row. */
  unknownColumn?: string
  /** A column left out (to see the reader name a missing required one). */
  dropColumn?: BillColumn
  /** Rows of made-up videos added after the seeded ones (for size tests). */
  extraRows: number
}

export const DEFAULT_BILL_STYLE: BillStyle = { bom: true, eol: '\r\n', reversed: false, extraRows: 0 }

const DAY = 86_400
/** The app id of the seeded mini apps (小程序ID is a `tt...` app id). */
const APP_ID = 'tt0a1b2c3d4e5f6a7b'
const AGENT_ID = '7290000000000000001'

/** `YYYY-MM-DD HH:mm:ss` in Beijing time. */
function wallClock (seconds: number): string {
  return new Date((seconds + 8 * 3600) * 1000).toISOString().slice(0, 19).replace('T', ' ')
}

type Values = Record<BillColumn, string | number>

function row (date: string, id: string, taskId: string, douyinId: string, published: number, day: DayValues, sum: DayValues): Values {
  return {
    账单统计日期: date,
    视频ID: id,
    视频关联的小程序ID: APP_ID,
    视频关联的任务ID: taskId,
    视频关联的团长ID: AGENT_ID,
    视频发布时间: wallClock(published),
    视频归属用户抖音号: douyinId,
    视频累计播放量: sum.plays,
    视频累计点击数: sum.clicks,
    视频累计评论数: sum.comments,
    视频累计点赞数: sum.likes,
    视频累计分享量: sum.shares,
    '视频当日达人佣金（单位：分）': day.talentProfit,
    '视频累计达人佣金（单位：分）': sum.talentProfit,
    '当日视频产生的交易订单支付金额（单位：分）': day.gmv,
    '视频累计产生的交易订单支付金额（单位：分）': sum.gmv,
    '视频产生的交易订单当日退款金额（单位：分）': day.refundGmv,
    '视频产生的交易订单累计退款金额（单位：分）': sum.refundGmv,
    '当日视频CPS关联的交易订单支付金额（单位：分）': day.billingGmv,
    '视频累计CPS关联的交易订单支付金额（单位：分）': sum.billingGmv,
    '视频CPS关联的交易订单当日退款金额（单位：分）': day.billingRefundGmv,
    '视频CPS关联的交易订单累计退款金额（单位：分）': sum.billingRefundGmv,
    '当日视频产生的广告收入（单位：分）': day.adShareCost,
    '视频累计产生的广告收入（单位：分）': sum.adShareCost,
    '当日视频Feed流产生的广告收入（单位：分）': day.feedAdShareCost,
    '视频Feed流累计产生的广告收入（单位：分）': sum.feedAdShareCost,
    当日视频关联的有效日活用户数: day.activeCount,
    视频累计关联的有效日活用户数: sum.activeCount,
    视频结束计费时间: wallClock(published + 30 * DAY)
  }
}

/** The seeded videos in billing on `date`: published by its end (Beijing). */
export function billVideos (date: string, nowMs: number): Array<{ video: DouyinVideo, published: number }> {
  const end = beijingMidnight(date) + DAY
  return DOUYIN_VIDEOS.map(video => ({ video, published: publishTime(video, nowMs) })).filter(v => v.published < end)
}

/** A made-up video's values: cheap to compute, so that a 100,000-row file streams out fast. */
function madeUp (i: number, date: string): Values {
  const day = { gmv: (i * 7919) % 250_000, refundGmv: (i * 31) % 5000, billingGmv: (i * 6007) % 200_000, billingRefundGmv: (i * 17) % 3000, adShareCost: (i * 13) % 5000, feedAdShareCost: (i * 11) % 3000, activeCount: i % 40, talentProfit: (i * 101) % 30_000, expectedProfit: 0, plays: 1000 + i % 9000, likes: i % 700, comments: i % 90, shares: i % 50, clicks: i % 400 }
  const sum = Object.fromEntries(Object.entries(day).map(([k, v]) => [k, v * 3])) as DayValues
  const published = beijingMidnight(date) - (i % 60) * DAY + (i % 86_000)
  return row(date, (7400000000000000000n + BigInt(i)).toString(), '7312345678901234567', `X${i % 5000}`, published, day, sum)
}

/**
 * The file of one billing date, in pieces of a few hundred rows (so a large one streams).
 * `override` changes single values of seeded rows (by video id and column), for odd-value tests.
 */
export function * billFile (date: string, nowMs: number, style: BillStyle, override: ReadonlyMap<string, Partial<Record<BillColumn, string | number>>>): Generator<string> {
  let columns: string[] = BILL_HEADER.filter(c => c !== style.dropColumn)
  if (style.reversed) columns = columns.reverse()
  if (style.unknownColumn !== undefined) columns.push(style.unknownColumn)
  const lines = (rows: Values[]) => stringify(rows.map(r => columns.map(c => (r as Record<string, string | number>)[c] ?? 'note')), { record_delimiter: style.eol === '\r\n' ? 'windows' : 'unix' })
  yield (style.bom ? '\uFEFF' : '') + stringify([columns], { record_delimiter: style.eol === '\r\n' ? 'windows' : 'unix' })
  const seeded = billVideos(date, nowMs).map(({ video, published }) => ({
    ...row(date, video.videoId, video.taskId, video.douyinId, published, dayValues(video, date), totalsTo(video, published, date)),
    ...override.get(video.videoId)
  }))
  yield lines(seeded)
  for (let i = 0; i < style.extraRows; i += 500) {
    yield lines(Array.from({ length: Math.min(500, style.extraRows - i) }, (_, k) => madeUp(i + k, date)))
  }
}
