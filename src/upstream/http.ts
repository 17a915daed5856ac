import { createHash } from 'node:crypto'
import { setTimeout as delay } from 'node:timers/promises'
import { Pool, buildConnector, errors as undiciErrors } from 'undici'
import { HttpProblem } from '../errors.js'

export type UpstreamName = 'aitoearn' | 'douyin'

/** Where a client logs what an upstream sent that we could not use (pino's shape). */
export interface UpstreamLog { warn: (obj: object, msg: string) => void }

export interface UpstreamHttpOptions {
  /** Timeout of one attempt: connect, headers and body each. */
  timeoutMs: number
  /** Told about failed answers, with a sample of the body (logs are scrubbed of secrets; problems never carry samples). */
  log?: UpstreamLog
  /** Largest body accepted; a longer one is a bad response. */
  maxBodyBytes?: number
  connections?: number
}

export interface UpstreamRequest {
  method: 'GET' | 'POST'
  /** Path and query, already encoded by the caller (never caller input as is). */
  path: string
  headers?: Record<string, string>
  body?: string
  /** Epoch ms by which the whole call, retries included, must be over. */
  deadline: number
  /** Retried on network errors and 5xx when true (idempotent calls only). */
  retry: boolean
  /**
   * Asked before every attempt (`retry`: not the first), e.g. the upstream's rate limiter; a
   * retry it refuses ends the call with the failure that caused it. `tailMs`, asked when the send
   * time is booked: how much later than a warm send this one may arrive (0, or a new connection's).
   */
  admit?: (retry: boolean, tailMs: () => number) => Promise<void>
}

export interface UpstreamResponse {
  status: number
  headers: Record<string, string | string[] | undefined>
  body: string
}

/**
 * A short stable fingerprint of an upstream identity (base URL and credential): a hash, never the
 * credential. Read services put it in their cache keys: another server or key is other data.
 */
export function fingerprint (identity: string): string {
  return createHash('sha256').update(identity).digest('hex').slice(0, 12)
}

/** The longest Retry-After of an upstream that is passed on (an hour): beyond it, something is off. */
const MAX_RETRY_AFTER_S = 3600

/**
 * An upstream's Retry-After (RFC 9110: delay-seconds or an HTTP-date) as whole seconds from now,
 * at least 1 and at most an hour; undefined when absent or unreadable.
 */
export function retryAfterSeconds (header: string | string[] | undefined, nowMs = Date.now()): number | undefined {
  const value = (Array.isArray(header) ? header[0] : header)?.trim()
  if (value === undefined || value === '') return undefined
  let seconds: number
  if (/^\d{1,10}$/.test(value)) seconds = Number(value)
  else {
    const at = Date.parse(value)
    if (Number.isNaN(at)) return undefined
    seconds = Math.ceil((at - nowMs) / 1000)
  }
  return Math.min(MAX_RETRY_AFTER_S, Math.max(1, seconds))
}

/** Jittered exponential backoff: base * 2^attempt, full jitter, capped. */
export function backoffMs (attempt: number, baseMs = 100, capMs = 2000): number {
  return Math.round(Math.random() * Math.min(capMs, baseMs * 2 ** attempt))
}

/** Waits `ms` unless that would pass the deadline; returns false when there is no time left. */
export async function waitWithin (ms: number, deadline: number): Promise<boolean> {
  if (Date.now() + ms >= deadline) return false
  await delay(ms)
  return true
}

const NETWORK_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED'])

/**
 * How much later than a warm one a send on a new connection may reach the upstream, beyond the
 * connection's set-up: its code paths run for the first time. Measured on loopback, two fresh
 * processes under a burst: their first sends arrived over ~90 ms, their next ones within ~35 ms.
 */
export const COLD_TAIL_MS = 100
/** Bookings this close together count as one burst, each needing a connection of its own. */
const BURST_MS = 20

/**
 * The HTTP transport of one upstream: its own undici pool, per-attempt timeouts, a deadline for
 * the whole call, bounded bodies, and retries of idempotent calls on network errors and 5xx.
 * Every failure leaves as an HttpProblem; nothing raw escapes.
 */
export class UpstreamHttp {
  /** Attempts by outcome, for /metrics: `ok` (any answer below 500) or the problem code of a failed one. */
  readonly stats: Record<string, number> = { ok: 0 }
  private readonly pool: Pool
  private readonly maxBodyBytes: number
  /** When each attempt that was promised a free connection was booked, until it is sent. */
  private readonly promised = new Set<number[]>()
  /** How long the last connections took to set up, ms (the last 16). */
  private readonly connects: number[] = []

  constructor (readonly name: UpstreamName, readonly baseUrl: string, private readonly opts: UpstreamHttpOptions) {
    this.pool = new Pool(baseUrl, {
      connections: opts.connections ?? 64,
      connect: this.timedConnector(opts.timeoutMs),
      headersTimeout: opts.timeoutMs,
      bodyTimeout: opts.timeoutMs,
      keepAliveTimeout: 4000
    })
    this.maxBodyBytes = opts.maxBodyBytes ?? 8 * 1024 * 1024
  }

  async request (req: UpstreamRequest): Promise<UpstreamResponse> {
    let failure: HttpProblem | undefined
    let cut = 0
    for (let attempt = 0; ; attempt++) {
      /** The upstream's own Retry-After on this attempt's 5xx: no retry before it. */
      let after: number | undefined
      if (req.admit !== undefined) {
        const claim: number[] = []
        try {
          if (failure === undefined) await req.admit(false, this.tailFor(claim))
          else await req.admit(true, this.tailFor(claim)).catch(() => { throw failure })
        } finally {
          this.promised.delete(claim)
        }
      }
      try {
        const res = await this.once(req)
        if (res.status < 500) {
          this.stats.ok!++
          return res
        }
        this.opts.log?.warn({ upstream: this.name, status: res.status, sample: sample(res.body) }, `${this.name} answered HTTP ${res.status}`)
        after = retryAfterSeconds(res.headers['retry-after'])
        failure = new HttpProblem('UPSTREAM_ERROR', {
          detail: `${this.name} answered HTTP ${res.status}`,
          upstream: { name: this.name, code: `HTTP_${res.status}` },
          ...(after !== undefined ? { retryAfter: after } : {})
        })
        this.count(failure)
      } catch (err) {
        failure = this.classify(err, req.deadline)
        this.count(failure)
        if (failure.code === 'UPSTREAM_TIMEOUT' && Date.now() >= req.deadline) throw failure
        // A body over the bound would be over it again: never fetched twice. A cut body may be a
        // dropped connection: tried once more, not three times.
        if (err instanceof BodyTooLarge) throw failure
        if (err instanceof TruncatedBody || err instanceof undiciErrors.ResponseContentLengthMismatchError) {
          if (cut++ > 0) throw failure
        }
      }
      if (!req.retry || attempt >= 3 || !(await waitWithin(Math.max(backoffMs(attempt), (after ?? 0) * 1000), req.deadline))) throw failure
    }
  }

  /**
   * For a rate limiter booking this attempt's send time: 0 when a free connection waits for it
   * (it is promised to this attempt), else how much later than a warm send it may arrive: a new
   * connection's set-up (the slowest of the last 16) and COLD_TAIL_MS of code run cold.
   * Free: connected and not running a request (the pool's own `free` lags a tick behind a finished
   * one), less those promised to bookings of the last BURST_MS. A promise older than that does not
   * count: bookings run ahead of their sends (the limiter's horizon), and one made a send earlier
   * finds that send's connection free again by its own turn (one warm connection serves a steady
   * 10 a second); bookings made together do need a connection each.
   */
  private tailFor (claim: number[]): () => number {
    return () => {
      if (claim.length > 0) return 0
      const now = performance.now()
      let recent = 0
      for (const [at] of this.promised) if (at! > now - BURST_MS) recent++
      const stats = this.pool.stats
      if (stats.connected - stats.running - recent > 0) {
        claim.push(now)
        this.promised.add(claim)
        return 0
      }
      return COLD_TAIL_MS + Math.max(0, ...this.connects)
    }
  }

  private timedConnector (timeoutMs: number): buildConnector.connector {
    const connect = buildConnector({ timeout: timeoutMs })
    return (options, callback) => {
      const started = performance.now()
      connect(options, (...args) => {
        if (args[0] === null) {
          this.connects.push(performance.now() - started)
          if (this.connects.length > 16) this.connects.shift()
        }
        callback(...args)
      })
    }
  }

  private count (failure: HttpProblem): void {
    this.stats[failure.code] = (this.stats[failure.code] ?? 0) + 1
  }

  private async once (req: UpstreamRequest): Promise<UpstreamResponse> {
    const remaining = req.deadline - Date.now()
    if (remaining <= 0) throw new DeadlineReached()
    const signal = AbortSignal.timeout(remaining)
    const res = await this.pool.request({
      method: req.method,
      path: req.path,
      headers: req.headers,
      body: req.body,
      signal,
      headersTimeout: Math.min(this.opts.timeoutMs, remaining),
      bodyTimeout: Math.min(this.opts.timeoutMs, remaining)
    })
    const chunks: Buffer[] = []
    let size = 0
    try {
      for await (const chunk of res.body) {
        size += (chunk as Buffer).length
        if (size > this.maxBodyBytes) {
          res.body.destroy()
          throw new BodyTooLarge(this.maxBodyBytes)
        }
        chunks.push(chunk as Buffer)
      }
    } catch (err) {
      // Headers arrived, the body did not: a timeout stays a timeout, anything else is a cut-off body.
      if (err instanceof BodyTooLarge || Date.now() >= req.deadline || err instanceof undiciErrors.BodyTimeoutError) throw err
      throw new TruncatedBody()
    }
    return { status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }
  }

  private classify (err: unknown, deadline: number): HttpProblem {
    if (err instanceof HttpProblem) return err
    if (err instanceof BodyTooLarge) return new HttpProblem('UPSTREAM_BAD_RESPONSE', { detail: `${this.name} sent a body larger than ${err.bytes} bytes`, upstream: { name: this.name } })
    const e = err as { name?: string, code?: string, message?: string }
    const why = typeof e?.code === 'string' ? e.code : e?.name
    const upstream = { name: this.name, ...(why !== undefined ? { message: String(why) } : {}) }
    if (err instanceof DeadlineReached || e?.name === 'TimeoutError' || e?.name === 'AbortError' ||
        err instanceof undiciErrors.HeadersTimeoutError || err instanceof undiciErrors.BodyTimeoutError ||
        err instanceof undiciErrors.ConnectTimeoutError || Date.now() >= deadline) {
      return new HttpProblem('UPSTREAM_TIMEOUT', { detail: `${this.name} did not answer in time`, upstream })
    }
    if (err instanceof TruncatedBody || err instanceof undiciErrors.ResponseContentLengthMismatchError) {
      return new HttpProblem('UPSTREAM_BAD_RESPONSE', { detail: `${this.name} sent a truncated body`, upstream })
    }
    if (e?.code && NETWORK_CODES.has(e.code)) {
      return new HttpProblem('UPSTREAM_UNAVAILABLE', { detail: `${this.name} could not be reached (${e.code})`, upstream, retryAfter: 1 })
    }
    return new HttpProblem('UPSTREAM_BAD_RESPONSE', { detail: `${this.name} call failed: ${e?.code ?? e?.name ?? 'unknown error'}`, upstream })
  }

  /**
   * At shutdown, after the server has answered its requests: calls still running (a background
   * refresh, or one whose request was answered 503 when the grace period ended) are cut, not
   * waited for, so a hanging upstream cannot hold the process.
   */
  async close (): Promise<void> {
    await this.pool.destroy()
  }
}

class DeadlineReached extends Error {}
class BodyTooLarge extends Error {
  constructor (readonly bytes: number) { super('body too large') }
}
class TruncatedBody extends Error {}

/** A short, single-line sample of a body for logs and problems. */
export function sample (body: string, max = 200): string {
  const flat = body.replace(/\s+/g, ' ').trim()
  return flat.length > max ? `${flat.slice(0, max)}…` : flat
}

/**
 * Parses a JSON body; a body that is not JSON (an HTML page, a cut-off document) is a bad
 * response: its sample goes to the log, never into the problem.
 */
export function parseJson (name: UpstreamName, body: string, log: UpstreamLog, parse: (text: string) => unknown = JSON.parse): unknown {
  try {
    return parse(body)
  } catch {
    log.warn({ upstream: name, sample: sample(body, 120) }, `${name} sent a body that is not JSON`)
    throw new HttpProblem('UPSTREAM_BAD_RESPONSE', { detail: `${name} sent a body that is not JSON`, upstream: { name } })
  }
}
