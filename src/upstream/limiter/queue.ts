import { setTimeout as delay } from 'node:timers/promises'
import { activeContext, within } from '../../tracing.js'
import type { FastifyBaseLogger } from 'fastify'
import { HttpProblem } from '../../errors.js'
import type { AcquireOptions, Priority, UpstreamLimiter } from './types.js'
import { LocalReserver, type Reservation } from './window.js'
import { FORGET_MS, LEASE_MS, type RedisReserver } from './redis-reserver.js'

interface Waiter {
  priority: Priority
  tailMs: (() => number) | undefined
  deadline: number
  enqueuedAt: number
  /** The trace of the request waiting (tracing on), for what the queue does on its behalf. */
  trace: ReturnType<typeof activeContext>
  resolve: (at: number) => void
  reject: (err: Error) => void
}

/** How often an instance renews its lease in the shared limiter's fleet. */
const HEARTBEAT_MS = 500
/**
 * How long, after an instance comes back from its local share, the shared budget keeps room for
 * the others that may not be back yet: the longest an instance takes to see Redis again (its
 * reconnect back-off, 2 s, and the breaker's probe) plus one window of its local sends.
 */
const RECOVERY_MS = 4500

export interface LimiterStats {
  admitted: number
  rejected: number
  cooldowns: number
  /** Slots given up because this process woke up too late to use them (a stall): taken again. */
  missed: number
  queueLength: number
  mode: 'shared' | 'local'
}

export interface QueueingLimiterOptions {
  name: string
  /** Shared reserver (Redis), or null: in-process only. */
  shared: RedisReserver | null
  /** The ceiling per window. */
  limit: number
  /**
   * Each instance's share of the ceiling while Redis is configured but away; default the ceiling
   * split over the fleet last seen in Redis (its leases).
   */
  fallbackLimit?: number | undefined
  windowMs: number
  /** Most requests waiting in this instance; more are refused at once. */
  maxQueue: number
  /**
   * How far ahead of its send time this instance reserves the next one. Reserving only just ahead
   * keeps the order of the local queue meaningful (interactive before background) and lets every
   * instance take its turn at the shared log.
   */
  horizonMs: number
  /**
   * How late after its reserved time a request may still go. A process that stalls (a GC pause,
   * a CPU quota, a blocked loop) wakes with timers that are due together; sending them all then
   * would put sends the shared log placed apart into one second beside the other instances'. A
   * slot missed by more than this is given up and a new one reserved. The window carries the
   * same margin, so sends never crowd a window even when each goes this late.
   */
  lateMs: number
  log: FastifyBaseLogger
  /** Told how long each admitted request waited, ms (the metrics' histogram). */
  onWait?: (ms: number) => void
}

/**
 * A limiter that queues: callers wait in a bounded local queue (interactive before background,
 * first come first served within a priority) until the reserver gives them a send time, or are
 * refused with 503 UPSTREAM_RATE_LIMITED and Retry-After when no send time fits their deadline.
 * With Redis the ceiling is shared by every instance; without it, or while Redis is down, it holds
 * in process (at the fallback share when Redis is configured), and returns to Redis by itself.
 */
export class QueueingLimiter implements UpstreamLimiter {
  readonly stats: LimiterStats
  private readonly queue: Waiter[] = []
  private readonly local: LocalReserver
  private pumping = false
  /** Actual send times (performance clock) of this instance's last admissions, oldest first. */
  private readonly sent: number[] = []
  private localLimit: number
  /** Send time (ms, performance clock) of the last admission, whichever reserver gave it. */
  private lastSend = 0
  private usingShared: boolean
  private readonly heartbeat: NodeJS.Timeout | undefined

  constructor (private readonly opts: QueueingLimiterOptions) {
    this.localLimit = opts.shared ? opts.fallbackLimit ?? opts.shared.share : opts.limit
    this.local = new LocalReserver(this.localLimit, opts.windowMs)
    this.usingShared = opts.shared !== null
    this.stats = { admitted: 0, rejected: 0, cooldowns: 0, missed: 0, queueLength: 0, mode: this.usingShared ? 'shared' : 'local' }
    const shared = opts.shared
    if (shared !== null) {
      // The lease that tells the fleet this instance is here (and how many instances there are).
      this.heartbeat = setInterval(() => {
        if (!shared.usable) return
        // Still spending its local share: sent on it within the last window.
        const local = !this.usingShared && performance.now() < this.lastSend + this.opts.windowMs
        shared.heartbeat(local).then(() => this.fleetSeen(), () => {})
      }, HEARTBEAT_MS)
      this.heartbeat.unref()
    }
  }

  /** Fleet size as Redis last told: the local share follows it (unless configured). */
  private fleetSeen (): void {
    const shared = this.opts.shared
    if (shared === null || this.opts.fallbackLimit !== undefined) return
    if (shared.share !== this.localLimit) {
      this.localLimit = shared.share
      this.local.setLimit(shared.share)
    }
  }

  acquire ({ deadline, priority = 'interactive', tailMs }: AcquireOptions): Promise<number> {
    if (this.queue.length >= this.opts.maxQueue) {
      this.stats.rejected++
      return Promise.reject(this.refusal(1000, `${this.queue.length} requests already wait for the ${this.opts.name} budget`))
    }
    return new Promise<number>((resolve, reject) => {
      const waiter: Waiter = { priority, tailMs, deadline, enqueuedAt: performance.now(), trace: activeContext(), resolve, reject }
      // Interactive requests go before every background one; FIFO within a priority.
      const at = priority === 'interactive' ? this.queue.findIndex(w => w.priority === 'background') : -1
      if (at < 0) this.queue.push(waiter)
      else this.queue.splice(at, 0, waiter)
      this.stats.queueLength = this.queue.length
      this.pump().catch(err => this.opts.log.error({ err }, 'limiter pump failed'))
    })
  }

  async cooldown (ms: number): Promise<void> {
    this.stats.cooldowns++
    this.opts.log.warn({ upstream: this.opts.name, ms }, 'upstream rate limit hit: every instance pauses')
    await this.local.cooldown(ms)
    if (this.opts.shared?.usable) await this.opts.shared.cooldown(ms).catch(() => {})
  }

  private async pump (): Promise<void> {
    if (this.pumping) return
    this.pumping = true
    try {
      while (this.queue.length > 0) {
        const waiter = this.queue.shift()!
        this.stats.queueLength = this.queue.length
        const remaining = waiter.deadline - Date.now()
        // The pump serves every waiter: the reservation made for this one is traced as its own.
        const reservation: Reservation = remaining > 0 ? await within(waiter.trace, () => this.reserve(remaining, waiter.tailMs?.() ?? 0)) : { ok: false, waitMs: this.opts.windowMs, at: 0 }
        if (!reservation.ok) {
          this.stats.rejected++
          waiter.reject(this.refusal(reservation.waitMs, reservation.why ?? `no ${this.opts.name} request slot before the request's deadline`))
          continue
        }
        const now = performance.now()
        this.lastSend = Math.max(this.lastSend, now + reservation.waitMs)
        this.release(waiter, reservation)
        if (reservation.waitMs > this.opts.horizonMs) await delay(reservation.waitMs - this.opts.horizonMs)
      }
    } finally {
      this.pumping = false
    }
  }

  /**
   * Lets a waiter go at its reserved time, and not before this instance's own sends allow: a timer
   * that fired late for an earlier request must not leave a later one closer than a window to it
   * (the reservation rule holds on reserved times; this holds it on actual send times too). A slot
   * this process woke up too late for is given up: the waiter goes back to the head of the queue.
   */
  private release (waiter: Waiter, reservation: Reservation): void {
    const due = performance.now() + Math.max(0, reservation.waitMs)
    const go = () => {
      const now = performance.now()
      const limit = this.usingShared ? this.opts.limit : this.localLimit
      const earliest = this.sent.length >= limit ? this.sent[this.sent.length - limit]! + this.opts.windowMs : 0
      if (Math.max(now, earliest) > due + this.opts.lateMs) {
        this.stats.missed++
        this.queue.unshift(waiter)
        this.stats.queueLength = this.queue.length
        this.pump().catch(err => this.opts.log.error({ err }, 'limiter pump failed'))
        return
      }
      if (now < earliest) {
        setTimeout(go, earliest - now)
        return
      }
      this.sent.push(now)
      if (this.sent.length > 4 * this.opts.limit) this.sent.splice(0, this.sent.length - this.opts.limit)
      this.lastSend = Math.max(this.lastSend, now)
      this.observe(now - waiter.enqueuedAt)
      waiter.resolve(reservation.at)
    }
    if (reservation.waitMs <= 0) go()
    else setTimeout(go, reservation.waitMs)
  }

  /** Shared when Redis answers, local otherwise; switching never lets both budgets add up. */
  private async reserve (maxWaitMs: number, tailMs: number): Promise<Reservation> {
    const shared = this.opts.shared
    const now = performance.now()
    if (shared !== null && shared.usable) {
      if (!this.usingShared && now < this.lastSend + this.opts.windowMs) {
        // Back from the local share: the shared log does not know our local sends, so it takes
        // over only once they are a window old. Under steady load that means one pause here (at
        // most a window), never staying on the local share for good.
        const wait = this.lastSend + this.opts.windowMs - now
        if (wait >= maxWaitMs) return { ok: false, waitMs: wait, at: 0 }
        await delay(wait)
        maxWaitMs -= wait
      }
      try {
        // Others may still be on their local share, as this one was a moment ago: the shared
        // budget keeps room for them until they are surely back (their local sends a window old).
        if (!this.usingShared) await shared.recovering(shared.fleet - 1, RECOVERY_MS)
        const reservation = await shared.reserve(maxWaitMs, tailMs)
        this.fleetSeen()
        this.setMode(true)
        return reservation
      } catch (err) {
        this.setMode(false, err)
      }
    } else if (shared !== null) {
      this.setMode(false)
    }
    return this.localReserve(maxWaitMs, tailMs)
  }

  /**
   * The local share, while the others keep room for it: from this instance's last contact with
   * Redis until the fleet forgets it (FORGET_MS, less a lease). Past that, or before Redis was
   * ever reached, the others do not know this instance, and a share spent now would come on top of
   * their ceiling: nothing is sent unless DOUYIN_QPS_FALLBACK says how much is safe.
   */
  private async localReserve (maxWaitMs: number, tailMs: number): Promise<Reservation> {
    const shared = this.opts.shared
    if (shared !== null) {
      const now = Date.now()
      if (this.opts.fallbackLimit === undefined && now - shared.lastContact > FORGET_MS - LEASE_MS) {
        const why = shared.lastContact === 0
          ? `the ${this.opts.name} ceiling is shared in Redis, which this instance has not reached yet`
          : `Redis has been unreachable for over ${(FORGET_MS - LEASE_MS) / 1000} s: the other instances no longer keep room for this one`
        return { ok: false, waitMs: this.opts.windowMs, at: 0, why }
      }
      // The others count this instance on the shared log until its lease lapses: no local send before.
      if (shared.leaseUntil > now) await this.local.cooldown(shared.leaseUntil - now)
    }
    return this.local.reserve(maxWaitMs, tailMs)
  }

  private setMode (shared: boolean, err?: unknown): void {
    if (shared === this.usingShared) return
    this.usingShared = shared
    this.stats.mode = shared ? 'shared' : 'local'
    if (shared) {
      this.opts.log.info({ upstream: this.opts.name }, 'limiter: Redis answers again; shared ceiling back in use')
    } else {
      // Sends reserved in the shared log may still be ahead: start the local budget after them.
      this.local.cooldown(Math.max(0, this.lastSend + this.opts.windowMs - performance.now())).catch(() => {})
      this.opts.log.warn({ upstream: this.opts.name, err: err ? { message: (err as Error).message } : undefined, limit: this.localLimit },
        'limiter: Redis unavailable; holding an in-process share of the ceiling')
    }
  }

  private observe (ms: number): void {
    this.stats.admitted++
    this.opts.onWait?.(ms)
  }

  private refusal (waitMs: number, detail: string): HttpProblem {
    return new HttpProblem('UPSTREAM_RATE_LIMITED', { detail, retryAfter: Math.max(1, Math.ceil(waitMs / 1000)), upstream: { name: this.opts.name } })
  }

  close (): void {
    clearInterval(this.heartbeat)
    if (this.opts.shared?.usable) this.opts.shared.leave().catch(() => {})
    for (const waiter of this.queue.splice(0)) waiter.reject(new HttpProblem('SERVICE_UNAVAILABLE', { detail: 'shutting down', retryAfter: 1 }))
  }
}
