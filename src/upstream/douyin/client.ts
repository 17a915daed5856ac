import type { Redis } from 'ioredis'
import type { FastifyBaseLogger } from 'fastify'
import { Cache } from '../../cache/cache.js'
import { HttpProblem } from '../../errors.js'
import { METRIC_NAMES, emptyMetrics, type Metrics, type Page, type Work } from '../../schemas/metrics.js'
import { UpstreamHttp, backoffMs, sample, waitWithin } from '../http.js'
import type { Priority, UpstreamLimiter } from '../limiter/types.js'
import { QueueingLimiter, type LimiterStats } from '../limiter/queue.js'
import { ERR, QUOTA_PAUSE_S, RISK_PAUSE_S, actionFor, problemFor } from './errors.js'
import { planDaily, type DailyParams, type DailyPlan, type UpstreamQuery } from './params.js'
import { EnvelopeCheck, foldRow, parseLossless, toWork, type Envelope } from './rows.js'
import { SharedToken, StaticToken, type TokenSource, type TokenStats } from './token.js'

export const DAILY_DATA_PATH = '/api/match/v2/taskbox/query_task_video_daily_data/'

/** What a call needs from the request, and nothing else (the cache layer calls it too). */
export interface CallContext {
  requestId: string
  /** Epoch ms by which the whole call, queueing and retries included, must be over. */
  deadline: number
  acceptLanguage?: string
  /** `background`: cache refreshes and page walks, which yield to interactive single pages. */
  priority?: Priority
}

/** What one upstream query (one page, or a walk of every page) gave. */
export interface UnitResult {
  items: Work[]
  /** The (last) page was full: more pages may follow. */
  full: boolean
}

/**
 * Runs one upstream query: the default calls `load` at once; the cache layer wraps it so that each
 * query (billing date, window, filters, page) is cached on its own.
 */
export type UnitRunner = (q: UpstreamQuery, plan: DailyPlan, load: (ctx: CallContext) => Promise<UnitResult>) => Promise<UnitResult>

export interface DailyBody {
  items: Work[]
  page: Page
  totals: Metrics
  currency: 'CNY'
}

export interface DouyinClientOptions {
  baseUrl: string
  clientKey?: string | undefined
  clientSecret?: string | undefined
  accessToken?: string | undefined
  qps: number
  sandbox: boolean
  timeoutMs: number
  requestDeadlineMs: number
  redis: Redis | null
  log: FastifyBaseLogger
  /** The admission control (the shared Douyin ceiling). */
  limiter: UpstreamLimiter
}

/** Upstream queries run side by side at most this many at a time (the limiter paces them anyway). */
const QUERY_CONCURRENCY = 4
const MAX_ATTEMPTS = 4
/** Time kept after admission for the call itself (at most a quarter of what is left). */
const CALL_BUDGET_MS = 1000

/**
 * The Douyin open platform's taskbox daily video data, in the one metrics shape. Checks every
 * parameter before any call, splits long publish windows, walks pages, de-duplicates, parses ids
 * losslessly, maps err_no to problems, and goes through the rate limiter and the shared token.
 */
export class DouyinClient {
  readonly sandbox: boolean
  readonly requestDeadlineMs: number
  /** Part of every cache key: another app's data is other data (a hash, never the credential). */
  readonly credentialFingerprint: string
  /**
   * Asked before each query that missed the cache (the caller-budget plugin sets it); throws to
   * refuse. Not asked for background work (refreshes), which no caller waits for.
   */
  admitUncached: ((ctx: CallContext) => Promise<void>) | undefined
  private readonly http: UpstreamHttp
  private readonly tokens: TokenSource | undefined
  private readonly limiter: UpstreamLimiter
  private readonly log: FastifyBaseLogger
  /** After "quota used up": no call before this (epoch ms). */
  private pausedUntil = 0

  constructor (opts: DouyinClientOptions) {
    this.sandbox = opts.sandbox
    this.requestDeadlineMs = opts.requestDeadlineMs
    this.credentialFingerprint = Cache.fingerprint(`${opts.baseUrl}|${opts.clientKey ?? ''}|${opts.accessToken ?? ''}`)
    this.log = opts.log
    this.http = new UpstreamHttp('douyin', opts.baseUrl, { timeoutMs: opts.timeoutMs, maxBodyBytes: 32 * 1024 * 1024 })
    this.limiter = opts.limiter
    if (opts.accessToken) this.tokens = new StaticToken(opts.accessToken)
    else if (opts.clientKey && opts.clientSecret) {
      this.tokens = new SharedToken({
        http: this.http,
        clientKey: opts.clientKey,
        clientSecret: opts.clientSecret,
        redis: opts.redis,
        log: opts.log,
        timeoutMs: opts.timeoutMs
      })
    }
  }

  /** GET /v1/douyin/task-videos/daily: params in, response body out. */
  async dailyVideoData (params: DailyParams, ctx: CallContext, runUnit?: UnitRunner): Promise<DailyBody> {
    const plan = planDaily(params, Date.now())
    const results = await mapLimit(plan.queries, QUERY_CONCURRENCY, q => {
      const load = (c: CallContext) => this.unit(q, plan, c)
      return runUnit ? runUnit(q, plan, load) : load(ctx)
    })

    // Merge: a video appears once per day, whichever window or page brought it first.
    const seen = new Set<string>()
    const items: Work[] = []
    for (const r of results) {
      for (const w of r.items) {
        const key = `${w.workId}|${w.date}`
        if (seen.has(key)) continue
        seen.add(key)
        items.push(w)
      }
    }
    const page: Page = plan.all
      ? { mode: 'none', hasNext: false, hasPrevious: false, pageSize: plan.pageSize }
      : { mode: 'page', hasNext: results.some(r => r.full), hasPrevious: plan.page > 1, page: plan.page, pageSize: plan.pageSize }
    return { items, page, totals: sumMetrics(items), currency: 'CNY' }
  }

  /** One upstream query: its one page, or (all=true) every page until a short one, as background work. */
  async unit (q: UpstreamQuery, plan: DailyPlan, ctx: CallContext): Promise<UnitResult> {
    if (this.admitUncached && ctx.priority !== 'background') await this.admitUncached(ctx)
    if (!plan.all) {
      const items = await this.page(q, plan.page, plan.pageSize, ctx)
      return { items, full: items.length >= plan.pageSize }
    }
    const walk: CallContext = { ...ctx, priority: 'background' }
    const items: Work[] = []
    for (let page = 1; ; page++) {
      const rows = await this.page(q, page, plan.pageSize, walk)
      items.push(...rows)
      if (rows.length < plan.pageSize) return { items, full: false }
    }
  }

  /** One page of one query, as Works. */
  private async page (q: UpstreamQuery, page: number, pageSize: number, ctx: CallContext): Promise<Work[]> {
    const env = await this.call({ ...q, page_num: page, page_size: pageSize }, ctx)
    const list = env.data?.video_daily_data_list ?? []
    const works: Work[] = []
    for (const raw of list) {
      const folded = foldRow(raw)
      if (!folded) {
        this.log.warn({ reqId: ctx.requestId, sample: sample(JSON.stringify(raw), 300) }, 'Douyin sent a row of an unexpected shape')
        throw new HttpProblem('UPSTREAM_BAD_RESPONSE', {
          detail: 'Douyin sent a taskbox row of an unexpected shape',
          upstream: { name: 'douyin', ...(env.log_id ? { requestId: env.log_id } : {}) }
        })
      }
      works.push(toWork(folded.row, folded.extra, q.billing_date))
    }
    return works
  }

  /** One taskbox call: token, limiter, err_no handling with retries within the deadline. */
  private async call (body: UpstreamQuery & { page_num: number, page_size: number }, ctx: CallContext): Promise<Envelope> {
    if (!this.tokens) {
      throw new HttpProblem('UPSTREAM_AUTH', {
        detail: 'Douyin credentials are not configured: set DOUYIN_CLIENT_KEY and DOUYIN_CLIENT_SECRET, or DOUYIN_ACCESS_TOKEN',
        upstream: { name: 'douyin' }
      })
    }
    const text = JSON.stringify(body)
    let renewed = false
    for (let attempt = 0; ; attempt++) {
      if (Date.now() < this.pausedUntil) {
        throw new HttpProblem('UPSTREAM_QUOTA_EXHAUSTED', {
          detail: 'The Douyin app has used up its quota for this API; calls are paused',
          upstream: { name: 'douyin', code: ERR.QUOTA_USED_UP },
          retryAfter: Math.ceil((this.pausedUntil - Date.now()) / 1000)
        })
      }
      const token = await this.tokens.get(ctx.deadline)
      // A slot is only worth taking with time left for the call itself: one taken at the deadline
      // would spend Douyin's budget on an answer nobody waits for.
      const callBudget = Math.min(CALL_BUDGET_MS, (ctx.deadline - Date.now()) / 4)
      await this.limiter.acquire({ deadline: ctx.deadline - callBudget, priority: ctx.priority ?? 'interactive' })
      const res = await this.http.request({
        method: 'POST',
        path: DAILY_DATA_PATH,
        headers: { 'content-type': 'application/json', 'access-token': token, 'x-request-id': ctx.requestId },
        body: text,
        deadline: ctx.deadline,
        retry: true
      })
      const env = this.envelope(res.status, res.body, ctx)
      const says = { errNo: env.err_no, errMsg: env.err_msg ?? '', logId: env.log_id ?? undefined }
      const last = attempt + 1 >= MAX_ATTEMPTS
      switch (actionFor(env.err_no)) {
        case 'ok':
          return env
        case 'renew-token':
          if (!this.tokens.renewable) {
            throw new HttpProblem('UPSTREAM_AUTH', {
              detail: 'Douyin refused the configured DOUYIN_ACCESS_TOKEN (expired or invalid); set a fresh one, or DOUYIN_CLIENT_KEY and DOUYIN_CLIENT_SECRET',
              upstream: problemFor(says).upstream
            })
          }
          if (renewed) throw problemFor(says)
          renewed = true
          await this.tokens.renew(token, ctx.deadline)
          continue
        case 'retry':
          if (last || !(await waitWithin(backoffMs(attempt, 200, 2000), ctx.deadline))) throw problemFor(says)
          continue
        case 'slow-down':
          // Should not happen behind the limiter (another app sharing the key, clock skew): pause
          // everyone here for a second; the next acquire waits for it or gives up at the deadline.
          this.log.warn({ reqId: ctx.requestId, errNo: env.err_no, logId: says.logId }, 'Douyin rate limit hit despite the limiter; cooling down')
          await this.limiter.cooldown(1000 + Math.round(Math.random() * 200))
          if (last) throw problemFor(says)
          continue
        case 'fail':
          if (env.err_no === ERR.QUOTA_USED_UP) this.pausedUntil = Date.now() + QUOTA_PAUSE_S * 1000
          if (env.err_no === ERR.RISK_CONTROL) await this.limiter.cooldown(RISK_PAUSE_S * 1000)
          if (env.err_no === ERR.INVALID_PARAM || env.err_no === ERR.START_TOO_OLD || env.err_no === ERR.PAGE_TOO_LARGE) {
            this.log.warn({ reqId: ctx.requestId, errNo: env.err_no, errMsg: says.errMsg, logId: says.logId, query: body },
              'Douyin refused parameters that our validation let through')
          }
          throw problemFor(says)
      }
    }
  }

  /** The answer's envelope, parsed losslessly and checked; anything else is a 502 (429: 503). */
  private envelope (status: number, text: string, ctx: CallContext): Envelope {
    let body: unknown
    try {
      body = parseLossless(text)
    } catch {
      body = undefined
    }
    if (body !== undefined && EnvelopeCheck.Check(body)) return body
    this.log.warn({ reqId: ctx.requestId, status, sample: sample(text, 300) }, 'Douyin sent an answer of an unexpected shape')
    const upstream = { name: 'douyin', code: `HTTP_${status}`, message: sample(text, 120) }
    if (status === 429) throw new HttpProblem('UPSTREAM_RATE_LIMITED', { detail: 'Douyin answered HTTP 429', upstream, retryAfter: 1 })
    if (status !== 200) throw new HttpProblem('UPSTREAM_ERROR', { detail: `Douyin answered HTTP ${status}`, upstream })
    throw new HttpProblem('UPSTREAM_BAD_RESPONSE', {
      detail: body === undefined ? 'Douyin sent a body that is not JSON' : 'Douyin sent an answer of an unexpected shape',
      upstream
    })
  }

  /** Counters for /metrics: upstream calls by outcome, the limiter, token fetches. */
  get stats (): { http: UpstreamHttp['stats'], limiter: LimiterStats | undefined, tokens: TokenStats | undefined } {
    return {
      http: this.http.stats,
      limiter: this.limiter instanceof QueueingLimiter ? this.limiter.stats : undefined,
      tokens: this.tokens instanceof SharedToken ? this.tokens.stats : undefined
    }
  }

  async close (): Promise<void> {
    await this.limiter.close?.()
    await this.http.close()
  }
}

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

/** Runs `fn` over `list` with at most `limit` at a time, results in input order; the first failure fails all. */
async function mapLimit<T, R> (list: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(list.length)
  let next = 0
  let failed = false
  const worker = async () => {
    while (next < list.length && !failed) {
      const i = next++
      try {
        out[i] = await fn(list[i]!)
      } catch (err) {
        failed = true // the others take no new item: no upstream calls for an answer already lost
        throw err
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, list.length) }, worker))
  return out
}
