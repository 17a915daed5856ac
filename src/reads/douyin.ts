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
import { HttpProblem } from '../errors.js'
import { byteLru } from '../cache/memory-store.js'
import { addDays, beijingDate, beijingEnd, beijingStart } from '../schemas/dates.js'
import { DailyBodySchema, QueryResultSchema, type DailyBody, type QueryResult } from '../schemas/douyin.js'
import { METRIC_NAMES, emptyMetrics, type Metrics, type Page, type Work } from '../schemas/metrics.js'
import type { DouyinClient } from '../upstream/douyin/client.js'
import { LIMITS, planDaily, type DailyParams, type DailyPlan, type UpstreamQuery } from '../upstream/douyin/params.js'
import type { Admission, UpstreamLimiter } from '../upstream/limiter/types.js'
import { CachedRead, bodyCheck, problemOf, type Log, type PolicyName, type Read, type ReadContext } from './read.js'

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
}

/** One video's rows per billing date, for the merged view. */
export interface VideoDaysRequest {
  workId: string
  /** ISO 8601: when the video was published (the hint, or AiToEarn's). */
  publishedAt: string
  /** Beijing dates of the view, oldest first. */
  dates: string[]
  douyinId?: string | undefined
  /** Beijing date of the request. */
  today: string
}

export type VideoDays =
  | { status: 'skipped', reason: string }
  | { status: 'ok', rows: Map<string, Work>, entries: Array<[string, CacheResult]> }

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
    if (!plan.all && plan.queries.length * plan.pageSize > this.opts.maxRows) {
      throw this.tooLarge(`${plan.queries.length} upstream queries x pageSize ${plan.pageSize} could pull more than ${this.opts.maxRows} rows: lower pageSize or narrow the range`)
    }
    const today = beijingDate(now)
    const dates = [plan.queries[0]?.billing_date ?? today, plan.queries.at(-1)?.billing_date ?? today]
    const policy = douyinPolicy(this.opts.policies, dates, today)
    const key = cacheKey(policy, this.opts.client.fingerprint, { ...params, scope: 'answer', today })
    return new CachedRead(this.opts.cache, key, policy, ctx => this.fillDaily(plan, today, ctx), beijingStart(addDays(today, 1)) * 1000)
  }

  private async fillDaily (plan: DailyPlan, today: string, ctx: ReadContext): Promise<Buffer> {
    const budget = { rows: this.opts.maxRows }
    const results = await allLimited(plan.queries, q => this.query(q, plan, today, ctx, budget))
    // Merge: a video appears once per day, whichever window or page brought it first.
    const seen = new Set<string>()
    const items: Work[] = []
    for (const r of results) {
      for (const w of r.items) {
        const id = `${w.workId}|${w.date}`
        if (seen.has(id)) continue
        seen.add(id)
        items.push(w)
      }
    }
    const page: Page = plan.all
      ? { mode: 'none', hasNext: false, hasPrevious: false, pageSize: plan.pageSize }
      : { mode: 'page', hasNext: results.some(r => r.full), hasPrevious: plan.page > 1, page: plan.page, pageSize: plan.pageSize }
    return this.checkDaily({ items, page, totals: sumMetrics(items), currency: 'CNY' }, ctx.requestId)
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
    if (!plan.all) {
      await ctx.charge()
      const items = await client.dailyPage(q, plan.page, plan.pageSize, ctx, this.admission(ctx))
      return { items, full: items.length >= plan.pageSize }
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
      const rows = await client.dailyPage(q, page, plan.pageSize, walk, admission)
      budget.rows -= rows.length
      for (const row of rows) items.push(row)
      if (rows.length < plan.pageSize) return { items, full: false }
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
      admit: async retry => {
        const callBudget = Math.min(CALL_BUDGET_MS, (ctx.deadline - Date.now()) / 4)
        await limiter.acquire({ deadline: ctx.deadline - callBudget, priority: retry ? 'background' : ctx.priority ?? 'interactive' })
      },
      cooldown: async ms => { await limiter.cooldown(ms) }
    }
  }

  /**
   * One video's rows per billing date (the merged view): the publish window is the Beijing day of
   * publication (a stable key), rows are matched by exact VideoId string, pages are walked until
   * the row or a short page. Nothing new starts once `stopped()` (the view's deadline); the reads
   * already running finish and fill the cache for the next call.
   */
  async videoDays (v: VideoDaysRequest, ctx: ReadContext, stopped: () => boolean): Promise<VideoDays> {
    if (!isVideoId(v.workId)) return { status: 'skipped', reason: NOT_A_VIDEO }
    const published = Math.floor(Date.parse(v.publishedAt) / 1000)
    const day = beijingDate(published * 1000)
    const earliest = Math.floor(Date.now() / 1000) - LIMITS.maxAgeSeconds + LIMITS.ageMarginSeconds
    // The whole Beijing day of publication, so the key stays the same all along; when that day
    // starts beyond Douyin's 90 days, the publication second itself (as stable).
    const start = beijingStart(day) >= earliest ? beijingStart(day) : published
    if (start < earliest) return { status: 'skipped', reason: `Published ${day} (Beijing), more than 90 days ago: Douyin serves videos published in the last 90 days only` }
    const dates = v.dates.filter(d => d >= day)
    if (dates.length === 0) return { status: 'skipped', reason: `The dates end before the video was published (${day}, Beijing)` }

    const window = {
      video_publish_start_time: start,
      video_publish_end_time: beijingEnd(day),
      ...(v.douyinId !== undefined ? { douyin_id: v.douyinId } : {})
    }
    const rows = new Map<string, Work>()
    const entries: Array<[string, CacheResult]> = []
    await allLimited(dates, async date => {
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
    return { status: 'ok', rows, entries }
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

/** Sum of each metric over the items; null where no item reports it (never a 0 for "unknown"). */
export function sumMetrics (items: Work[]): Metrics {
  const totals = emptyMetrics()
  for (const w of items) {
    const m = w.metrics
    for (const name of METRIC_NAMES) {
      const v = m[name]
      if (v !== null) totals[name] = (totals[name] ?? 0) + v
    }
  }
  return totals
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
