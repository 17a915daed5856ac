/**
 * The merged view of one work: runs both sources concurrently within the view's deadline, merges
 * what answered, and answers with its own validator and cache headers. A view made of the same
 * cache entries as an earlier one is sent from precomputed bytes (no merging, no JSON work).
 */
import { createHash } from 'node:crypto'
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { CacheStatus } from '../cache/cache.js'
import { CACHE_NAME, JSON_CONTENT_TYPE } from '../cache/http.js'
import { HttpProblem } from '../errors.js'
import type { Work } from '../schemas/metrics.js'
import type { WorkAnalyticsBody } from '../upstream/aitoearn/bodies.js'
import { ByteLru as Lru } from '../cache/lru.js'
import type { MergedSource, MergedSourceName } from './schema.js'
import { mergeView } from './series.js'
import { Tally, runAitoearn, runDouyin, type Outcome, type SourceDeps, type ViewRequest } from './sources.js'

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
const RANK: Record<CacheStatus, number> = { hit: 0, stale: 1, coalesced: 2, miss: 3, revalidated: 4, 'stale-if-error': 5 }
const UPSTREAM_OF: Record<MergedSourceName, string> = { aitoearn: 'aitoearn', douyin_taskbox: 'douyin' }

/** The bytes of a view up to its `sources`, its validator, and its ends per combination of cache statuses. */
interface Precomputed {
  core: Buffer
  etag: string
  tails: Map<string, Buffer>
}

/** True when If-None-Match names this validator (weak comparison, as RFC 9110 has it for If-None-Match). */
export function matchesWeak (header: string | undefined, etag: string): boolean {
  if (header === undefined) return false
  if (header.trim() === '*') return true
  const opaque = etag.replace(/^W\//, '')
  return header.split(',').some(tag => tag.trim().replace(/^W\//, '') === opaque)
}

function sha1 (...parts: Array<string | Buffer>): string {
  const h = createHash('sha1')
  for (const p of parts) h.update(p)
  return h.digest('base64url')
}

export class MergedViews {
  private readonly views = new Lru<Precomputed>(16 * 1024 * 1024, v => v.core.length + 1024)

  constructor (private readonly deps: SourceDeps, private readonly deadlineMs: number) {}

  async reply (req: FastifyRequest, reply: FastifyReply, v: ViewRequest): Promise<FastifyReply> {
    const [a, d] = await this.run(req, v)
    const outcomes = [a, d]
    const tried = outcomes.filter(o => o.status !== 'skipped')
    if (tried.every(o => o.status === 'error')) throw worst(tried.map(o => o.error!))
    const complete = tried.every(o => o.status === 'ok')

    // A complete view is a function of its parameters and of the entries it was made of.
    const signature = complete ? sha1(viewKey(v), ...outcomes.map(o => `#${o.status}|${o.reason ?? ''}|${o.tally.inputs.join(',')}`)) : undefined
    let pre = signature === undefined ? undefined : this.views.get(signature)
    if (pre === undefined) {
      const merged = mergeView({
        platform: v.platform,
        workId: v.workId,
        accountId: v.accountId,
        dates: v.dates,
        analytics: a.data,
        douyin: d.data,
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
      if (o.tally.worst !== undefined && RANK[o.tally.worst] > RANK[worstStatus]) worstStatus = o.tally.worst
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
    if (matchesWeak(req.headers['if-none-match'], pre.etag)) return reply.code(304).send()
    return reply.send(Buffer.concat([pre.core, tail]))
  }

  /**
   * Both sources at once (Douyin waits for AiToEarn only to learn the publication time when the
   * caller gave none), each bounded by the view's deadline. A source past the deadline is reported
   * as UPSTREAM_TIMEOUT; its cache fill goes on in the background (within the fill's own deadline).
   */
  private async run (req: FastifyRequest, v: ViewRequest): Promise<[Outcome<WorkAnalyticsBody>, Outcome<Map<string, Work>>]> {
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
      const a = runAitoearn(this.deps, req, v)
      const d = runDouyin(this.deps, req, v, a, () => timedOut)
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
  if (o.error !== undefined) out.error = o.error.toProblem(requestId)
  if (o.status === 'ok' && o.tally.worst !== undefined) {
    if (withCacheStatus) out.cacheStatus = o.tally.worst
    out.fetchedAt = new Date(o.tally.oldest).toISOString()
  }
  return out
}
