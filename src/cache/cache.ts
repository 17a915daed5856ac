import { createHash, randomBytes } from 'node:crypto'
import { setTimeout as delay } from 'node:timers/promises'
import type { Redis } from 'ioredis'
import type { FastifyBaseLogger } from 'fastify'
import { HttpProblem, isTransient } from '../errors.js'
import { expiresAt, makeEntry, type Entry } from './entry.js'
import { MemoryStore } from './memory-store.js'
import { RedisStore } from './redis-store.js'
import { Invalidations } from './invalidations.js'
import { usable } from '../redis-breaker.js'

export interface CachePolicy {
  /** Route name: the first part of every key of this policy. */
  name: string
  freshMs: number
  /** Stale-while-revalidate window after freshness ends. */
  staleMs: number
  /** Stale-if-error window after freshness ends. */
  errorMs: number
  /** How long a "not found" is remembered. */
  negativeMs: number
}

export interface FetchContext {
  /** True for a refresh nobody waits for (stale-while-revalidate): lower priority upstream. */
  background: boolean
  deadline: number
  /** The caller asked to revalidate: nested cached reads (per-query entries) revalidate too. */
  revalidate: boolean
}

/** Makes the bytes of an answer on a miss (the read service's fill: upstream call, mapping, check). */
export type Fetch = (ctx: FetchContext) => Promise<Buffer>

/**
 * How an answer was made: `hit` fresh from a tier; `stale` answered at once while a refresh runs;
 * `miss` fetched by this request; `coalesced` shared another request's fetch (here or in another
 * instance); `revalidated` fetched because the caller said no-cache; `stale-if-error` the upstream
 * failed and a stale entry was served.
 */
export type CacheStatus = 'hit' | 'stale' | 'miss' | 'coalesced' | 'revalidated' | 'stale-if-error'

/** How far each status is from a plain hit: an answer made of several entries reports its worst. */
export const STATUS_RANK: Readonly<Record<CacheStatus, number>> = { hit: 0, stale: 1, coalesced: 2, miss: 3, revalidated: 4, 'stale-if-error': 5 }

export interface CacheResult {
  entry: Entry
  status: CacheStatus
  /** The upstream problem behind a stale-if-error answer. */
  error?: HttpProblem
}

export interface CacheOptions {
  memory: MemoryStore
  redis: Redis | null
  log: FastifyBaseLogger
  /** With Redis: how long an in-process copy is served before it is checked against Redis again. */
  localTtlMs: number
  /** Lifetime of the cross-instance fill lock. */
  lockMs: number
  /** Deadline of a background refresh. */
  backgroundMs: number
  /**
   * Redis invalidations (cache/invalidations.ts): the Redis names of our entries start with
   * `prefix`. While they flow, in-process copies are trusted until Redis says one changed.
   */
  invalidations?: { prefix: string } | undefined
}

export interface CacheStats {
  hit: number
  stale: number
  miss: number
  coalesced: number
  revalidated: number
  'stale-if-error': number
  /** Fetches made (each one upstream call or walk). */
  fetches: number
  refreshes: number
}

/** Bump when the shape of cached bodies changes: old entries then simply miss. */
export const SCHEMA_VERSION = 2

/**
 * The key of one answer: the policy (route) name, the schema version, a fingerprint of the
 * upstream credential, and the sorted parameters (undefined ones left out). Readable, so the
 * in-process tier needs no hashing. Only read services build keys.
 */
export function cacheKey (policy: CachePolicy, credential: string, params: Record<string, string | number | boolean | undefined>): string {
  let out = `${policy.name}|v${SCHEMA_VERSION}|${credential}|`
  for (const name of Object.keys(params).sort()) {
    const value = params[name]
    if (value !== undefined) out += `${name}=${encodeURIComponent(String(value))}&`
  }
  return out
}

/** What a read service needs of the cache: the synchronous hot path and the read-through. */
export interface ReadThrough {
  freshHit: (key: string) => CacheResult | undefined
  cached: (key: string, policy: CachePolicy, fetch: Fetch, opts: { deadline: number, noCache?: boolean }) => Promise<CacheResult>
}

/**
 * The read-through cache under every read service: an in-process tier in front of an optional Redis tier,
 * one upstream call per key at a time (in this instance and across instances), stale-while-
 * revalidate, stale-if-error, negative caching of "not found", and no JSON work on a hit.
 */
export class Cache implements ReadThrough {
  readonly stats: CacheStats = { hit: 0, stale: 0, miss: 0, coalesced: 0, revalidated: 0, 'stale-if-error': 0, fetches: 0, refreshes: 0 }
  private readonly inflight = new Map<string, Promise<{ entry: Entry, fetched: boolean }>>()
  /** Keys whose local copy is being checked against Redis behind a hit. */
  private readonly checking = new Set<string>()
  private readonly shared: RedisStore | null
  private sharedUp = true

  private readonly invalidations: Invalidations | undefined
  /** The keys held in process by the digest Redis knows them by, for invalidation messages (as many as the in-process tier holds). */
  private readonly byHash = new Map<string, string>()
  /** Local copies dropped because Redis said another instance changed them. */
  private dropped = 0

  constructor (private readonly opts: CacheOptions) {
    this.shared = opts.redis ? new RedisStore(opts.redis) : null
    if (opts.redis && opts.invalidations) {
      this.invalidations = new Invalidations(opts.redis, opts.invalidations.prefix, keys => this.invalidated(keys), opts.log)
      opts.memory.onLeave = key => { this.byHash.delete(hashKey(key)) }
      this.invalidations.start()
    }
  }

  /** Redis invalidations: whether they flow now, and what they carried. */
  get tracking (): { trusted: boolean, messages: number, keys: number, resets: number, dropped: number } | undefined {
    const i = this.invalidations
    return i === undefined ? undefined : { trusted: i.trusted, ...i.stats, dropped: this.dropped }
  }

  /**
   * Until when a copy that agreed with Redis may be served unchecked. Trusted for good only when
   * no invalidation arrived since `epoch` (read before the Redis read that showed the copy): the
   * read's answer and an invalidation for a later write travel on two connections, in any order.
   */
  private checkedUntil (now: number, epoch: number): number {
    const i = this.invalidations
    return i !== undefined && i.trusted && i.epoch === epoch ? Infinity : now + this.opts.localTtlMs
  }

  /** Where the invalidations stand now, for checkedUntil. */
  private get epoch (): number { return this.invalidations?.epoch ?? 0 }

  /**
   * Another client wrote these Redis keys: their local copies go (the next read takes Redis's).
   * null: anything may have changed meanwhile (the channel was down): every copy is checked again.
   */
  private invalidated (keys: string[] | null): void {
    if (keys === null) {
      this.opts.memory.forEach(entry => { entry.localUntil = 0 })
      return
    }
    for (const redisKey of keys) {
      const hash = RedisStore.hashOf(redisKey)
      const key = hash === undefined ? undefined : this.byHash.get(hash)
      if (key !== undefined && this.opts.memory.has(key)) {
        this.opts.memory.delete(key)
        this.dropped++
      }
    }
  }

  close (): void {
    this.invalidations?.stop()
  }

  /** What the in-process tier holds now: its bytes stay within CACHE_LOCAL_MAX_MB. */
  get local (): { bytes: number, entries: number, maxBytes: number } {
    return { bytes: this.opts.memory.bytes, entries: this.opts.memory.size, maxBytes: this.opts.memory.maxBytes }
  }

  /** True while the shared tier answers (or when there is none to miss). */
  get redisUp (): boolean { return this.shared === null || this.sharedUp }

  /**
   * A fresh answer from the in-process tier, synchronously, or undefined: the hot path, with no
   * promise, no I/O and no JSON. Everything else goes through cached().
   */
  freshHit (key: string): CacheResult | undefined {
    const now = Date.now()
    const entry = this.opts.memory.get(key)
    if (entry === undefined || now >= entry.freshUntil) return undefined
    if (now >= (entry.localUntil ?? Infinity)) {
      if (this.opts.localTtlMs === 0) return undefined
      this.checkInBackground(key, entry)
    }
    this.stats.hit++
    return { entry, status: 'hit' }
  }

  /**
   * A fresh local copy due for its check against Redis is still served (a slow or frozen Redis
   * never delays a hit) while one check per key runs behind it; with CACHE_LOCAL_TTL_MS=0 every
   * answer waits for its check instead.
   */
  private checkInBackground (key: string, local: Entry): void {
    if (this.checking.has(key)) return
    this.checking.add(key)
    this.fromShared(key, local, Date.now()).catch(() => undefined).finally(() => this.checking.delete(key))
  }

  /** True when a shared tier is configured (it may still be down: see sharedHit). */
  get hasShared (): boolean { return this.shared !== null }

  /**
   * A fresh answer checked against the shared tier, for when freshHit could not answer; undefined
   * for anything else (absent, stale, a remembered "not found").
   */
  async sharedHit (key: string): Promise<CacheResult | undefined> {
    const now = Date.now()
    const entry = await this.fromShared(key, this.opts.memory.get(key), now)
    if (entry === undefined || entry.status !== 200 || Date.now() >= entry.freshUntil) return undefined
    this.stats.hit++
    return { entry, status: 'hit' }
  }

  async cached (key: string, policy: CachePolicy, fetch: Fetch, opts: { deadline: number, noCache?: boolean }): Promise<CacheResult> {
    const now = Date.now()
    let entry = this.opts.memory.get(key)
    if (this.shared !== null && (entry === undefined || now >= (entry.localUntil ?? Infinity))) {
      if (entry !== undefined && this.opts.localTtlMs > 0 && now < entry.freshUntil && opts.noCache !== true) this.checkInBackground(key, entry)
      else entry = await this.fromShared(key, entry, now)
    }
    if (entry !== undefined && opts.noCache !== true) {
      if (now < entry.freshUntil) {
        this.stats.hit++
        return { entry, status: 'hit' }
      }
      if (entry.status === 200 && now < entry.staleUntil) {
        this.stats.stale++
        this.refresh(key, policy, fetch, entry)
        return { entry, status: 'stale' }
      }
    }
    try {
      const filled = await this.fill(key, policy, fetch, { background: false, deadline: opts.deadline, revalidate: opts.noCache === true }, entry?.storedAt ?? 0)
      const status: CacheStatus = !filled.fetched ? 'coalesced' : opts.noCache === true ? 'revalidated' : 'miss'
      this.stats[status]++
      return { entry: filled.entry, status }
    } catch (err) {
      // A caller who said no-cache asked for a validated answer: no stale one in its place (RFC 9111).
      if (entry !== undefined && entry.status === 200 && opts.noCache !== true && Date.now() < entry.errorUntil && isTransient(err)) {
        this.stats['stale-if-error']++
        return { entry, status: 'stale-if-error', error: err instanceof HttpProblem ? err : undefined }
      }
      throw err
    }
  }

  /** One fill per key in this instance: concurrent callers share the same promise. */
  private fill (key: string, policy: CachePolicy, fetch: Fetch, ctx: FetchContext, after: number): Promise<{ entry: Entry, fetched: boolean }> {
    const running = this.inflight.get(key)
    if (running) return running.then(r => ({ entry: r.entry, fetched: false }))
    const promise = this.fillAcrossInstances(key, policy, fetch, ctx, after).finally(() => this.inflight.delete(key))
    this.inflight.set(key, promise)
    return promise
  }

  private refresh (key: string, policy: CachePolicy, fetch: Fetch, stale: Entry): void {
    if (this.inflight.has(key)) return
    this.stats.refreshes++
    this.fill(key, policy, fetch, { background: true, deadline: Date.now() + this.opts.backgroundMs, revalidate: false }, stale.storedAt)
      .catch(err => this.opts.log.warn({ err: { message: (err as Error).message }, key: policy.name }, 'background refresh failed; stale entry kept'))
  }

  /**
   * One fill per key across instances: the instance that takes the Redis lock calls the upstream;
   * the others wait (bounded by their deadline) for its value to appear instead of calling too.
   */
  private async fillAcrossInstances (key: string, policy: CachePolicy, fetch: Fetch, ctx: FetchContext, after: number): Promise<{ entry: Entry, fetched: boolean }> {
    const claim = await this.claim(key, ctx, after)
    if ('entry' in claim) return { entry: claim.entry, fetched: false }
    return { entry: await this.fetchAndStore(key, policy, fetch, ctx, claim.lock), fetched: true }
  }

  /**
   * Decides who calls the upstream for a key: the instance that takes the Redis lock; the others
   * wait (bounded by their deadline) for its value to appear instead of calling too. Redis failing
   * here, or a winner that takes too long, means: fetch here rather than fail the caller.
   */
  private async claim (key: string, ctx: FetchContext, after: number): Promise<{ entry: Entry } | { lock: Lock | null }> {
    const shared = this.usableShared()
    if (shared === null) return { lock: null }
    const keys = RedisStore.keys(hashKey(key))
    const token = randomBytes(8).toString('hex')
    const epoch = this.epoch
    try {
      const first = await shared.claim(keys, token, this.opts.lockMs)
      if (first.entry !== undefined && first.entry.storedAt > after) {
        // Another instance stored a value since this one missed: no second upstream call.
        if (first.locked) await shared.unlock(keys.lock, token)
        this.keep(key, first.entry, epoch)
        return { entry: first.entry }
      }
      if (first.locked) return { lock: { keys, token } }
      if (ctx.background) throw new HttpProblem('SERVICE_UNAVAILABLE', { detail: 'another instance is refreshing this entry' })
      const waitUntil = Math.min(ctx.deadline, Date.now() + this.opts.lockMs)
      for (let interval = 10; Date.now() < waitUntil; interval = Math.min(interval * 2, 160)) {
        await delay(Math.min(interval, Math.max(1, waitUntil - Date.now())))
        const seen = this.epoch
        const { entry, held } = await shared.peek(keys)
        if (entry !== undefined && entry.storedAt > after) {
          this.keep(key, entry, seen)
          return { entry }
        }
        if (!held && await shared.lock(keys.lock, token, this.opts.lockMs)) return { lock: { keys, token } }
      }
    } catch (err) {
      if (err instanceof HttpProblem) throw err
      this.markShared(false, err)
    }
    return { lock: null }
  }

  private async fetchAndStore (key: string, policy: CachePolicy, fetch: Fetch, ctx: FetchContext, lock: Lock | null): Promise<Entry> {
    let entry: Entry
    try {
      this.stats.fetches++
      entry = makeEntry(200, await fetch(ctx), Date.now(), policy)
    } catch (err) {
      if (!(err instanceof HttpProblem && err.status === 404)) {
        if (lock) await this.shared!.unlock(lock.keys.lock, lock.token).catch(() => {})
        throw err
      }
      // Negative caching: remember "not found" briefly, for every caller of this key, so nothing of
      // the caller who filled it: no request id of ours, none the upstream echoed back.
      const { requestId: _ours, upstream, ...problem } = err.toProblem('')
      const stored = upstream === undefined ? problem : { ...problem, upstream: { ...upstream, requestId: undefined } }
      entry = makeEntry(404, Buffer.from(JSON.stringify(stored)), Date.now(), { freshMs: policy.negativeMs, staleMs: 0, errorMs: 0 })
    }
    const until = expiresAt(entry)
    const epoch = this.epoch
    if (lock) {
      try {
        await this.shared!.commit(lock.keys, entry, until - Date.now(), lock.token)
        this.markShared(true)
      } catch (err) {
        this.markShared(false, err)
      }
    }
    this.keep(key, entry, epoch, lock !== null && this.sharedUp)
    return entry
  }

  /**
   * Keeps an entry in the in-process tier until it expires (the LRU bounds the bytes). `checked`:
   * it agrees with the shared tier now, so it is served as is for localTtlMs, then checked again;
   * without a shared tier in use it is served as is until it expires.
   */
  private keep (key: string, entry: Entry, epoch: number, checked = this.shared !== null && this.sharedUp): void {
    entry.localUntil = checked ? this.checkedUntil(Date.now(), epoch) : Infinity
    this.opts.memory.set(key, entry, expiresAt(entry))
    // After the set: replacing an entry tells onLeave, which forgets the digest.
    if (this.invalidations !== undefined && this.opts.memory.has(key)) this.byHash.set(hashKey(key), key)
  }

  /**
   * The entry as the shared tier has it now. A local copy that Redis still holds unchanged (same
   * times and validator: a read of the entry's first ~60 bytes) is used as it is, so a hit moves
   * the body across Redis only when it changed. Without Redis right now, the local copy stands;
   * and when Redis lost the entry (a restart, an eviction) a local copy that has not expired stands
   * too and is written back, so a restarted Redis does not turn a warm fleet cold.
   */
  private async fromShared (key: string, local: Entry | undefined, now: number): Promise<Entry | undefined> {
    const shared = this.usableShared()
    if (shared === null) return local
    const epoch = this.epoch
    try {
      const entryKey = RedisStore.keys(hashKey(key)).entry
      if (local !== undefined && await shared.holds(entryKey, local)) {
        this.markShared(true)
        local.localUntil = this.checkedUntil(now, epoch)
        return local
      }
      const entry = await shared.get(entryKey)
      this.markShared(true)
      if (entry !== undefined && now < expiresAt(entry)) {
        this.keep(key, entry, epoch, true)
        return entry
      }
      if (entry === undefined && local !== undefined && now < expiresAt(local)) {
        await shared.restore(entryKey, local, expiresAt(local) - now)
        local.localUntil = this.checkedUntil(now, epoch)
        return local
      }
      return undefined
    } catch (err) {
      this.markShared(false, err)
      return local
    }
  }

  /** The shared tier when its connection is ready; null otherwise (no command is even tried). */
  private usableShared (): RedisStore | null {
    if (this.shared === null) return null
    if (!usable(this.opts.redis)) {
      this.markShared(false)
      return null
    }
    return this.shared
  }

  private markShared (up: boolean, err?: unknown): void {
    if (up === this.sharedUp) return
    this.sharedUp = up
    if (up) this.opts.log.info('cache: Redis answers again; shared tier back in use')
    else this.opts.log.warn({ err: err ? { message: (err as Error).message } : undefined }, 'cache: Redis unavailable; running on the in-process tier')
  }
}

interface Lock { keys: { entry: string, lock: string }, token: string }

/** The Redis name of a cache key (keys can be long; Redis gets a fixed-size digest). */
export function hashKey (key: string): string {
  return createHash('sha1').update(key).digest('base64url')
}
