/**
 * Douyin's bill file (the CSV behind `query_bill_link`): one row per video of one billing date,
 * every video of the app. Streamed through csv-parse (a UTF-8 BOM and any line ending are fine),
 * columns found by their header text, never by position: unknown columns go to `extra`, a missing
 * required one is a 502 naming it. Values are read by values.ts: an odd one is null with a warning.
 *
 * A parsed day is kept as compact text, the cache entry of that date: a meta line, then one line
 * per row, `videoId \t publishSeconds \t douyinId \t [values...]`, newest publication first. A
 * reader indexes the three leading fields without parsing JSON and parses only the rows it hands out.
 */
import type { Readable } from 'node:stream'
import { parse } from 'csv-parse'
import { HttpProblem } from '../../errors.js'
import { emptyMetrics, emptyToDate, type MetricName, type ToDate, type Work } from '../../schemas/metrics.js'
import type { RowWarning } from '../../schemas/douyin.js'
import { integerValue, timeValue, Warnings, type Warn } from './values.js'

type Kind = 'id' | 'text' | 'time' | 'count' | 'money'
interface Column {
  header: string
  kind: Kind
  /** Where the value goes: a metric of that day, a running total, or a field of the record. */
  to: { metric: MetricName } | { toDate: keyof ToDate } | { field: 'videoId' | 'taskId' | 'appId' | 'agentId' | 'douyinId' | 'publishedAt' | 'billDate' | 'billingEndsAt' }
  required?: true
}

/**
 * The bill's columns (header texts as public code that reads the file shows them; UPSTREAMS.md).
 * Engagement columns are cumulative (视频累计...); money is integer fen (单位：分).
 */
export const BILL_COLUMNS: readonly Column[] = [
  { header: '账单统计日期', kind: 'text', to: { field: 'billDate' } },
  { header: '视频ID', kind: 'id', to: { field: 'videoId' }, required: true },
  { header: '视频关联的小程序ID', kind: 'text', to: { field: 'appId' } },
  { header: '视频关联的任务ID', kind: 'id', to: { field: 'taskId' } },
  { header: '视频关联的团长ID', kind: 'id', to: { field: 'agentId' } },
  { header: '视频发布时间', kind: 'time', to: { field: 'publishedAt' }, required: true },
  { header: '视频归属用户抖音号', kind: 'text', to: { field: 'douyinId' } },
  { header: '视频累计播放量', kind: 'count', to: { metric: 'playCount' } },
  { header: '视频累计点击数', kind: 'count', to: { metric: 'clickCount' } },
  { header: '视频累计评论数', kind: 'count', to: { metric: 'commentCount' } },
  { header: '视频累计点赞数', kind: 'count', to: { metric: 'likeCount' } },
  { header: '视频累计分享量', kind: 'count', to: { metric: 'shareCount' } },
  { header: '视频当日达人佣金（单位：分）', kind: 'money', to: { metric: 'talentProfit' } },
  { header: '视频累计达人佣金（单位：分）', kind: 'money', to: { toDate: 'talentProfit' } },
  { header: '当日视频产生的交易订单支付金额（单位：分）', kind: 'money', to: { metric: 'gmv' }, required: true },
  { header: '视频累计产生的交易订单支付金额（单位：分）', kind: 'money', to: { toDate: 'gmv' } },
  { header: '视频产生的交易订单当日退款金额（单位：分）', kind: 'money', to: { metric: 'refundGmv' } },
  { header: '视频产生的交易订单累计退款金额（单位：分）', kind: 'money', to: { toDate: 'refundGmv' } },
  // CPS-linked orders: what the daily API calls billing GMV (BillingGMV1d), as we read the two.
  { header: '当日视频CPS关联的交易订单支付金额（单位：分）', kind: 'money', to: { metric: 'billingGmv' } },
  { header: '视频累计CPS关联的交易订单支付金额（单位：分）', kind: 'money', to: { toDate: 'billingGmv' } },
  { header: '视频CPS关联的交易订单当日退款金额（单位：分）', kind: 'money', to: { metric: 'billingRefundGmv' } },
  { header: '视频CPS关联的交易订单累计退款金额（单位：分）', kind: 'money', to: { toDate: 'billingRefundGmv' } },
  { header: '当日视频产生的广告收入（单位：分）', kind: 'money', to: { metric: 'adShareCost' } },
  { header: '视频累计产生的广告收入（单位：分）', kind: 'money', to: { toDate: 'adShareCost' } },
  { header: '当日视频Feed流产生的广告收入（单位：分）', kind: 'money', to: { metric: 'feedAdShareCost' } },
  { header: '视频Feed流累计产生的广告收入（单位：分）', kind: 'money', to: { toDate: 'feedAdShareCost' } },
  { header: '当日视频关联的有效日活用户数', kind: 'count', to: { metric: 'activeCount' } },
  { header: '视频累计关联的有效日活用户数', kind: 'count', to: { toDate: 'activeCount' } },
  { header: '视频结束计费时间', kind: 'time', to: { field: 'billingEndsAt' } }
]

/** A header as compared: NFKC (full-width brackets and colon become ASCII), no white space, no BOM. */
const normal = (header: string) => header.normalize('NFKC').replace(/[\s\uFEFF]/g, '')
const BY_HEADER = new Map(BILL_COLUMNS.map((c, i) => [normal(c.header), i]))
const VIDEO_ID = /^\d{1,20}$/
const slotOf = (field: string) => BILL_COLUMNS.findIndex(c => 'field' in c.to && c.to.field === field)
const ID_SLOT = slotOf('videoId')
const PUBLISHED_SLOT = slotOf('publishedAt')
const DOUYIN_ID_SLOT = slotOf('douyinId')

export interface ParsedBill {
  /** The compact day: the cache entry's body. */
  body: Buffer
  rows: number
}

interface Meta { v: 1, date: string, rows: number, unknownColumns: string[], warnings: RowWarning[], warningsTotal: number }

/**
 * Reads a bill file into the compact day. `date` is the billing date asked for. Throws a 502
 * problem for a file that is no bill (no header we know, a required column missing, broken CSV).
 */
export async function parseBill (file: Readable, date: string, countWarning?: (n: number) => void): Promise<ParsedBill> {
  const parser = parse({ bom: true, record_delimiter: ['\r\n', '\n', '\r'], skip_empty_lines: true, relax_column_count: true })
  file.on('error', err => parser.destroy(err))
  file.pipe(parser)
  const warnings = new Warnings(countWarning)
  let slots: Array<number | undefined> | undefined
  let unknown: Array<[number, string]> = []
  const rows: Array<{ published: number, id: string, line: string }> = []
  const seen = new Set<string>()
  try {
    for await (const record of parser as AsyncIterable<string[]>) {
      if (slots === undefined) {
        slots = record.map(h => BY_HEADER.get(normal(h)))
        const missing = BILL_COLUMNS.filter((c, i) => c.required && !slots!.includes(i)).map(c => c.header)
        if (missing.length > 0) {
          const garbled = record.some(h => h.includes('\uFFFD'))
          throw badBill(garbled ? 'its header row is not UTF-8 text' : `required column${missing.length > 1 ? 's' : ''} missing: ${missing.join(', ')}`)
        }
        unknown = record.map((h, i) => [i, h.trim()] as [number, string]).filter(([i, h]) => slots![i] === undefined && h !== '')
        continue
      }
      const values: unknown[] = new Array(BILL_COLUMNS.length).fill(null)
      for (let i = 0; i < record.length; i++) {
        const slot = slots[i]
        if (slot !== undefined) values[slot] = record[i]
      }
      const id = String(values[ID_SLOT] ?? '').trim()
      if (!VIDEO_ID.test(id)) {
        warnings.forRow(id.slice(0, 40), date)('workId', id, 'not a video id')
        continue
      }
      if (seen.has(id)) {
        // One row per video is the bill's shape; a second (another task's?) is not added to the first unread.
        warnings.forRow(id, date)('workId', id, 'a second row for this video in the bill: only the first is used')
        continue
      }
      seen.add(id)
      const warn = warnings.forRow(id, date)
      const tuple: unknown[] = BILL_COLUMNS.map((c, i) => read(c, values[i], warn))
      const extra: Record<string, string> = {}
      for (const [i, h] of unknown) if (record[i] !== undefined && record[i] !== '') extra[h] = record[i]!
      tuple.push(Object.keys(extra).length > 0 ? extra : 0)
      const published = tuple[PUBLISHED_SLOT]
      const douyinId = tuple[DOUYIN_ID_SLOT]
      const author = typeof douyinId === 'string' ? douyinId.replace(/[\t\n\r]/g, ' ') : ''
      rows.push({ published: typeof published === 'number' ? published : 0, id, line: `${id}\t${typeof published === 'number' ? published : ''}\t${author}\t${JSON.stringify(tuple)}` })
    }
  } catch (err) {
    if (err instanceof HttpProblem) throw err
    const e = err as { code?: string, message?: string, lines?: number }
    if (typeof e?.code === 'string' && e.code.startsWith('CSV_')) throw badBill(`it is not valid CSV (${e.code}${e.lines !== undefined ? ` at line ${e.lines}` : ''})`)
    throw err
  }
  if (slots === undefined) throw badBill('it is empty: no header row')
  rows.sort(newestFirst)
  const meta: Meta = { v: 1, date, rows: rows.length, unknownColumns: unknown.map(([, h]) => h), warnings: warnings.list, warningsTotal: warnings.total }
  const text = [JSON.stringify(meta), ...rows.map(r => r.line)].join('\n')
  return { body: Buffer.from(text), rows: rows.length }
}

/** Newest publication first, then by id (numerically: the ids are decimal strings). */
function newestFirst (a: { published: number, id: string }, b: { published: number, id: string }): number {
  return b.published - a.published || a.id.length - b.id.length || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)
}

function read (c: Column, raw: unknown, warn: Warn): string | number | null {
  const field = 'metric' in c.to ? c.to.metric : 'toDate' in c.to ? `toDate.${c.to.toDate}` : c.to.field
  switch (c.kind) {
    case 'count':
    case 'money': return integerValue(raw, field, warn)
    case 'time': return timeValue(raw, field, warn) ?? null
    case 'id': {
      const text = typeof raw === 'string' ? raw.trim() : ''
      return VIDEO_ID.test(text) ? text : null
    }
    case 'text': {
      const text = typeof raw === 'string' ? raw.trim() : ''
      return text === '' ? null : text
    }
  }
}

function badBill (why: string): HttpProblem {
  return new HttpProblem('UPSTREAM_BAD_RESPONSE', { detail: `Douyin's bill file cannot be read: ${why}`, upstream: { name: 'douyin', code: 'BILL_UNREADABLE' } })
}

/**
 * A parsed day, indexed: the rows' ids, publication times and Douyin ids are read from the
 * leading fields of each line; a row is parsed only when it is handed out.
 */
export class BillDay {
  readonly date: string
  readonly warnings: RowWarning[]
  readonly warningsTotal: number
  readonly size: number
  private readonly text: string
  private readonly starts: Uint32Array
  private readonly published: Float64Array
  private readonly ids: string[]
  private readonly douyinIds: string[]
  private byId: Map<string, number> | undefined

  constructor (body: Buffer) {
    this.text = body.toString('utf8')
    this.size = body.length
    let end = this.text.indexOf('\n')
    if (end < 0) end = this.text.length
    const meta = JSON.parse(this.text.slice(0, end)) as Meta
    this.date = meta.date
    this.warnings = meta.warnings
    this.warningsTotal = meta.warningsTotal
    this.starts = new Uint32Array(meta.rows)
    this.published = new Float64Array(meta.rows)
    this.ids = new Array<string>(meta.rows)
    this.douyinIds = new Array<string>(meta.rows)
    let at = end + 1
    for (let i = 0; i < meta.rows; i++) {
      this.starts[i] = at
      const t1 = this.text.indexOf('\t', at)
      const t2 = this.text.indexOf('\t', t1 + 1)
      const t3 = this.text.indexOf('\t', t2 + 1)
      this.ids[i] = this.text.slice(at, t1)
      this.published[i] = t2 > t1 + 1 ? Number(this.text.slice(t1 + 1, t2)) : 0
      this.douyinIds[i] = this.text.slice(t2 + 1, t3)
      const nl = this.text.indexOf('\n', t3)
      at = nl < 0 ? this.text.length : nl + 1
    }
  }

  get rows (): number { return this.ids.length }

  /** The rows published within [from, to] (unix seconds), of this author when given; newest first. */
  select (from: number, to: number, douyinId?: string): number[] {
    const out: number[] = []
    for (let i = 0; i < this.ids.length; i++) {
      const p = this.published[i]!
      if (p >= from && p <= to && (douyinId === undefined || this.douyinIds[i] === douyinId)) out.push(i)
    }
    return out
  }

  /** The row of one video, when the day has it. */
  find (videoId: string): Work | undefined {
    if (this.byId === undefined) this.byId = new Map(this.ids.map((id, i) => [id, i]))
    const i = this.byId.get(videoId)
    return i === undefined ? undefined : this.work(i)
  }

  /** Row `i` as a Work of the one metrics shape. */
  work (i: number): Work {
    const start = this.starts[i]!
    let tab = start
    for (let n = 0; n < 3; n++) tab = this.text.indexOf('\t', tab) + 1
    const nl = this.text.indexOf('\n', tab)
    const tuple = JSON.parse(this.text.slice(tab, nl < 0 ? undefined : nl)) as unknown[]
    const metrics = emptyMetrics()
    const toDate = emptyToDate()
    const fields: Record<string, string | number | null> = {}
    BILL_COLUMNS.forEach((c, k) => {
      const v = tuple[k] as string | number | null
      if ('metric' in c.to) metrics[c.to.metric] = v as number | null
      else if ('toDate' in c.to) toDate[c.to.toDate] = v as number | null
      else fields[c.to.field] = v
    })
    const extra: Record<string, unknown> = { ...(tuple[BILL_COLUMNS.length] || {}) as Record<string, unknown> }
    if (fields.appId !== null) extra.appId = fields.appId
    if (fields.agentId !== null) extra.agentId = fields.agentId
    if (typeof fields.billingEndsAt === 'number') extra.billingEndsAt = new Date(fields.billingEndsAt * 1000).toISOString()
    if (typeof fields.billDate === 'string' && fields.billDate !== this.date) extra.billDate = fields.billDate
    const work: Work = {
      source: 'douyin_taskbox',
      platform: 'douyin',
      workId: this.ids[i]!,
      date: this.date,
      contentType: 'video',
      metrics,
      toDate,
      currency: 'CNY',
      extra
    }
    if (typeof fields.publishedAt === 'number') work.publishedAt = new Date(fields.publishedAt * 1000).toISOString()
    if (typeof fields.douyinId === 'string') work.author = { platformUid: fields.douyinId }
    if (typeof fields.taskId === 'string') work.task = { id: fields.taskId }
    return work
  }
}
