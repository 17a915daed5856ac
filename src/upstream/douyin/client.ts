import type { Redis } from 'ioredis'
import type { FastifyBaseLogger } from 'fastify'
import { HttpProblem } from '../../errors.js'
import type { Work } from '../../schemas/metrics.js'
import type { CallContext } from '../context.js'
import { UpstreamHttp, backoffMs, fingerprint, retryAfterSeconds, sample, waitWithin } from '../http.js'
import type { Admission } from '../limiter/types.js'
import { ERR, QUOTA_PAUSE_S, RISK_PAUSE_S, actionFor, problemFor } from './errors.js'
import type { UpstreamQuery } from './params.js'
import { EnvelopeCheck, foldRow, parseLossless, toTotalsWork, toWork, type Envelope } from './rows.js'
import type { Warnings } from './values.js'
import { SharedToken, StaticToken, type TokenSource, type TokenStats } from './token.js'

export const DAILY_DATA_PATH = '/api/match/v2/taskbox/query_task_video_daily_data/'
export const BILL_LINK_PATH = '/api/match/v2/taskbox/query_bill_link/'
export const TASK_VIDEO_DATA_PATH = '/api/match/v2/taskbox/query_task_video_data/'

/** One query of query_task_video_data: a task's videos with their totals to date. */
export interface TaskVideosQuery {
  task_ids: string[]
  video_publish_start_time: number
  video_publish_end_time: number
}

export interface DouyinClientOptions {
  baseUrl: string
  clientKey?: string | undefined
  clientSecret?: string | undefined
  accessToken?: string | undefined
  timeoutMs: number
  redis: Redis | null
  log: FastifyBaseLogger
}

const MAX_ATTEMPTS = 4

/**
 * The Douyin open platform's taskbox API, one page of one query at a time: the shared token,
 * lossless ids, rows folded into the one metrics shape, err_no mapped to problems with a token
 * renewal and retries within the deadline. It sends nothing without asking the caller's
 * `Admission` first, for every HTTP attempt, retries included: the read service that owns the call
 * decides (the shared Douyin ceiling).
 */
export class DouyinClient {
  /** Part of every cache key: another app's data is other data (a hash, never the credential). */
  readonly fingerprint: string
  private readonly http: UpstreamHttp
  private readonly tokens: TokenSource | undefined
  private readonly log: FastifyBaseLogger
  /** After "quota used up": no call before this (epoch ms). */
  private pausedUntil = 0

  constructor (opts: DouyinClientOptions) {
    this.fingerprint = fingerprint(`${opts.baseUrl}|${opts.clientKey ?? ''}|${opts.accessToken ?? ''}`)
    this.log = opts.log
    this.http = new UpstreamHttp('douyin', opts.baseUrl, { timeoutMs: opts.timeoutMs, maxBodyBytes: 32 * 1024 * 1024, log: opts.log })
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

  /** One page of one query of the daily data, as Works (one per row); odd values go to `warnings`. */
  async dailyPage (q: UpstreamQuery, page: number, pageSize: number, ctx: CallContext, admission: Admission, warnings?: Warnings): Promise<Work[]> {
    const env = await this.call(DAILY_DATA_PATH, { ...q, page_num: page, page_size: pageSize }, ctx, admission)
    return this.rows(env, 'video_daily_data_list', ctx).map(({ row, extra }) => toWork(row, extra, q.billing_date, warnings))
  }

  /**
   * The link of one billing date's bill file, or undefined when Douyin has none for that date
   * (an empty link, or 28001007 for a date we checked: not generated yet, or out of its range).
   */
  async billLink (billDate: string, ctx: CallContext, admission: Admission): Promise<string | undefined> {
    let env: Envelope
    try {
      env = await this.call(BILL_LINK_PATH, { bill_date: billDate }, ctx, admission)
    } catch (err) {
      if (err instanceof HttpProblem && err.upstream?.code === ERR.INVALID_PARAM) return undefined
      throw err
    }
    const link = env.data?.bill_link
    if (link === undefined || link === null || link === '') return undefined
    if (typeof link !== 'string') throw this.badShape(env, ctx, 'a bill link that is not text')
    return link
  }

  /** One page of a task's videos with their totals to date (engagement, money, descriptions). */
  async taskVideosPage (q: TaskVideosQuery, page: number, pageSize: number, ctx: CallContext, admission: Admission, warnings?: Warnings): Promise<Work[]> {
    const env = await this.call(TASK_VIDEO_DATA_PATH, { ...q, page_num: page, page_size: pageSize }, ctx, admission)
    return this.rows(env, 'video_sum_data_list', ctx).map(({ row, extra }) => toTotalsWork(row, extra, warnings))
  }

  /** The rows of an answer's list, folded to one spelling; a list or row of another shape is a 502. */
  private rows (env: Envelope, list: string, ctx: CallContext): Array<{ row: Parameters<typeof toWork>[0], extra: Record<string, unknown> }> {
    const raw = env.data?.[list]
    if (raw === undefined || raw === null) return []
    if (!Array.isArray(raw)) throw this.badShape(env, ctx, `a ${list} that is not a list`)
    return raw.map(r => {
      const folded = typeof r === 'object' && r !== null && !Array.isArray(r) ? foldRow(r as Record<string, unknown>) : undefined
      if (!folded) throw this.badShape(env, ctx, 'a taskbox row of an unexpected shape', r)
      return folded
    })
  }

  private badShape (env: Envelope, ctx: CallContext, what: string, raw?: unknown): HttpProblem {
    this.log.warn({ reqId: ctx.requestId, ...(raw !== undefined ? { sample: sample(JSON.stringify(raw), 300) } : {}) }, `Douyin sent ${what}`)
    return new HttpProblem('UPSTREAM_BAD_RESPONSE', {
      detail: `Douyin sent ${what}`,
      upstream: { name: 'douyin', ...(env.log_id ? { requestId: env.log_id } : {}) }
    })
  }

  /** One taskbox call: token, admission per attempt, err_no handling with retries within the deadline. */
  private async call (path: string, body: object, ctx: CallContext, admission: Admission): Promise<Envelope> {
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
      const res = await this.http.request({
        method: 'POST',
        path,
        headers: { 'content-type': 'application/json', 'access-token': token, 'x-request-id': ctx.requestId },
        body: text,
        deadline: ctx.deadline,
        retry: true,
        // Every HTTP attempt, the transport's retries and ours below alike, takes its own slot.
        admit: (retry, tailMs) => admission.admit(retry || attempt > 0, tailMs)
      })
      if (res.status === 429) {
        // Douyin's gate says "too many" in HTTP: every instance pauses for as long as it asks.
        const after = retryAfterSeconds(res.headers['retry-after']) ?? 1
        this.log.warn({ reqId: ctx.requestId, retryAfter: after }, 'Douyin answered HTTP 429; every instance cools down')
        await admission.cooldown(after * 1000)
        throw new HttpProblem('UPSTREAM_RATE_LIMITED', { detail: 'Douyin answered HTTP 429 (too many requests)', upstream: { name: 'douyin', code: 'HTTP_429' }, retryAfter: after })
      }
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
          await admission.cooldown(1000 + Math.round(Math.random() * 200))
          if (last) throw problemFor(says)
          continue
        case 'fail':
          if (env.err_no === ERR.QUOTA_USED_UP) this.pausedUntil = Date.now() + QUOTA_PAUSE_S * 1000
          if (env.err_no === ERR.RISK_CONTROL) await admission.cooldown(RISK_PAUSE_S * 1000)
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
    const upstream = { name: 'douyin', code: `HTTP_${status}` }
    if (status !== 200) throw new HttpProblem('UPSTREAM_ERROR', { detail: `Douyin answered HTTP ${status}`, upstream })
    throw new HttpProblem('UPSTREAM_BAD_RESPONSE', {
      detail: body === undefined ? 'Douyin sent a body that is not JSON' : 'Douyin sent an answer of an unexpected shape',
      upstream
    })
  }

  /** Counters for /metrics: upstream attempts by outcome, token fetches. */
  get stats (): { http: UpstreamHttp['stats'], tokens: TokenStats | undefined } {
    return { http: this.http.stats, tokens: this.tokens instanceof SharedToken ? this.tokens.stats : undefined }
  }

  async close (): Promise<void> {
    await this.http.close()
  }
}
