import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { FastifyHttpOptions, FastifyReply, FastifyRequest } from 'fastify'
import type { Cache } from './cache.js'
import type { Entry } from './entry.js'
import { hitHeaders, matchesEtag, wantsRevalidation } from './http.js'
import { mayWantCsv } from '../schemas/csv.js'

/** The header lists (200, 304) prepared for one entry, one second and one set of fixed headers. */
interface Prepared { fixed: unknown, second: number, ok: string[], notModified: string[] }

/** What a request URL, once validated by its route, maps to: its cache key and fixed headers. */
interface Learned {
  key: string
  /** Route pattern: the metrics label. */
  route: string
  /** Headers the route and its hooks set on every answer (content type, sandbox flag, Vary...). */
  headers: Array<[string, string]>
  /** The key stays the key of this URL until then (a key with today's date in it changes). */
  until: number
}

/** What the front door needs from the app; set once the app is built (see plugins/front-door.ts). */
export interface FrontDoorWiring {
  cache: Cache
  /** True while requests must take the full path (closing, shedding load). */
  refusing: () => boolean
  /** The caller's key name, undefined when it is not valid; absent when callers are not authenticated. */
  authenticate?: (req: IncomingMessage) => string | undefined
  /** Counts an answer (200, or 304 to a matching If-None-Match) in the request metrics. */
  observe: (route: string, status: number, elapsedMs: number, caller: string | undefined) => void
  /** A request id, as Fastify's genReqId makes it. */
  requestId: (req: IncomingMessage) => string
  /**
   * The caller budget, when on: takes one for the request's caller (its key name, else its
   * address) and answers the RateLimit-* values, or undefined when the take cannot be answered
   * here (a refusal, or a batch on its way to Redis): Fastify then takes the request, and answers it
   * exactly as it would have (the same headers, the same 429 problem).
   */
  budget?: (req: IncomingMessage, caller: string | undefined) => { limit: string, remaining: string, reset: string } | undefined
  /** Logs a served request when the level asks for per-request lines. */
  logServed?: (req: IncomingMessage, id: string, status: number, elapsedMs: number, caller: string | undefined) => void
  /** Traces a served request (OpenTelemetry on): `started` is its performance.now() on arrival. */
  traceServed?: (req: IncomingMessage, route: string, status: number, started: number) => void
}

/** Bounds of the URL index: its memory stays small whatever URLs callers send. */
const MAX_URLS = 20_000
const MAX_URL_CHARS = 4 * 1024 * 1024
const MAX_HEADER_SETS = 64
/** Headers a hook may set per request: never replayed. */
const PER_REQUEST = new Set(['x-request-id', 'content-length', 'retry-after', 'www-authenticate'])

/**
 * The cache-hit fast path, in front of Fastify's router. A GET whose exact URL a route has already
 * validated and keyed (`learn`), and whose answer is fresh in the cache (in-process, else Redis),
 * is answered here with precomputed headers and the stored bytes: no routing, no Request/Reply
 * objects, no hooks, no validation, no handler; a matching If-None-Match gets its 304. Anything it
 * cannot answer exactly as the route would (revalidation asked, a browser's Origin, HEAD, a refused
 * or unknown key, shutdown, load shedding, a stale or missing entry, a caller over its budget or
 * waiting on Redis for it) goes to Fastify unchanged. A hit answered here is counted against its
 * caller's budget as the full path would count it, with the same RateLimit-* headers.
 */
export class FrontDoor {
  private readonly urls = new Map<string, Learned>()
  private readonly headerSets = new Map<string, Array<[string, string]>>()
  /** Beside the entries (so they live and go with them), never on them. */
  private readonly prepared = new WeakMap<Entry, Prepared>()
  private chars = 0
  private wiring: FrontDoorWiring | undefined
  /** Answers given here (the rest went to Fastify). */
  served = 0

  /** Turns the front door on; without wiring every request goes to Fastify. */
  wire (wiring: FrontDoorWiring | undefined): void {
    this.wiring = wiring
    if (wiring === undefined) this.clear()
  }

  get size (): number { return this.urls.size }

  /**
   * Called by a cached route once its request has passed validation and its key is known. Not from
   * a browser request (Origin): its CORS headers are that request's, not the URL's.
   */
  learn (req: FastifyRequest, reply: FastifyReply, key: string, fixed: Record<string, string>, until: number): void {
    if (this.wiring === undefined || req.method !== 'GET' || req.headers.origin !== undefined) return
    const url = req.url
    const known = this.urls.get(url)
    if (known !== undefined && known.key === key) return
    if (known !== undefined) this.forget(url, known)
    const headers: Array<[string, string]> = []
    for (const [name, value] of Object.entries(reply.getHeaders())) {
      if (!PER_REQUEST.has(name) && !name.startsWith('ratelimit') && value !== undefined) headers.push([name, String(value)])
    }
    for (const [name, value] of Object.entries(fixed)) if (!headers.some(([n]) => n === name)) headers.push([name, value])
    const route = req.routeOptions.url ?? url
    this.urls.set(url, { key, route, headers: this.intern(headers), until })
    this.chars += url.length + key.length
    while (this.urls.size > MAX_URLS || this.chars > MAX_URL_CHARS) {
      const [oldest, learned] = this.urls.entries().next().value as [string, Learned]
      this.forget(oldest, learned)
    }
  }

  /**
   * Takes a request it can answer from the cache and returns true; false: Fastify takes it. A fresh
   * in-process hit is answered at once; with the in-process tier missing and Redis configured, the
   * entry is read from Redis and answered, or, when it is not a fresh hit there, handed to `next`
   * (Fastify) as if it had come straight in.
   */
  serve (req: IncomingMessage, res: ServerResponse, next: (req: IncomingMessage, res: ServerResponse) => void): boolean {
    const wiring = this.wiring
    if (wiring === undefined || req.method !== 'GET') return false
    const learned = this.urls.get(req.url!)
    if (learned === undefined) return false
    const h = req.headers
    if (h.origin !== undefined || (h['cache-control'] !== undefined && wantsRevalidation(h['cache-control']))) return false
    // A caller that may want CSV: the route decides (plugins/csv.ts); the front door sends JSON only.
    if (mayWantCsv(h.accept)) return false
    const started = performance.now()
    if (Date.now() >= learned.until) {
      this.forget(req.url!, learned)
      return false
    }
    if (wiring.refusing()) return false
    let caller: string | undefined
    if (wiring.authenticate !== undefined) {
      caller = wiring.authenticate(req)
      if (caller === undefined) return false
    }
    const hit = wiring.cache.freshHit(learned.key)
    if (hit !== undefined) {
      if (hit.entry.status !== 200) return false
      // Counted only once the answer is certain to come from here.
      const budget = wiring.budget?.(req, caller)
      if (wiring.budget !== undefined && budget === undefined) return false
      this.answer(wiring, req, res, learned, hit.entry, started, caller, budget)
      return true
    }
    if (!wiring.cache.hasShared) return false
    wiring.cache.sharedHit(learned.key).then(shared => {
      const budget = shared === undefined ? undefined : wiring.budget?.(req, caller)
      if (shared === undefined || (wiring.budget !== undefined && budget === undefined)) next(req, res)
      else this.answer(wiring, req, res, learned, shared.entry, started, caller, budget)
    }, () => next(req, res))
    return true
  }

  private answer (wiring: FrontDoorWiring, req: IncomingMessage, res: ServerResponse, learned: Learned, entry: Entry, started: number, caller: string | undefined, budget: { limit: string, remaining: string, reset: string } | undefined): void {
    const now = Date.now()
    const second = Math.floor(now / 1000)
    // Per entry, second and set of fixed headers.
    let sent = this.prepared.get(entry)
    if (sent === undefined || sent.fixed !== learned.headers || sent.second !== second) {
      const memo = hitHeaders(entry, now)
      // Per request: slot 1, the request id; with a caller budget slots 3, 5, 7, its values.
      const notModified = wiring.budget === undefined ? ['x-request-id', ''] : ['x-request-id', '', 'ratelimit-limit', '', 'ratelimit-remaining', '', 'ratelimit-reset', '']
      for (const [name, value] of learned.headers) notModified.push(name, value)
      notModified.push('etag', entry.etag, 'age', memo.age, 'cache-status', memo.hit, 'cache-control', memo.cacheControl)
      sent = { fixed: learned.headers, second, notModified, ok: [...notModified, 'content-length', String(entry.body.length)] }
      this.prepared.set(entry, sent)
    }
    // The one header that changes per request goes into the prepared list (writeHead reads it
    // synchronously and keeps no reference).
    const id = wiring.requestId(req)
    const inm = req.headers['if-none-match']
    const status = inm !== undefined && matchesEtag(inm, entry.etag) ? 304 : 200
    const headers = status === 304 ? sent.notModified : sent.ok
    headers[1] = id
    if (budget !== undefined) {
      headers[3] = budget.limit
      headers[5] = budget.remaining
      headers[7] = budget.reset
    }
    res.writeHead(status, headers)
    if (status === 304) res.end()
    else res.end(entry.body)
    this.served++
    const elapsed = performance.now() - started
    wiring.observe(learned.route, status, elapsed, caller)
    wiring.logServed?.(req, id, status, elapsed, caller)
    wiring.traceServed?.(req, learned.route, status, started)
  }

  /** One shared list per distinct set of fixed headers (a route has one or two): not one per URL. */
  private intern (headers: Array<[string, string]>): Array<[string, string]> {
    const id = headers.map(([name, value]) => `${name}: ${value}`).join('\n')
    let shared = this.headerSets.get(id)
    if (shared === undefined) {
      if (this.headerSets.size >= MAX_HEADER_SETS) this.headerSets.clear()
      this.headerSets.set(id, shared = headers)
    }
    return shared
  }

  private forget (url: string, learned: Learned): void {
    if (this.urls.delete(url)) this.chars -= url.length + learned.key.length
  }

  private clear (): void {
    this.urls.clear()
    this.chars = 0
  }
}

const doors = new WeakMap<Server, FrontDoor>()

/** The front door of the server Fastify listens on, when it was made by frontDoorServer. */
export function frontDoorOf (server: Server): FrontDoor | undefined {
  return doors.get(server)
}

/**
 * Fastify's `serverFactory`: the HTTP server Fastify would make (same options and timeouts), with
 * the front door first on every request. Every server of one app (Fastify makes a second one when
 * listening on both IPv4 and IPv6) shares one front door.
 */
export function frontDoorServer (): NonNullable<FastifyHttpOptions<Server>['serverFactory']> {
  const door = new FrontDoor()
  return (handler, options) => {
    const opts = options as FastifyHttpOptions<Server> & { keepAliveTimeout: number, connectionTimeout: number, requestTimeout: number }
    const server = createServer(opts.http ?? {}, (req, res) => {
      if (!door.serve(req, res, handler)) handler(req, res)
    })
    server.keepAliveTimeout = opts.keepAliveTimeout
    server.requestTimeout = opts.requestTimeout
    server.setTimeout(opts.connectionTimeout)
    if (opts.maxRequestsPerSocket !== undefined && opts.maxRequestsPerSocket > 0) server.maxRequestsPerSocket = opts.maxRequestsPerSocket
    doors.set(server, door)
    return server
  }
}
