import { createHash, randomBytes } from 'node:crypto'
import { once } from 'node:events'
import { setTimeout as delay } from 'node:timers/promises'
import { Type } from '@sinclair/typebox'
import { TypeCompiler } from '@sinclair/typebox/compiler'
import type { Redis } from 'ioredis'
import type { FastifyBaseLogger } from 'fastify'
import { HttpProblem } from '../../errors.js'
import { secrets } from '../../secrets.js'
import { usable } from '../../redis-breaker.js'
import { parseJson, sample, type UpstreamHttp } from '../http.js'

/**
 * Douyin's stable_client_token: it hands back the same token for as long as that token is valid,
 * so instances (ours, or anything else using the same app) that ask for it do not knock each
 * other's tokens out. client_token issues a new token on every call, and only the newest two
 * stay valid: a few instances refreshing on their own would invalidate each other.
 */
export const STABLE_TOKEN_PATH = '/oauth/stable_client_token/'

// Numbers may come as digit strings (`"expires_in": "7200"`): read as the numbers they are.
const Whole = Type.Union([Type.Integer(), Type.String({ pattern: '^-?[0-9]{1,12}$' })])
const TokenAnswer = TypeCompiler.Compile(Type.Object({
  data: Type.Object({
    access_token: Type.Optional(Type.String()),
    expires_in: Type.Optional(Whole),
    error_code: Type.Optional(Whole),
    description: Type.Optional(Type.String())
  }),
  message: Type.Optional(Type.String())
}))
/** Any access token in a token answer's text, whatever its shape: a secret from the moment it arrives. */
const TOKEN_IN_TEXT = /"access_token"\s*:\s*"([^"\\]{1,4096})"/g

interface TokenRecord {
  token: string
  /** Epoch ms. */
  expiresAt: number
  /** Epoch ms: from then on one instance fetches a fresh token ahead of expiry. */
  refreshAt: number
}

export interface TokenSource {
  /** False for a token configured as is: nothing to renew it with. */
  readonly renewable: boolean
  /** A token to use now. Never a call to Douyin per request: shared, cached, refreshed ahead. */
  get: (deadline: number) => Promise<string>
  /**
   * Douyin refused `stale` (expired or invalid): a different token, refreshed at most once for
   * all callers that saw the same stale token. Throws UPSTREAM_AUTH when there is none to get.
   */
  renew: (stale: string, deadline: number) => Promise<string>
}

export interface TokenStats { fetches: number, failures: number }

/** A ready token from DOUYIN_ACCESS_TOKEN, used as is: nothing to refresh. */
export class StaticToken implements TokenSource {
  readonly renewable = false
  constructor (private readonly token: string) { secrets.add(token) }
  async get (): Promise<string> { return this.token }
  async renew (): Promise<string> {
    throw new HttpProblem('UPSTREAM_AUTH', {
      detail: 'Douyin refused the configured DOUYIN_ACCESS_TOKEN (expired or invalid); set a fresh one, or DOUYIN_CLIENT_KEY and DOUYIN_CLIENT_SECRET',
      upstream: { name: 'douyin' }
    })
  }
}

export interface SharedTokenOptions {
  http: UpstreamHttp
  clientKey: string
  clientSecret: string
  redis: Redis | null
  log: FastifyBaseLogger
  /** Timeout of one token call; also bounds how long the Redis lock is held. */
  timeoutMs: number
}

/** Refresh this long before expiry (at most a quarter of the token's life). */
const REFRESH_AHEAD_MS = 10 * 60_000
/** When Douyin hands back the same token on an early refresh: ask again no sooner than this. */
const MIN_REFRESH_INTERVAL_MS = 60_000
/** A token this close to expiry is not handed out. */
const SAFETY_MS = 5_000
const RELEASE_LOCK = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end"

/**
 * Client-credential tokens shared by every instance through Redis (key `douyin:token:<app>`):
 * one instance at a time refreshes (SET NX PX lock), the others wait briefly for its token. In
 * process, concurrent callers share one fetch and the token is cached, so the hot path is a
 * field read. Without Redis, or when Redis fails, it works in-process; a Redis problem never
 * fails a request. The token and the secret never reach logs, problems or `extra`.
 */
export class SharedToken implements TokenSource {
  readonly renewable = true
  /** Token fetches from Douyin: attempted, and of those the ones that gave no token. */
  readonly stats: TokenStats = { fetches: 0, failures: 0 }
  private local: TokenRecord | undefined
  private inflight: Promise<TokenRecord> | undefined
  private readonly key: string
  private readonly lockKey: string
  private readonly lockTtlMs: number

  constructor (private readonly opts: SharedTokenOptions) {
    secrets.add(opts.clientSecret)
    const app = createHash('sha256').update(opts.clientKey).digest('hex').slice(0, 16)
    this.key = `douyin:token:${app}`
    this.lockKey = `douyin:token-lock:${app}`
    this.lockTtlMs = Math.max(2000, opts.timeoutMs * 2)
  }

  async get (deadline: number): Promise<string> {
    const now = Date.now()
    const local = this.local
    if (local && now < local.refreshAt) return local.token
    if (local && now < local.expiresAt - SAFETY_MS) {
      // Due for an early refresh but still good: answer now, refresh once in the background.
      this.single(undefined, now + this.lockTtlMs).catch(err => this.opts.log.warn({ code: (err as HttpProblem).code }, 'Douyin token refresh ahead of expiry failed; will retry'))
      return local.token
    }
    return (await this.single(undefined, deadline)).token
  }

  async renew (stale: string, deadline: number): Promise<string> {
    const local = this.local
    if (local && local.token !== stale && Date.now() < local.expiresAt - SAFETY_MS) return local.token
    if (local?.token === stale) this.local = undefined
    return (await this.single(stale, deadline)).token
  }

  /** One fetch at a time in this process; a caller that needs a token other than `stale` waits for it. */
  private async single (stale: string | undefined, deadline: number): Promise<TokenRecord> {
    if (this.inflight) {
      const rec = await this.inflight.catch(() => undefined)
      if (rec && rec.token !== stale) return rec
    }
    this.inflight ??= this.obtain(stale, deadline).finally(() => { this.inflight = undefined })
    return this.inflight
  }

  private async obtain (stale: string | undefined, deadline: number): Promise<TokenRecord> {
    const redis = await this.usableRedis(deadline)
    if (redis) {
      const shared = await this.readShared(redis)
      if (shared && shared.token !== stale && Date.now() < shared.refreshAt) return this.use(shared)
      const nonce = randomBytes(12).toString('hex')
      const locked = await redis.set(this.lockKey, nonce, 'PX', this.lockTtlMs, 'NX').then(r => r === 'OK', () => undefined)
      if (locked === true) {
        try {
          // Someone may have refreshed between our read and our lock.
          const again = await this.readShared(redis)
          if (again && again.token !== stale && Date.now() < again.refreshAt) return this.use(again)
          const rec = await this.fetch(deadline, stale ?? shared?.token)
          await this.writeShared(redis, rec)
          return this.use(rec)
        } finally {
          await redis.eval(RELEASE_LOCK, 1, this.lockKey, nonce).catch(() => undefined)
        }
      }
      if (locked === false) {
        const theirs = await this.waitForShared(redis, stale ?? shared?.token, Math.min(deadline, Date.now() + this.lockTtlMs))
        if (theirs) return this.use(theirs)
        // A still-valid shared token beats fetching one of our own while the refresher is late.
        if (shared && shared.token !== stale && Date.now() < shared.expiresAt - SAFETY_MS) return this.use(shared)
      }
    }
    // No Redis, Redis failing, or the refreshing instance never delivered: fetch in-process.
    const rec = await this.fetch(deadline, stale)
    if (redis) await this.writeShared(redis, rec)
    return this.use(rec)
  }

  private use (rec: TokenRecord): TokenRecord {
    secrets.learn(rec.token)
    this.local = rec
    return rec
  }

  /** The Redis client when it answers; waits briefly for the first connection at start-up. */
  private async usableRedis (deadline: number): Promise<Redis | undefined> {
    const redis = this.opts.redis
    if (!redis) return undefined
    if (usable(redis)) return redis
    if (redis.status === 'ready') return undefined // ready, but the breaker is open: not now
    if (redis.status !== 'wait' && redis.status !== 'connecting' && redis.status !== 'connect') return undefined
    const wait = Math.min(1000, deadline - Date.now())
    if (wait <= 0) return undefined
    try {
      await once(redis, 'ready', { signal: AbortSignal.timeout(wait) })
      return redis
    } catch {
      return undefined
    }
  }

  private async readShared (redis: Redis): Promise<TokenRecord | undefined> {
    try {
      const raw = await redis.get(this.key)
      if (!raw) return undefined
      const rec = JSON.parse(raw) as TokenRecord
      return typeof rec.token === 'string' && typeof rec.expiresAt === 'number' && typeof rec.refreshAt === 'number' && Date.now() < rec.expiresAt - SAFETY_MS
        ? rec
        : undefined
    } catch {
      return undefined
    }
  }

  private async writeShared (redis: Redis, rec: TokenRecord): Promise<void> {
    const ttl = rec.expiresAt - Date.now()
    if (ttl <= 0) return
    await redis.set(this.key, JSON.stringify(rec), 'PX', ttl).catch(() => undefined)
  }

  /** Polls the shared token (50 ms, growing to 200 ms) until a new one appears or `until`. */
  private async waitForShared (redis: Redis, old: string | undefined, until: number): Promise<TokenRecord | undefined> {
    for (let step = 50; Date.now() + step < until; step = Math.min(200, step * 2)) {
      await delay(step)
      const rec = await this.readShared(redis)
      if (rec && rec.token !== old) return rec
    }
    return undefined
  }

  /** Calls Douyin for a token, counted. */
  private async fetch (deadline: number, old: string | undefined): Promise<TokenRecord> {
    this.stats.fetches++
    try {
      return await this.fetchOnce(deadline, old)
    } catch (err) {
      this.stats.failures++
      throw err
    }
  }

  /** Calls Douyin for a token. `old` is the token being replaced, only to say whether it changed. */
  private async fetchOnce (deadline: number, old: string | undefined): Promise<TokenRecord> {
    const { http, clientKey, clientSecret, log } = this.opts
    const res = await http.request({
      method: 'POST',
      path: STABLE_TOKEN_PATH,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ client_key: clientKey, client_secret: clientSecret, grant_type: 'client_credential' }),
      deadline: Math.min(deadline, Date.now() + this.lockTtlMs),
      retry: true
    })
    for (const m of res.body.matchAll(TOKEN_IN_TEXT)) secrets.learn(m[1])
    const body = parseJson('douyin', res.body, log)
    if (res.status !== 200 || !TokenAnswer.Check(body)) {
      // The sample goes to the log (scrubbed of every secret we know); the caller gets none of it.
      log.warn({ upstream: 'douyin', status: res.status, sample: sample(res.body, 120) }, 'Douyin token endpoint sent an unexpected answer')
      throw new HttpProblem(res.status === 200 ? 'UPSTREAM_BAD_RESPONSE' : 'UPSTREAM_AUTH', {
        detail: `Douyin's token endpoint answered HTTP ${res.status} with an unexpected body`,
        upstream: { name: 'douyin', code: `HTTP_${res.status}` }
      })
    }
    const { access_token: token, description } = body.data
    const expiresIn = Number(body.data.expires_in ?? 0)
    const code = Number(body.data.error_code ?? 0)
    if (code !== 0 || !token || !(expiresIn > 0)) {
      const upstream = { name: 'douyin', code: code || 'NO_TOKEN', message: description ?? body.message ?? '' }
      if (code === 10020) {
        throw new HttpProblem('UPSTREAM_RATE_LIMITED', { detail: "Douyin's token endpoint allows 500 calls in 5 minutes; it refused this one", upstream, retryAfter: 60 })
      }
      throw new HttpProblem('UPSTREAM_AUTH', {
        detail: code === 10003 || code === 10013
          ? 'Douyin refused our DOUYIN_CLIENT_KEY / DOUYIN_CLIENT_SECRET'
          : 'Douyin did not issue an access token',
        upstream
      })
    }
    const now = Date.now()
    const life = expiresIn * 1000
    const expiresAt = now + life
    const ahead = Math.min(REFRESH_AHEAD_MS, life / 4)
    const refreshAt = Math.min(Math.max(expiresAt - ahead, now + MIN_REFRESH_INTERVAL_MS), expiresAt - SAFETY_MS)
    log.info({ upstream: 'douyin', expiresIn, renewed: token !== old }, 'Douyin access token obtained')
    return { token, expiresAt, refreshAt }
  }
}
