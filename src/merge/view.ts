/**
 * The merged view of one work: asks both sources through their read services (so they share the
 * cache entries of their own routes) concurrently within the view's deadline, merges what
 * answered, and answers with its own validator and cache headers. A view made of the same cache
 * entries as an earlier one is sent from precomputed bytes (no merging, no JSON work). A source
 * never throws: it reports `ok`, `error` (with its problem) or `skipped` (with a reason).
 */
import { createHash } from 'node:crypto'
import type { FastifyReply, FastifyRequest } from 'fastify'
import { STATUS_RANK, type CacheResult, type CacheStatus } from '../cache/cache.js'
import type { Entry } from '../cache/entry.js'
import { CACHE_NAME, JSON_CONTENT_TYPE, matchesEtag } from '../cache/http.js'
import { byteLru } from '../cache/memory-store.js'
import { HttpProblem, asProblem } from '../errors.js'
import { hasWorkAnalytics, type AitoearnReads } from '../reads/aitoearn.js'
import { NOT_A_VIDEO, isVideoId, type DouyinReads } from '../reads/douyin.js'
import type { ReadContext } from '../reads/read.js'
import type { WorkAnalyticsBody } from '../schemas/aitoearn.js'
import type { Platform, Work } from '../schemas/metrics.js'
import type { MergedSource, MergedSourceName } from './schema.js'
import { mergeView } from './series.js'

/** What a source's cache entries were: the worst status, the oldest fetch, the first expiry and their validators. */
export class Tally {
  worst: CacheStatus | undefined
  oldest = Infinity
  freshUntil = Infinity
  readonly inputs: string[] = []

  add (key: string, result: CacheResult): Entry {
    const { entry, status } = result
    if (this.worst === undefined || STATUS_RANK[status] > STATUS_RANK[this.worst]) this.worst = status
    this.oldest = Math.min(this.oldest, entry.storedAt)
    this.freshUntil = Math.min(this.freshUntil, entry.freshUntil)
    this.inputs.push(`${key}=${entry.etag}@${entry.storedAt}`)
    return entry
  }
}

export interface Outcome<T> {
  name: MergedSourceName
  status: 'ok' | 'error' | 'skipped'
  data?: T
  error?: HttpProblem
  reason?: string
  /** Douyin: which of its APIs answered (`bill`, `daily`, `bill+daily`), and why the daily API stood in. */
  api?: string
  note?: string
  tally: Tally
}

export interface SourceDeps {
  aitoearn: AitoearnReads
  douyin: DouyinReads
  /** Told about an error that is no problem of ours (a bug), to log it. */
  unexpected: (err: unknown) => void
}

export interface ViewRequest {
  platform: Platform
  workId: string
  accountId: string
  dates: string[]
  douyinId?: string | undefined
  publishedAt?: string | undefined
  /** Beijing date of the request. */
  today: string
}

function failed<T> (deps: SourceDeps, name: MergedSourceName, err: unknown, tally: Tally): Outcome<T> {
  return { name, status: 'error', error: asProblem(err, deps.unexpected), tally }
}

/** AiToEarn work analytics, through the analytics route's cache entries. */
export async function runAitoearn (deps: SourceDeps, ctx: ReadContext, v: ViewRequest): Promise<Outcome<WorkAnalyticsBody>> {
  const tally = new Tally()
  if (!hasWorkAnalytics(v.platform)) return { name: 'aitoearn', status: 'skipped', reason: `AiToEarn has no work analytics for ${v.platform}`, tally }
  try {
    const { result, data } = await deps.aitoearn.analyticsOverDays(v, ctx)
    tally.add('a', result)
    return { name: 'aitoearn', status: 'ok', data, tally }
  } catch (err) {
    return failed(deps, 'aitoearn', err, tally)
  }
}

/** What the Douyin source gives the view: the video's row per billing date, and its description when found. */
export interface DouyinData { rows: Map<string, Work>, described?: Work | undefined }

/**
 * Douyin taskbox rows of one video per billing date: from the bill (no publication time needed),
 * or the daily API (which needs the caller's `publishedAt`). `stopped()` turns true at the view's deadline.
 */
export async function runDouyin (deps: SourceDeps, ctx: ReadContext, v: ViewRequest, stopped: () => boolean): Promise<Outcome<DouyinData>> {
  const tally = new Tally()
  try {
    if (v.platform !== 'douyin') return { name: 'douyin_taskbox', status: 'skipped', reason: 'Douyin taskbox data exists for douyin videos only', tally }
    if (!isVideoId(v.workId)) return { name: 'douyin_taskbox', status: 'skipped', reason: NOT_A_VIDEO, tally }
    const days = await deps.douyin.videoDays({ workId: v.workId, publishedAt: v.publishedAt, dates: v.dates, douyinId: v.douyinId, today: v.today }, ctx, stopped)
    if (days.status === 'skipped') return { name: 'douyin_taskbox', status: 'skipped', reason: days.reason, tally }
    for (const [label, result] of days.entries) tally.add(label, result)
    return { name: 'douyin_taskbox', status: 'ok', data: { rows: days.rows, described: days.described }, api: days.api, ...(days.note !== undefined ? { note: days.note } : {}), tally }
  } catch (err) {
    return failed(deps, 'douyin_taskbox', err, tally)
  }
}

/** The view's Cache-Status, from the worst status of the entries it was made of. */
const VIEW_CACHE_STATUS: Record<CacheStatus, string> = {
  hit: `${CACHE_NAME}; hit`,
  stale: `${CACHE_NAME}; hit; detail=stale-while-revalidate`,
  coalesced: `${CACHE_NAME}; fwd=miss; collapsed`,
  miss: `${CACHE_NAME}; fwd=miss`,
  revalidated: `${CACHE_NAME}; fwd=request`,
  'stale-if-error': `${CACHE_NAME}; fwd=stale; detail=stale-if-error`
}
const INCOMPLETE_CACHE_STATUS = `${CACHE_NAME}; fwd=miss; detail=incomplete`
const UPSTREAM_OF: Record<MergedSourceName, string> = { aitoearn: 'aitoearn', douyin_taskbox: 'douyin' }

/** The bytes of a view up to its `sources`, its validator, and its ends per combination of cache statuses. */
interface Precomputed {
  core: Buffer
  etag: string
  tails: Map<string, Buffer>
}

function sha1 (...parts: Array<string | Buffer>): string {
  const h = createHash('sha1')
  for (const p of parts) h.update(p)
  return h.digest('base64url')
}

export class MergedViews {
  private readonly views = byteLru<Precomputed>(16 * 1024 * 1024, v => v.core.length + 1024)

  constructor (private readonly deps: SourceDeps, private readonly deadlineMs: number) {}

  async reply (req: FastifyRequest, reply: FastifyReply, v: ViewRequest, ctx: ReadContext): Promise<FastifyReply> {
    const [a, d] = await this.run(ctx, v)
    const outcomes = [a, d]
    const tried = outcomes.filter(o => o.status !== 'skipped')
    if (tried.length === 0) {
      throw new HttpProblem('OPERATION_NOT_SUPPORTED', { detail: `No source has metrics for this work: ${outcomes.map(o => `${o.name}: ${o.reason ?? 'skipped'}`).join('; ')}` })
    }
    if (tried.every(o => o.status === 'error')) throw worst(tried.map(o => o.error!))
    const complete = tried.every(o => o.status === 'ok')

    // A complete view is a function of its parameters and of the entries it was made of.
    const signature = complete ? sha1(viewKey(v), ...outcomes.map(o => `#${o.status}|${o.reason ?? ''}|${o.api ?? ''}|${o.note ?? ''}|${o.tally.inputs.join(',')}`)) : undefined
    let pre = signature === undefined ? undefined : this.views.get(signature)
    if (pre === undefined) {
      const merged = mergeView({
        platform: v.platform,
        workId: v.workId,
        accountId: v.accountId,
        dates: v.dates,
        analytics: a.data,
        douyin: d.data?.rows,
        described: d.data?.described,
        publishedAt: v.publishedAt
      })
      const core = Buffer.from(`{"work":${JSON.stringify(merged.work)},"series":${JSON.stringify(merged.series)},"totals":${JSON.stringify(merged.totals)},"currency":"CNY","sources":`)
      // The validator covers the body except the sources' cacheStatus: a hit carries the same one as the miss that made it.
      const plain = JSON.stringify(outcomes.map(o => sourceOf(o, req.id, false)))
      pre = { core, etag: `W/"${sha1(core, plain)}"`, tails: new Map() }
      if (signature !== undefined) this.views.set(signature, pre)
    }

    const statuses = outcomes.map(o => o.tally.worst ?? '-').join(',')
    let tail = pre.tails.get(statuses)
    if (tail === undefined) {
      tail = Buffer.from(`${JSON.stringify(outcomes.map(o => sourceOf(o, req.id, true)))}}`)
      if (complete) pre.tails.set(statuses, tail)
    }

    let worstStatus: CacheStatus = 'hit'
    let freshUntil = Infinity
    for (const o of outcomes) {
      if (o.tally.worst !== undefined && STATUS_RANK[o.tally.worst] > STATUS_RANK[worstStatus]) worstStatus = o.tally.worst
      freshUntil = Math.min(freshUntil, o.tally.freshUntil)
    }
    const maxAge = worstStatus === 'stale' || worstStatus === 'stale-if-error' || freshUntil === Infinity ? 0 : Math.max(0, Math.floor((freshUntil - Date.now()) / 1000))
    reply.headers({
      'content-type': JSON_CONTENT_TYPE,
      'x-sources-complete': complete ? 'true' : 'false',
      etag: pre.etag,
      'cache-status': complete ? VIEW_CACHE_STATUS[worstStatus] : INCOMPLETE_CACHE_STATUS,
      'cache-control': complete ? `private, max-age=${maxAge}` : 'no-store'
    })
    if (matchesEtag(req.headers['if-none-match'], pre.etag)) return reply.code(304).send()
    return reply.send(Buffer.concat([pre.core, tail]))
  }

  /**
   * Both sources at once, each bounded by the view's deadline. A source past the deadline is reported
   * as UPSTREAM_TIMEOUT; its cache fill goes on in the background (within the fill's own deadline).
   */
  private async run (ctx: ReadContext, v: ViewRequest): Promise<[Outcome<WorkAnalyticsBody>, Outcome<DouyinData>]> {
    let timedOut = false
    let timer: NodeJS.Timeout | undefined
    const deadline = new Promise<void>(resolve => {
      timer = setTimeout(() => {
        timedOut = true
        resolve()
      }, this.deadlineMs)
    })
    const within = <T>(name: MergedSourceName, p: Promise<Outcome<T>>): Promise<Outcome<T>> => Promise.race([p, deadline.then(() => this.timeout<T>(name))])
    try {
      const a = runAitoearn(this.deps, ctx, v)
      const d = runDouyin(this.deps, ctx, v, () => timedOut)
      return await Promise.all([within('aitoearn', a), within('douyin_taskbox', d)])
    } finally {
      clearTimeout(timer)
    }
  }

  private timeout<T> (name: MergedSourceName): Outcome<T> {
    return {
      name,
      status: 'error',
      error: new HttpProblem('UPSTREAM_TIMEOUT', {
        detail: `${name} did not answer within the view's deadline (${this.deadlineMs} ms); the next call may find its data in the cache`,
        upstream: { name: UPSTREAM_OF[name] }
      }),
      tally: new Tally()
    }
  }
}

/** The problem of a view whose every source failed: the highest status, the first source on a tie. */
export function worst (problems: HttpProblem[]): HttpProblem {
  return problems.reduce((w, p) => (p.status > w.status ? p : w))
}

/** Everything of the request a view depends on (besides its cache entries). */
function viewKey (v: ViewRequest): string {
  return [v.platform, v.workId, v.accountId, v.dates[0], v.dates.at(-1), v.douyinId ?? '', v.publishedAt ?? '', v.today].join('\n')
}

function sourceOf (o: Outcome<unknown>, requestId: string, withCacheStatus: boolean): MergedSource {
  const out: MergedSource = { name: o.name, status: o.status }
  if (o.reason !== undefined) out.reason = o.reason
  if (o.api !== undefined) out.api = o.api
  if (o.note !== undefined) out.note = o.note
  if (o.error !== undefined) out.error = o.error.toProblem(requestId)
  if (o.status === 'ok' && o.tally.worst !== undefined) {
    if (withCacheStatus) out.cacheStatus = o.tally.worst
    out.fetchedAt = new Date(o.tally.oldest).toISOString()
  }
  return out
}
