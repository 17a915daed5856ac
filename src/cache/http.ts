import type { FastifyReply, FastifyRequest } from 'fastify'
import { PROBLEM_CONTENT_TYPE } from '../plugins/problems.js'
import type { Cache, CachePolicy, CacheResult, Fetch } from './cache.js'
import type { Entry } from './entry.js'

export const CACHE_NAME = 'metrics-bff'
export const JSON_CONTENT_TYPE = 'application/json; charset=utf-8'

const seconds = (ms: number) => Math.max(0, Math.floor(ms / 1000))
const signedTtl = (ms: number) => Math.floor(ms / 1000)

/**
 * The clock-dependent headers of a fresh hit, built at most once per second per entry: the hot
 * path then sets precomputed strings only.
 */
export function hitHeaders (entry: Entry, now: number): NonNullable<Entry['memo']> {
  const second = Math.floor(now / 1000)
  if (entry.memo?.second === second) return entry.memo
  const ttl = signedTtl(entry.freshUntil - now)
  const swr = seconds(entry.staleUntil - entry.freshUntil)
  entry.memo = {
    second,
    age: String(seconds(now - entry.storedAt)),
    cacheControl: `private, max-age=${Math.max(0, ttl)}, stale-while-revalidate=${swr}`,
    hit: `${CACHE_NAME}; hit; ttl=${ttl}`,
    stale: `${CACHE_NAME}; hit; ttl=${ttl}; detail=stale-while-revalidate`
  }
  return entry.memo
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

/** True when If-None-Match names this entry's validator (a list, weak forms and * included). */
export function matchesEtag (header: string | undefined, etag: string): boolean {
  if (header === undefined) return false
  if (header === etag || header.trim() === '*') return true
  return header.split(',').some(tag => tag.trim().replace(/^W\//, '') === etag)
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

/**
 * The whole cached route (`keyFixedUntil`: when the key of this URL changes, for keys with a date
 * in them): a fresh in-process hit is answered synchronously (undefined is
 * returned: nothing to await); anything else reads through the cache (one upstream call per key)
 * and resolves once answered. `fetch` builds the response body object on a miss.
 */
export function replyCached (
  req: FastifyRequest,
  reply: FastifyReply,
  cache: Cache,
  cached: { key: string, policy: CachePolicy, deadlineMs: number, headers: Record<string, string>, keyFixedUntil?: number },
  fetch: Fetch
): Promise<void> | undefined {
  // This URL passed validation and maps to this key: the front door may answer its next hits.
  req.server.frontDoor?.learn(req, reply, cached.key, cached.headers, cached.keyFixedUntil ?? Infinity)
  const noCache = wantsRevalidation(req.headers['cache-control'])
  if (!noCache) {
    const hit = cache.freshHit(cached.key)
    if (hit !== undefined) {
      sendCached(req, reply, hit, cached.headers)
      return undefined
    }
  }
  return cache.cached(cached.key, cached.policy, fetch, { deadline: Date.now() + cached.deadlineMs, noCache })
    .then(result => { sendCached(req, reply, result, cached.headers) })
}
