/**
 * The Douyin taskbox reads. A request becomes a plan of upstream queries (billing date x publish
 * window x filters); each query is read through the cache on its own key, so overlapping requests
 * and the merged view share entries (a new day costs one new call); a miss charges the caller's
 * budget per upstream page and asks the limiter before every HTTP attempt, retries included.
 * Whole answers are cached too, so a repeated request is a hit with no JSON work. Every body is
 * checked against its schema before it is stored.
 */
import pLimit from 'p-limit'
import { cacheKey, type CachePolicy, type CacheResult, type ReadThrough } from '../cache/cache.js'
import type { Entry } from '../cache/entry.js'
import { HttpProblem, invalid } from '../errors.js'
import { byteLru } from '../cache/memory-store.js'
import { addDays, beijingDate, beijingEnd, beijingStart } from '../schemas/dates.js'
import { DailyBodySchema, QueryResultSchema, type ApiUsed, type DailyBody, type QueryResult, type RowWarning } from '../schemas/douyin.js'
import { ENGAGEMENT_FIELDS, METRIC_NAMES, emptyMetrics, type Metrics, type Page, type Work } from '../schemas/metrics.js'
import type { DouyinClient, TaskVideosQuery } from '../upstream/douyin/client.js'
import type { BillDay } from '../upstream/douyin/bill-csv.js'
import { Warnings } from '../upstream/douyin/values.js'
import type { BillDays, BillOutcome, DouyinSource } from './douyin-bill.js'
import { LIMITS, planDaily, type DailyParams, type DailyPlan, type UpstreamQuery } from '../upstream/douyin/params.js'
import type { Admission, UpstreamLimiter } from '../upstream/limiter/types.js'
import { CachedRead, bodyCheck, problemOf, type Log, type PolicyName, type Read, type ReadContext } from './read.js'
import { traced } from '../tracing.js'

/** Upstream queries (or billing dates) run side by side at most this many at a time (the limiter paces them anyway). */
const QUERY_CONCURRENCY = 4
/** Time kept after admission for the call itself (at most a quarter of what is left). */
const CALL_BUDGET_MS = 1000
/** Rows per Douyin page when looking for one video: pages are walked until its row or a short page. */
export const VIDEO_PAGE_SIZE = 1000
const DOUYIN_VIDEO_ID = /^\d{1,20}$/
/** True for what can be a Douyin video id: digits (19 today), compared as an exact string. */
export const isVideoId = (workId: string): boolean => DOUYIN_VIDEO_ID.test(workId)

export const NOT_A_VIDEO = 'The work id is not a Douyin video id (digits)'

export interface DouyinReadsOptions {
  cache: ReadThrough
  client: DouyinClient
  /** Most rows one request may pull (DOUYIN_MAX_ROWS). */
  maxRows: number
  /** The shared Douyin ceiling: asked before every HTTP attempt. */
  limiter: UpstreamLimiter
  policies: Record<PolicyName, CachePolicy>
  log: Log
  /** DOUYIN_SOURCE: the bill file per date, the daily API, or the bill with the daily API standing in. */
  source: DouyinSource
  bill: BillDays
  /** Counted for /metrics: values that were no integer (the answers' warnings). */
  countWarnings: (n: number) => void
}

/** One video's rows per billing date, for the merged view. */
export interface VideoDaysRequest {
  workId: string
  /** ISO 8601: when the video was published (the caller's hint); the daily API needs it, the bill does not. */
  publishedAt?: string | undefined
  /** Beijing dates of the view, oldest first. */
  dates: string[]
  douyinId?: string | undefined
  /** Beijing date of the request. */
  today: string
}

export type VideoDays =
  | { status: 'skipped', reason: string }
  | {
    status: 'ok'
    rows: Map<string, Work>
    entries: Array<[string, CacheResult]>
    /** Which APIs answered: `bill`, `daily` or both; with why the daily API stood in. */
    api: string
    note?: string
    /** The video as query_task_video_data describes it (title, link, author, task; totals to date), when found. */
    described?: Work
  }

export class DouyinReads {
  private readonly checkDaily: (body: DailyBody, requestId: string) => Buffer
  private readonly checkQuery: (body: QueryResult, requestId: string) => Buffer
  /** One video's row in a cached page, by the page's validator: each page searched once per content. */
  private readonly rowsFound = byteLru<{ row: Work | undefined, full: boolean }>(8 * 1024 * 1024, v => (v.row ? 2048 : 16))

  constructor (private readonly opts: DouyinReadsOptions) {
    this.checkDaily = bodyCheck(DailyBodySchema, 'Douyin daily data', opts.log)
    this.checkQuery = bodyCheck(QueryResultSchema, 'Douyin query result', opts.log)
  }

  /**
   * `GET /v1/douyin/task-videos/daily`: the parameters are checked against every Douyin limit
   * first (a 400 before any call), then the whole answer is one cached read made of per-query
   * reads. The key holds today's Beijing date: it is this URL's key until the next midnight.
   */
  daily (params: DailyParams, now = Date.now()): Read {
    const plan = planDaily(params, now)
    if (this.opts.source === 'bill' && params.agencyClientKey !== undefined) {
      throw invalid('agencyClientKey', 'needs the daily API (DOUYIN_SOURCE=auto or daily): the bill file has no agency column')
    }
    if (!plan.all && plan.queries.length * plan.pageSize > this.opts.maxRows) {
      throw this.tooLarge(`${plan.queries.length} upstream queries x pageSize ${plan.pageSize} could pull more than ${this.opts.maxRows} rows: lower pageSize or narrow the range`)
    }
    const today = beijingDate(now)
    const dates = [plan.queries[0]?.billing_date ?? today, plan.queries.at(-1)?.billing_date ?? today]
    const policy = douyinPolicy(this.opts.policies, dates, today)
    const key = cacheKey(policy, this.opts.client.fingerprint, { ...params, scope: 'answer', today, source: this.opts.source })
    return new CachedRead(this.opts.cache, key, policy, ctx => this.fillDaily(plan, today, ctx), beijingStart(addDays(today, 1)) * 1000)
  }

  private async fillDaily (plan: DailyPlan, today: string, ctx: ReadContext): Promise<Buffer> {
    const budget = { rows: this.opts.maxRows }
    // The agency filter exists in the daily API only: with it, no bill.
    const bill = this.opts.source !== 'daily' && plan.queries.every(q => q.agency_client_key === undefined)
    const days = new Map<string, Promise<BillOutcome>>()
    const apis = new Map<string, ApiUsed>()
    const results = await allLimited(plan.queries, async q => {
      const date = q.billing_date
      if (bill) {
        let outcome = days.get(date)
        if (outcome === undefined) days.set(date, outcome = this.opts.bill.day(date, today, ctx, fill => this.admission(fill), this.opts.source))
        const b = await outcome
        if (b.kind === 'day') {
          apis.set(date, { date, api: 'bill' })
          return this.fromBill(b.day, q, plan, budget)
        }
        if (b.kind === 'none' && this.opts.source === 'bill') {
          apis.set(date, { date, api: 'bill', note: b.reason })
          return { items: [], full: false }
        }
        apis.set(date, { date, api: 'daily', note: `${b.reason}: the daily API stood in` })
      } else apis.set(date, { date, api: 'daily' })
      return this.query(q, plan, today, ctx, budget)
    })
    // Merge: a video appears once per day, whichever window or page brought it first.
    const seen = new Set<string>()
    const items: Work[] = []
    const warnings = new Warnings()
    for (const r of results) {
      for (const w of r.items) {
        const id = `${w.workId}|${w.date}`
        if (seen.has(id)) continue
        seen.add(id)
        items.push(w)
      }
      warnings.addAll(r.warnings)
    }
    const page: Page = plan.all
      ? { mode: 'none', hasNext: false, hasPrevious: false, pageSize: plan.pageSize }
      : { mode: 'page', hasNext: results.some(r => r.full), hasPrevious: plan.page > 1, page: plan.page, pageSize: plan.pageSize }
    const body: DailyBody = { items, page, totals: sumMetrics(items), currency: 'CNY', apis: [...apis.values()].sort((a, b) => (a.date < b.date ? -1 : 1)), warnings: warnings.list }
    return this.checkDaily(body, ctx.requestId)
  }

  /** One query served from a billing date's bill: its window and author, then its page (or all of it). */
  private fromBill (day: BillDay, q: UpstreamQuery, plan: Pick<DailyPlan, 'all' | 'page' | 'pageSize'>, budget: RowBudget): QueryResult {
    const rows = day.select(q.video_publish_start_time, q.video_publish_end_time, q.douyin_id)
    let chosen: number[]
    if (plan.all) {
      if (rows.length > budget.rows) throw this.tooLarge(`all=true matches ${rows.length} rows of the ${day.date} bill and more before it: more than ${this.opts.maxRows} rows; page through with page/pageSize, or narrow the range`)
      budget.rows -= rows.length
      chosen = rows
    } else {
      chosen = rows.slice((plan.page - 1) * plan.pageSize, plan.page * plan.pageSize)
    }
    const items = chosen.map(i => day.work(i))
    return { items, full: !plan.all && rows.length > plan.page * plan.pageSize, warnings: warningsOf(day, items) }
  }

  /** One upstream query (one page, or every page with all=true) through its own cache entry. */
  private async query (q: UpstreamQuery, plan: Pick<DailyPlan, 'all' | 'page' | 'pageSize'>, today: string, ctx: ReadContext, budget: RowBudget): Promise<QueryResult> {
    const { entry } = await this.queryRead(q, plan, today, budget).get(ctx)
    if (entry.status !== 200) throw problemOf(entry)
    return JSON.parse(entry.body.toString('utf8')) as QueryResult
  }

  /**
   * The read of one upstream query: its key is everything the query sends, and its paging. A fill
   * spends the request's row budget (`budget`, shared by its queries) as pages arrive.
   */
  private queryRead (q: UpstreamQuery, plan: Pick<DailyPlan, 'all' | 'page' | 'pageSize'>, today: string, budget: RowBudget): Read {
    const policy = douyinPolicy(this.opts.policies, [q.billing_date], today)
    const key = cacheKey(policy, this.opts.client.fingerprint, { scope: 'query', ...q, page: plan.all ? 'all' : plan.page, pageSize: plan.pageSize })
    return new CachedRead(this.opts.cache, key, policy, async ctx => this.checkQuery(await this.load(q, plan, ctx, budget), ctx.requestId))
  }

  /**
   * The upstream pages of one query: its one page, or (all=true) every page until a short one, as
   * background work. Each page charges the caller first; each HTTP attempt asks the limiter.
   */
  private async load (q: UpstreamQuery, plan: Pick<DailyPlan, 'all' | 'page' | 'pageSize'>, ctx: ReadContext, budget: RowBudget): Promise<QueryResult> {
    const { client } = this.opts
    const warnings = new Warnings(this.opts.countWarnings)
    if (!plan.all) {
      await ctx.charge()
      const items = await client.dailyPage(q, plan.page, plan.pageSize, ctx, this.admission(ctx), warnings)
      return { items, full: items.length >= plan.pageSize, warnings: warnings.list }
    }
    const walk: ReadContext = { ...ctx, priority: 'background' }
    const admission = this.admission(walk)
    const items: Work[] = []
    for (let page = 1; ; page++) {
      // The next page could be full: not asked for when it would not fit the request's rows.
      if (budget.rows < plan.pageSize) {
        throw this.tooLarge(`all=true walked ${page - 1} pages of ${plan.pageSize} rows and more follow: more than ${this.opts.maxRows} rows; page through with page/pageSize, or narrow the range`)
      }
      await ctx.charge()
      const rows = await client.dailyPage(q, page, plan.pageSize, walk, admission, warnings)
      budget.rows -= rows.length
      for (const row of rows) items.push(row)
      if (rows.length < plan.pageSize) return { items, full: false, warnings: warnings.list }
    }
  }

  private tooLarge (detail: string): HttpProblem {
    return new HttpProblem('RESULT_TOO_LARGE', { detail, errors: [{ in: 'querystring', field: 'all', message: `at most ${this.opts.maxRows} rows per request (DOUYIN_MAX_ROWS)` }] })
  }

  /**
   * How a call for `ctx` asks the shared ceiling: its first attempt at the request's priority,
   * every retry again as background work; a slot is only worth taking with time left for the
   * call itself (one taken at the deadline would spend Douyin's budget on an answer nobody waits for).
   */
  private admission (ctx: ReadContext): Admission {
    const { limiter } = this.opts
    return {
      admit: async (retry, tailMs) => {
        const callBudget = Math.min(CALL_BUDGET_MS, (ctx.deadline - Date.now()) / 4)
        const priority = retry ? 'background' : ctx.priority ?? 'interactive'
        await traced('douyin.limiter.wait', { 'limiter.priority': priority, 'limiter.retry': retry }, () =>
          limiter.acquire({ deadline: ctx.deadline - callBudget, priority, ...(tailMs ? { tailMs } : {}) }))
      },
      cooldown: async ms => { await limiter.cooldown(ms) }
    }
  }

  /**
   * One video's rows per billing date (the merged view). From the bill (DOUYIN_SOURCE auto or
   * bill): each date's bill, the row found by exact id; no publication time needed. From the daily
   * API (DOUYIN_SOURCE=daily, or standing in for dates without a bill in auto): queries with the
   * Beijing day of publication as the window. Nothing new starts once `stopped()` (the view's
   * deadline); the reads already running finish and fill the cache for the next call.
   */
  async videoDays (v: VideoDaysRequest, ctx: ReadContext, stopped: () => boolean): Promise<VideoDays> {
    if (!isVideoId(v.workId)) return { status: 'skipped', reason: NOT_A_VIDEO }
    const rows = new Map<string, Work>()
    const entries: Array<[string, CacheResult]> = []
    let daily = v.dates
    let note: string | undefined
    let fromBill = false
    if (this.opts.source !== 'daily') {
      const outcomes = await allLimited(v.dates, async date => (stopped() ? undefined : await this.opts.bill.day(date, v.today, ctx, fill => this.admission(fill), this.opts.source)))
      daily = []
      v.dates.forEach((date, i) => {
        const b = outcomes[i]
        if (b === undefined) return
        if (b.kind !== 'unavailable') entries.push([`b:${date}`, b.result])
        if (b.kind === 'day') {
          fromBill = true
          const row = b.day.find(v.workId)
          if (row) rows.set(date, row)
        } else if (this.opts.source === 'auto') {
          daily.push(date)
          note ??= `${b.reason}: the daily API stood in for ${b.kind === 'unavailable' ? 'every date' : 'dates without a bill'}`
        }
      })
    }
    // The daily API needs the publication time: the caller's, or the bill's.
    const publishedAt = v.publishedAt ?? [...rows.values()].find(r => r.publishedAt !== undefined)?.publishedAt
    if (daily.length > 0 && publishedAt === undefined && !fromBill) {
      throw new HttpProblem('VALIDATION_FAILED', {
        detail: 'The Douyin daily API needs the video\'s publication time: pass publishedAt (AiToEarn has no douyin analytics to tell it; the bill, which needs none, was not available)',
        errors: [{ in: 'querystring', field: 'publishedAt', message: 'is required when the Douyin bill is not used' }]
      })
    }
    let fromDaily = false
    if (daily.length > 0 && publishedAt !== undefined) {
      const skipped = await this.videoDaysFromDaily(v, publishedAt, daily, ctx, stopped, rows, entries)
      if (skipped !== undefined && !fromBill) return { status: 'skipped', reason: skipped }
      fromDaily = skipped === undefined
    }
    if (rows.size === 0 && fromBill && !fromDaily) return { status: 'skipped', reason: 'The video is in none of Douyin\'s bills of these dates (published later, or no taskbox video)' }
    const api = fromBill && fromDaily ? 'bill+daily' : fromBill ? 'bill' : 'daily'
    const described = fromBill ? await this.described(v.workId, rows, ctx, entries) : undefined
    return { status: 'ok', rows, entries, api, ...(note !== undefined ? { note } : {}), ...(described ? { described } : {}) }
  }

  /** The daily API's rows of one video on `dates`; a reason when none can be asked for. */
  private async videoDaysFromDaily (v: VideoDaysRequest, publishedAt: string, dates: string[], ctx: ReadContext, stopped: () => boolean, rows: Map<string, Work>, entries: Array<[string, CacheResult]>): Promise<string | undefined> {
    const published = Math.floor(Date.parse(publishedAt) / 1000)
    const day = beijingDate(published * 1000)
    const earliest = Math.floor(Date.now() / 1000) - LIMITS.maxAgeSeconds + LIMITS.ageMarginSeconds
    // The whole Beijing day of publication, so the key stays the same all along; when that day
    // starts beyond Douyin's 90 days, the publication second itself (as stable).
    const start = beijingStart(day) >= earliest ? beijingStart(day) : published
    if (start < earliest) return `Published ${day} (Beijing), more than 90 days ago: Douyin's daily API serves videos published in the last 90 days only`
    const asked = dates.filter(d => d >= day)
    if (asked.length === 0) return `The dates end before the video was published (${day}, Beijing)`
    const window = {
      video_publish_start_time: start,
      video_publish_end_time: beijingEnd(day),
      ...(v.douyinId !== undefined ? { douyin_id: v.douyinId } : {})
    }
    await allLimited(asked, async date => {
      const q: UpstreamQuery = { billing_date: date, ...window }
      // Pages of one date are searched one at a time (each its own cache entry, so nothing piles
      // up in memory); an endless listing still ends after DOUYIN_MAX_ROWS rows.
      const budget = { rows: this.opts.maxRows }
      for (let page = 1; !stopped(); page++) {
        if (budget.rows < VIDEO_PAGE_SIZE) throw this.tooLarge(`Looking for the video on ${date} took more than ${this.opts.maxRows} Douyin rows; pass douyinId to narrow the queries`)
        budget.rows -= VIDEO_PAGE_SIZE
        const result = await this.queryRead(q, { all: false, page, pageSize: VIDEO_PAGE_SIZE }, v.today, budget).get(ctx)
        entries.push([`d:${date}:${page}`, result])
        if (result.entry.status !== 200) throw problemOf(result.entry)
        const found = this.findRow(result.entry, v.workId)
        if (found.row) rows.set(date, found.row)
        if (found.row || !found.full) return
      }
    })
    return undefined
  }

  /**
   * What the bill does not say of a video (title, link, author, task name), and its totals to
   * date: query_task_video_data for its task and Beijing day of publication, one call (pages of
   * VIDEO_PAGE_SIZE until the row), cached. Undefined when the rows name no task or time, or the
   * call fails (the view stands without it; the failure is logged).
   */
  private async described (workId: string, rows: Map<string, Work>, ctx: ReadContext, entries: Array<[string, CacheResult]>): Promise<Work | undefined> {
    const latest = [...rows.values()].at(-1)
    const taskId = latest?.task?.id
    if (taskId === undefined || latest?.publishedAt === undefined) return undefined
    const day = beijingDate(Date.parse(latest.publishedAt))
    const q: TaskVideosQuery = { task_ids: [taskId], video_publish_start_time: beijingStart(day), video_publish_end_time: beijingEnd(day) }
    try {
      for (let page = 1; page <= 20; page++) {
        const result = await this.taskVideosRead(q, page, VIDEO_PAGE_SIZE).get(ctx)
        entries.push([`t:${taskId}:${page}`, result])
        if (result.entry.status !== 200) return undefined
        const found = this.findRow(result.entry, workId)
        if (found.row || !found.full) return found.row
      }
    } catch (err) {
      if (!(err instanceof HttpProblem)) throw err
      this.opts.log.warn({ reqId: ctx.requestId, code: err.code, upstreamCode: err.upstream?.code }, 'Douyin task video totals failed; the view goes without the video\'s title and totals')
    }
    return undefined
  }

  /** One page of query_task_video_data through its cache entry (totals move: the recent policy). */
  private taskVideosRead (q: TaskVideosQuery, page: number, pageSize: number): Read {
    const policy = this.opts.policies.douyinRecent
    const key = cacheKey(policy, this.opts.client.fingerprint, { scope: 'taskVideos', tasks: q.task_ids.join(','), from: q.video_publish_start_time, to: q.video_publish_end_time, page, pageSize })
    return new CachedRead(this.opts.cache, key, policy, async ctx => {
      await ctx.charge()
      const warnings = new Warnings(this.opts.countWarnings)
      const items = await this.opts.client.taskVideosPage(q, page, pageSize, ctx, this.admission(ctx), warnings)
      return this.checkQuery({ items, full: items.length >= pageSize, warnings: warnings.list }, ctx.requestId)
    })
  }

  /** This video's row in a cached page (exact id string), and whether the page was full. */
  private findRow (entry: Entry, workId: string): { row: Work | undefined, full: boolean } {
    const key = `${entry.etag}|${workId}`
    let found = this.rowsFound.get(key)
    if (found === undefined) {
      const result = JSON.parse(entry.body.toString('utf8')) as QueryResult
      found = { row: result.items.find(w => w.workId === workId), full: result.full }
      this.rowsFound.set(key, found)
    }
    return found
  }
}

/** Douyin data settles: billing dates at least 3 days old (Beijing) change no more. */
export const SETTLED_AFTER_DAYS = 3

/** The policy of Douyin data for these billing dates: settled only when every date is. */
export function douyinPolicy (policies: Record<PolicyName, CachePolicy>, billingDates: string[], todayBeijing: string): CachePolicy {
  const settledUntil = new Date(Date.parse(`${todayBeijing}T00:00:00Z`) - SETTLED_AFTER_DAYS * 86_400_000).toISOString().slice(0, 10)
  return billingDates.every(d => d <= settledUntil) ? policies.douyinSettled : policies.douyinRecent
}

/** Rows a request may still pull, shared by its queries. */
interface RowBudget { rows: number }

const ENGAGEMENT = new Set(Object.keys(ENGAGEMENT_FIELDS))

/**
 * Totals of the items; null where no item reports a metric (never a 0 for "unknown"). Money is
 * summed over every item (day values); engagement, which Douyin counts cumulatively, over the
 * videos, each at its latest date (summing one video's running totals over days would count it again).
 */
export function sumMetrics (items: Work[]): Metrics {
  const totals = emptyMetrics()
  const latest = new Map<string, Work>()
  for (const w of items) {
    const m = w.metrics
    for (const name of METRIC_NAMES) {
      const v = m[name]
      if (v !== null && !ENGAGEMENT.has(name)) totals[name] = (totals[name] ?? 0) + v
    }
    const seen = latest.get(w.workId)
    if (seen === undefined || (w.date ?? '') > (seen.date ?? '')) latest.set(w.workId, w)
  }
  for (const w of latest.values()) {
    for (const name of ENGAGEMENT) {
      const v = w.metrics[name as keyof Metrics]
      if (v !== null) totals[name as keyof Metrics] = (totals[name as keyof Metrics] ?? 0) + v
    }
  }
  return totals
}

/** The warnings of a bill day about these rows. */
function warningsOf (day: BillDay, items: Work[]): RowWarning[] {
  if (day.warnings.length === 0) return []
  const ids = new Set(items.map(w => w.workId))
  return day.warnings.filter(w => ids.has(w.workId))
}

/**
 * `fn` over `items`, QUERY_CONCURRENCY at a time, results in input order. The first failure fails
 * all and nothing queued starts after it: no upstream call for an answer already lost.
 */
async function allLimited<T, R> (items: T[], fn: (item: T) => Promise<R>): Promise<R[]> {
  const limit = pLimit({ concurrency: QUERY_CONCURRENCY, rejectOnClear: true })
  try {
    return await Promise.all(items.map(item => limit(() => fn(item))))
  } catch (err) {
    limit.clearQueue()
    throw err
  }
}
