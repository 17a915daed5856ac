/**
 * The AiToEarn open API client: params in, our response bodies out (in the one metrics shape).
 * It owns its transport (an UpstreamHttp: undici pool, per-attempt timeouts, the request's
 * deadline, retries of GETs on network errors and 5xx with jittered backoff) and absorbs the
 * upstream's dialect: HTTP 200 for errors, success only on `code === 0`, bracket pagination,
 * per-platform limits, metrics that some platforms never fill.
 */
import type { FastifyBaseLogger } from 'fastify'
import type { TypeCheck } from '@sinclair/typebox/compiler'
import type { TSchema, Static } from '@sinclair/typebox'
import { HttpProblem } from '../../errors.js'
import { isPlatform } from '../../schemas/metrics.js'
import type { CallContext } from '../context.js'
import { UpstreamHttp, backoffMs, fingerprint, parseJson, retryAfterSeconds, sample, waitWithin } from '../http.js'
import type { PlatformInfo, PlatformsBody, WorkAnalyticsBody, WorksPageBody } from '../../schemas/aitoearn.js'
import { mapAnalytics, mapListItem, mapPage, mapPlatform } from './map.js'
import { problemForCode, problemForStatus, type Operation } from './problems.js'
import { analyticsPath, listWorksPath, platformsPath, type AnalyticsParams, type ListWorksParams } from './requests.js'
import { AnalyticsData, Envelope, ListData, PlatformsData, type UpEnvelope, type UpPlatform } from './upstream-schemas.js'

export interface AitoearnClientOptions {
  baseUrl: string
  apiKey?: string | undefined
  timeoutMs: number
  log: FastifyBaseLogger
}

export class AitoearnClient {
  readonly http: UpstreamHttp
  /** Part of every cache key: answers made with another server or key are other answers. */
  readonly fingerprint: string
  private readonly apiKey: string | undefined
  private readonly log: FastifyBaseLogger

  constructor (opts: AitoearnClientOptions) {
    this.http = new UpstreamHttp('aitoearn', opts.baseUrl, { timeoutMs: opts.timeoutMs, log: opts.log })
    this.apiKey = opts.apiKey
    this.fingerprint = fingerprint(`${opts.baseUrl}|${opts.apiKey ?? ''}`)
    this.log = opts.log
  }

  /** Every platform AiToEarn knows (and we do), its capabilities and our sources for it. Keyless upstream. */
  async platforms (ctx: CallContext): Promise<PlatformsBody> {
    const data = await this.call('platforms', platformsPath(), ctx, false, PlatformsData, undefined)
    const list: UpPlatform[] = Array.isArray(data) ? data : 'list' in data ? data.list : 'items' in data ? data.items : data.platforms
    const platforms: PlatformInfo[] = []
    for (const up of list) {
      if (isPlatform(up.platform)) platforms.push(mapPlatform(up, up.platform))
    }
    // Our Douyin taskbox serves douyin whether or not AiToEarn lists it.
    if (!platforms.some(p => p.platform === 'douyin')) {
      platforms.push({ platform: 'douyin', capabilities: { listWorks: null, workAnalytics: null, accountAnalytics: null }, sources: ['douyin_taskbox'] })
    }
    return { platforms, fetchedAt: new Date().toISOString() }
  }

  /** One page of an account's works. `limit` is checked against the platform's maximum first. */
  async listWorks (params: ListWorksParams, ctx: CallContext): Promise<WorksPageBody> {
    const { path, platform } = listWorksPath(params)
    const data = await this.call('listWorks', path, ctx, true, ListData, platform)
    this.crossCheck(ctx, 'listWorks', [['platform', data.platform, platform]])
    const { hasNext, nextCursor } = data.pagination
    if (hasNext === true && params.cursor !== undefined && params.direction !== 'previous' && nextCursor === params.cursor) {
      // Handed on, this cursor would have a client page for ever.
      this.log.warn({ reqId: ctx.requestId, upstream: 'aitoearn', platform }, 'AiToEarn answered hasNext with the cursor it was given')
      throw new HttpProblem('UPSTREAM_BAD_RESPONSE', {
        detail: 'AiToEarn answered "more pages" with the same cursor it was asked for: the listing does not advance; stop paging here',
        upstream: { name: 'aitoearn' }
      })
    }
    return {
      platform,
      items: data.items.map(item => mapListItem(item, platform, params.accountId)),
      page: mapPage(data.pagination)
    }
  }

  /**
   * One work's analytics: its latest metrics and the snapshots. AiToEarn saves a snapshot on
   * every call, so callers (and the cache layer) should not call it more than they need.
   */
  async analytics (params: AnalyticsParams, ctx: CallContext): Promise<WorkAnalyticsBody> {
    const { path, platform } = analyticsPath(params)
    const data = await this.call('analytics', path, ctx, true, AnalyticsData, platform)
    this.crossCheck(ctx, 'analytics', [['platform', data.platform, platform], ['platformWorkId', data.platformWorkId, params.workId], ['accountId', data.accountId ?? params.accountId, params.accountId]])
    // code 0 but no data: "Account required" / "Work analytics not supported" are not successes.
    if (data.message && !data.metrics && (data.snapshots?.length ?? 0) === 0) {
      const upstream = { name: 'aitoearn', code: 0, message: sample(data.message, 200) }
      if (/account required/i.test(data.message)) {
        throw new HttpProblem('VALIDATION_FAILED', { detail: 'AiToEarn answered "Account required": work analytics need an accountId that AiToEarn accepts', upstream })
      }
      throw new HttpProblem('OPERATION_NOT_SUPPORTED', { detail: `AiToEarn has no work analytics for ${platform}: ${sample(data.message, 200)}`, upstream })
    }
    return mapAnalytics(data, platform, params.accountId)
  }

  async close (): Promise<void> {
    await this.http.close()
  }

  /**
   * One GET: headers, transport, envelope, business code, data shape. A code that says "try again"
   * (500 inside HTTP 200, 15094, 19001, any error whose data says `retryable: true`) is retried
   * with backoff within the deadline, like a 5xx.
   */
  private async call<S extends TSchema> (op: Operation, path: string, ctx: CallContext, keyed: boolean, check: TypeCheck<S>, platform: string | undefined): Promise<Static<S>> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.once(op, path, ctx, keyed, check, platform)
      } catch (err) {
        if (!(err instanceof RetryableProblem) || attempt >= 2 || !(await waitWithin(backoffMs(attempt, 200, 1000), ctx.deadline))) {
          throw err instanceof RetryableProblem ? err.problem : err
        }
      }
    }
  }

  private async once<S extends TSchema> (op: Operation, path: string, ctx: CallContext, keyed: boolean, check: TypeCheck<S>, platform: string | undefined): Promise<Static<S>> {
    // Always en-US: an answer is cached for every caller, so it must not depend on who asked first.
    const headers: Record<string, string> = { accept: 'application/json', 'accept-language': 'en-US', 'x-request-id': ctx.requestId }
    if (keyed && this.apiKey) headers['x-api-key'] = this.apiKey
    // GETs only, all retried on network errors and 5xx within the deadline. Analytics too: its
    // snapshot write upstream appends an observation (a rare duplicate point is harmless), while
    // failing the caller on one dropped connection is not; the cache layer bounds call volume.
    const res = await this.http.request({ method: 'GET', path, headers, deadline: ctx.deadline, retry: true })
    const upstreamId = typeof res.headers['x-request-id'] === 'string' ? res.headers['x-request-id'] : undefined
    if (res.status !== 200) {
      // A relayed account passes the relay's HTTP status and body through (B/relay/relay-exception.filter.ts).
      let env: unknown
      try { env = JSON.parse(res.body) } catch { env = undefined }
      if (Envelope.Check(env) && env.code !== 0) throw this.failure(env, op, platform, upstreamId)
      this.log.warn({ upstream: 'aitoearn', status: res.status, sample: sample(res.body, 200) }, `AiToEarn answered HTTP ${res.status}`)
      throw problemForStatus(res.status, upstreamId, retryAfterSeconds(res.headers['retry-after']))
    }
    const json = parseJson('aitoearn', res.body, this.log)
    if (!Envelope.Check(json)) throw this.badShape(op, 'envelope', Envelope, json, res.body, ctx)
    if (json.code !== 0) throw this.failure(json, op, platform, upstreamId)
    if (!check.Check(json.data)) throw this.badShape(op, 'data', check, json.data, res.body, ctx)
    return json.data
  }

  /** The problem of a business code; wrapped as retryable when AiToEarn says trying again may help. */
  private failure (env: UpEnvelope, op: Operation, platform: string | undefined, upstreamId: string | undefined): Error {
    const failed = problemForCode(env.code, env.message, op, platform, env.requestId ?? upstreamId, env.data)
    return failed.retryable ? new RetryableProblem(failed.problem) : failed.problem
  }

  /** The answer names its platform, work and account: one that names others is not this answer (502, never cached). */
  private crossCheck (ctx: CallContext, op: Operation, pairs: Array<[string, string | null | undefined, string]>): void {
    for (const [field, got, wanted] of pairs) {
      if (got === wanted) continue
      this.log.warn({ reqId: ctx.requestId, upstream: 'aitoearn', op, field, got: sample(String(got), 80), wanted: sample(wanted, 80) }, 'AiToEarn answered for something else than was asked')
      throw new HttpProblem('UPSTREAM_BAD_RESPONSE', {
        detail: `AiToEarn's ${op} answer names another ${field} than the one asked for`,
        upstream: { name: 'aitoearn' }
      })
    }
  }

  private badShape (op: Operation, part: string, check: TypeCheck<TSchema>, value: unknown, body: string, ctx: CallContext): HttpProblem {
    const first = check.Errors(value).First()
    const where = `${part}${first?.path ?? ''}`
    this.log.warn({ requestId: ctx.requestId, upstream: 'aitoearn', op, where, error: first?.message, sample: sample(body, 200) }, 'AiToEarn sent a body that does not match its schema')
    return new HttpProblem('UPSTREAM_BAD_RESPONSE', {
      detail: `AiToEarn sent an unexpected ${op} answer (${where}: ${first?.message ?? 'invalid'})`,
      upstream: { name: 'aitoearn' }
    })
  }
}

/** A business failure AiToEarn says may pass if asked again. */
class RetryableProblem extends Error {
  constructor (readonly problem: HttpProblem) { super(problem.message) }
}
