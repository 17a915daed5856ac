/**
 * The two sources of the merged view, each read through the same cache entries as its own route:
 * AiToEarn analytics (the key of `GET /v1/works/{platform}/{workId}/analytics`) and the Douyin
 * taskbox per billing date and page (the per-query key of `GET /v1/douyin/task-videos/daily`).
 * A runner never throws: it reports `ok`, `error` (with its problem) or `skipped` (with a reason).
 */
import type { FastifyRequest } from 'fastify'
import { Cache, type CachePolicy, type CacheResult, type CacheStatus } from '../cache/cache.js'
import type { Entry } from '../cache/entry.js'
import { cachedDouyinQuery, readUnit, type DouyinQueryDeps } from '../cache/douyin-query.js'
import type { PolicyName } from '../cache/policies.js'
import { HttpProblem, type ProblemCode } from '../errors.js'
import { toProblem } from '../plugins/problems.js'
import type { Platform, Work } from '../schemas/metrics.js'
import type { Problem } from '../schemas/problem.js'
import type { WorkAnalyticsBody } from '../upstream/aitoearn/bodies.js'
import type { AitoearnClient } from '../upstream/aitoearn/client.js'
import { callContext } from '../upstream/aitoearn/plugin.js'
import type { DouyinClient } from '../upstream/douyin/client.js'
import { beijingDate, beijingEnd, beijingStart } from '../upstream/douyin/dates.js'
import { LIMITS, type UpstreamQuery } from '../upstream/douyin/params.js'
import { ByteLru as Lru } from '../cache/lru.js'
import type { MergedSourceName } from './schema.js'

/** Platforms whose AiToEarn analytics honour since/until (one snapshot per day); the others report lifetime totals and ignore them. */
export const DAILY_ANALYTICS_PLATFORMS: ReadonlySet<Platform> = new Set(['pinterest'])
/** Rows per Douyin page in the merged view: pages are walked until the video's row or a short page. */
export const DOUYIN_PAGE_SIZE = 1000
/** Billing dates queried side by side (the Douyin limiter paces them anyway). */
const DATE_CONCURRENCY = 4
/** A Douyin video id: digits (19 today), compared as an exact string. */
const DOUYIN_VIDEO_ID = /^\d{1,20}$/

const RANK: Record<CacheStatus, number> = { hit: 0, stale: 1, coalesced: 2, miss: 3, revalidated: 4, 'stale-if-error': 5 }

/** What a source's cache entries were: the worst status, the oldest fetch, the first expiry and their validators. */
export class Tally {
  worst: CacheStatus | undefined
  oldest = Infinity
  freshUntil = Infinity
  readonly inputs: string[] = []

  add (key: string, result: CacheResult): Entry {
    const { entry, status } = result
    if (this.worst === undefined || RANK[status] > RANK[this.worst]) this.worst = status
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
  tally: Tally
}

/** Parsed bodies and per-video extractions, keyed by entry validators: each computed once per content. */
export interface SourceMemos {
  analytics: Lru<WorkAnalyticsBody>
  rows: Lru<{ row: Work | undefined, full: boolean }>
}

export function sourceMemos (): SourceMemos {
  return {
    analytics: new Lru<WorkAnalyticsBody>(16 * 1024 * 1024, v => 2048 + v.series.length * 768),
    rows: new Lru<{ row: Work | undefined, full: boolean }>(8 * 1024 * 1024, v => (v.row ? 2048 : 16))
  }
}

export interface SourceDeps extends DouyinQueryDeps {
  cachePolicies: Record<PolicyName, CachePolicy>
  aitoearn: AitoearnClient
  douyin: DouyinClient
  memos: SourceMemos
}

export interface ViewRequest {
  platform: Platform
  workId: string
  accountId: string
  dates: string[]
  douyinId?: string | undefined
  publishedAt?: string | undefined
  /** The caller said Cache-Control: no-cache: every entry revalidates. */
  revalidate: boolean
  /** Beijing date of the request. */
  today: string
}

/** A cached "not found" back into its problem. */
function problemOf (entry: Entry): HttpProblem {
  const p = JSON.parse(entry.body.toString('utf8')) as Problem
  return new HttpProblem(p.code as ProblemCode, { detail: p.detail, status: p.status, ...(p.upstream ? { upstream: p.upstream } : {}) })
}

function failed<T> (name: MergedSourceName, err: unknown, req: FastifyRequest, tally: Tally): Outcome<T> {
  return { name, status: 'error', error: toProblem(err, req), tally }
}

/** AiToEarn work analytics, through the analytics route's cache entries. */
export async function runAitoearn (deps: SourceDeps, req: FastifyRequest, v: ViewRequest): Promise<Outcome<WorkAnalyticsBody>> {
  const tally = new Tally()
  try {
    const daily = DAILY_ANALYTICS_PLATFORMS.has(v.platform)
    // Exactly the analytics route's key parameters, so both share one entry (and one upstream snapshot).
    const params = {
      platform: v.platform,
      workId: v.workId,
      accountId: v.accountId,
      since: daily ? `${v.dates[0]}T00:00:00Z` : undefined,
      until: daily ? `${v.dates.at(-1)}T00:00:00Z` : undefined
    }
    const policy = deps.cachePolicies.analytics
    const key = Cache.key(policy, deps.aitoearn.credentialFingerprint, params)
    const result = await deps.cache.cached(key, policy, f => deps.aitoearn.analytics(params, callContext(req, f.deadline)), {
      deadline: Date.now() + deps.aitoearn.requestDeadlineMs,
      noCache: v.revalidate
    })
    const entry = tally.add('a', result)
    if (entry.status !== 200) throw problemOf(entry)
    let data = deps.memos.analytics.get(entry.etag)
    if (data === undefined) {
      data = JSON.parse(entry.body.toString('utf8')) as WorkAnalyticsBody
      deps.memos.analytics.set(entry.etag, data)
    }
    return { name: 'aitoearn', status: 'ok', data, tally }
  } catch (err) {
    return failed('aitoearn', err, req, tally)
  }
}

/**
 * Douyin taskbox rows of one video, per billing date: the publish window is the Beijing day of
 * publication (a stable cache key), rows are matched by exact VideoId string, pages are walked
 * until the row or a short page. `stopped()` turns true at the view's deadline: no new query
 * starts then (the ones running finish and fill the cache for the next call).
 */
export async function runDouyin (
  deps: SourceDeps,
  req: FastifyRequest,
  v: ViewRequest,
  aitoearn: Promise<Outcome<WorkAnalyticsBody>> | undefined,
  stopped: () => boolean
): Promise<Outcome<Map<string, Work>>> {
  const tally = new Tally()
  const skipped = (reason: string): Outcome<Map<string, Work>> => ({ name: 'douyin_taskbox', status: 'skipped', reason, tally })
  try {
    if (v.platform !== 'douyin') return skipped('Douyin taskbox data exists for douyin videos only')
    if (!DOUYIN_VIDEO_ID.test(v.workId)) return skipped('The work id is not a Douyin video id (digits)')

    let publishedAt = v.publishedAt
    if (publishedAt === undefined) {
      const a = aitoearn ? await aitoearn : undefined
      publishedAt = a?.data?.work.publishedAt
      if (publishedAt === undefined) {
        const why = a?.error ? `AiToEarn failed (${a.error.code})` : 'AiToEarn did not say when the video was published'
        throw new HttpProblem('VALIDATION_FAILED', {
          detail: `The Douyin source needs the video's publication time and ${why}: pass publishedAt`,
          errors: [{ in: 'querystring', field: 'publishedAt', message: 'is required when AiToEarn cannot tell when the video was published' }]
        })
      }
    }
    const published = Math.floor(Date.parse(publishedAt) / 1000)
    const day = beijingDate(published * 1000)
    const earliest = Math.floor(Date.now() / 1000) - LIMITS.maxAgeSeconds + LIMITS.ageMarginSeconds
    // The whole Beijing day of publication, so the key stays the same all along; when that day
    // starts beyond Douyin's 90 days, the publication second itself (as stable).
    const start = beijingStart(day) >= earliest ? beijingStart(day) : published
    if (start < earliest) return skipped(`Published ${day} (Beijing), more than 90 days ago: Douyin serves videos published in the last 90 days only`)
    const dates = v.dates.filter(d => d >= day)
    if (dates.length === 0) return skipped(`The dates end before the video was published (${day}, Beijing)`)

    const window: UpstreamQuery = {
      billing_date: '',
      video_publish_start_time: start,
      video_publish_end_time: beijingEnd(day),
      ...(v.douyinId !== undefined ? { douyin_id: v.douyinId } : {})
    }
    const rows = new Map<string, Work>()
    const perDate = async (date: string) => {
      const q = { ...window, billing_date: date }
      for (let page = 1; !stopped(); page++) {
        const plan = { all: false, page, pageSize: DOUYIN_PAGE_SIZE }
        const ctx = { requestId: req.id, deadline: Date.now() + deps.douyin.requestDeadlineMs }
        const result = await cachedDouyinQuery(deps, q, plan, c => deps.douyin.unit(q, { ...plan, queries: [q] }, c), ctx, v.today, v.revalidate)
        const entry = tally.add(`d:${date}:${page}`, result)
        if (entry.status !== 200) throw problemOf(entry)
        const found = findRow(deps.memos, entry, v.workId)
        if (found.row) rows.set(date, found.row)
        if (found.row || !found.full) return
      }
    }
    await eachLimit(dates, DATE_CONCURRENCY, perDate, stopped)
    return { name: 'douyin_taskbox', status: 'ok', data: rows, tally }
  } catch (err) {
    return failed('douyin_taskbox', err, req, tally)
  }
}

/** This video's row in a cached Douyin page (exact id string), and whether the page was full. */
function findRow (memos: SourceMemos, entry: Entry, workId: string): { row: Work | undefined, full: boolean } {
  const key = `${entry.etag}|${workId}`
  let found = memos.rows.get(key)
  if (found === undefined) {
    const unit = readUnit(entry)
    found = { row: unit.items.find(w => w.workId === workId), full: unit.full }
    memos.rows.set(key, found)
  }
  return found
}

/** Runs `fn` over `list`, at most `limit` at a time; the first failure fails all, and nothing new starts once `stopped()`. */
async function eachLimit<T> (list: T[], limit: number, fn: (item: T) => Promise<void>, stopped: () => boolean): Promise<void> {
  let next = 0
  let failed = false
  const worker = async () => {
    while (next < list.length && !failed && !stopped()) {
      const item = list[next++]!
      try {
        await fn(item)
      } catch (err) {
        failed = true
        throw err
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, list.length) }, worker))
}
