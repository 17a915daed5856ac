import type { FastifyReply, FastifyRequest } from 'fastify'
import { PROBLEM_CONTENT_TYPE } from '../errors.js'
import type { CacheResult } from './cache.js'
import type { Entry } from './entry.js'

export const CACHE_NAME = 'metrics-bff'
export const JSON_CONTENT_TYPE = 'application/json; charset=utf-8'

const seconds = (ms: number) => Math.max(0, Math.floor(ms / 1000))
const signedTtl = (ms: number) => Math.floor(ms / 1000)

/** The clock-dependent header values of a fresh hit of one entry, for one second. */
export interface HitHeaders { second: number, age: string, cacheControl: string, hit: string, stale: string }

// Kept beside the entries, not on them: an entry is the cache's data; these live and go with it.
const memos = new WeakMap<Entry, HitHeaders>()

/**
 * The clock-dependent headers of a fresh hit, built at most once per second per entry: the hot
 * path then sets precomputed strings only.
 */
export function hitHeaders (entry: Entry, now: number): HitHeaders {
  const second = Math.floor(now / 1000)
  const known = memos.get(entry)
  if (known?.second === second) return known
  const ttl = signedTtl(entry.freshUntil - now)
  const swr = seconds(entry.staleUntil - entry.freshUntil)
  const memo = {
    second,
    age: String(seconds(now - entry.storedAt)),
    cacheControl: `private, max-age=${Math.max(0, ttl)}, stale-while-revalidate=${swr}`,
    hit: `${CACHE_NAME}; hit; ttl=${ttl}`,
    stale: `${CACHE_NAME}; hit; ttl=${ttl}; detail=stale-while-revalidate`
  }
  memos.set(entry, memo)
  return memo
}

function cacheStatus (result: CacheResult, ttl: number): string {
  switch (result.status) {
    case 'miss': return `${CACHE_NAME}; fwd=miss; stored; ttl=${ttl}`
    case 'coalesced': return `${CACHE_NAME}; fwd=miss; collapsed; ttl=${ttl}`
    case 'revalidated': return `${CACHE_NAME}; fwd=request; stored; ttl=${ttl}`
    case 'stale-if-error': return `${CACHE_NAME}; fwd=stale; fwd-status=${result.error?.status ?? 502}; ttl=${ttl}; detail=stale-if-error`
    default: return `${CACHE_NAME}; hit; ttl=${ttl}`
  }
}

/**
 * True when If-None-Match names this validator: `*`, or any tag of the list compared weakly (the
 * `W/` prefix ignored on both sides), as RFC 9110 has it for If-None-Match.
 */
export function matchesEtag (header: string | undefined, etag: string): boolean {
  if (header === undefined) return false
  if (header === etag) return true
  const opaque = etag.startsWith('W/') ? etag.slice(2) : etag
  for (const tag of header.split(',')) {
    const t = tag.trim()
    if (t === '*' || t === opaque || (t.startsWith('W/') && t.slice(2) === opaque)) return true
  }
  return false
}

/**
 * Sends a cached answer with its HTTP cache semantics: ETag (304 on If-None-Match), Cache-Status
 * (RFC 9211), Age and Cache-Control. `headers` are the route's precomputed fixed headers.
 */
export function sendCached (req: FastifyRequest, reply: FastifyReply, result: CacheResult, headers: Record<string, string>): FastifyReply {
  const { entry } = result
  const now = Date.now()
  reply.headers(headers)
  if (entry.status !== 200) {
    // A remembered "not found": the stored problem gets this request's id spliced in.
    const body = `${entry.body.toString('utf8', 0, entry.body.length - 1)},"requestId":${JSON.stringify(req.id)}}`
    return reply.code(entry.status)
      .header('content-type', PROBLEM_CONTENT_TYPE)
      .header('cache-status', `${CACHE_NAME}; hit; detail=negative`)
      .header('cache-control', `private, max-age=${seconds(entry.freshUntil - now)}`)
      .send(body)
  }
  const memo = hitHeaders(entry, now)
  reply.header('etag', entry.etag).header('age', memo.age)
  if (result.status === 'hit') reply.header('cache-status', memo.hit).header('cache-control', memo.cacheControl)
  else if (result.status === 'stale') reply.header('cache-status', memo.stale).header('cache-control', memo.cacheControl)
  else {
    const ttl = signedTtl(entry.freshUntil - now)
    reply.header('cache-status', cacheStatus(result, ttl))
    reply.header('cache-control', result.status === 'stale-if-error'
      ? `private, max-age=0, stale-if-error=${seconds(entry.errorUntil - now)}`
      : memo.cacheControl)
  }
  if (matchesEtag(req.headers['if-none-match'], entry.etag)) return reply.code(304).send()
  return reply.send(entry.body)
}

/** True when the caller asks to revalidate (`Cache-Control: no-cache` or `max-age=0`). */
export function wantsRevalidation (header: string | undefined): boolean {
  return header !== undefined && /(?:^|,)\s*(?:no-cache|max-age=0)\s*(?:,|$)/i.test(header)
}
