/**
 * A caller budget: at most `max` takes per caller per fixed window (windows aligned to the epoch,
 * so every instance counts the same window). Counting is local and synchronous: a take is a map
 * lookup, no I/O. With Redis, each instance adds what it counted to a shared counter in batches
 * (every FLUSH_MS, or as soon as BATCH takes of one caller are not yet shared) and learns the
 * fleet's total back. While an instance has BATCH takes of a caller in flight to Redis it admits
 * no more of that caller until they land (`take` answers `undefined`: ask `takeAsync`). So the
 * budget is exact in one instance and over Redis is never exceeded by more than BATCH takes per
 * instance (`slack`); a caller is never refused while the fleet's total is below `max`. A budget
 * under 20 has no batch: each take is counted in Redis before it is answered (exact). Without
 * Redis, or while it is away (its circuit breaker), each instance counts alone.
 */
import { setTimeout as delay } from 'node:timers/promises'
import { detached } from '../tracing.js'
import type { Redis, Result } from 'ioredis'
import { lastAnswer, usable } from '../redis-breaker.js'

declare module 'ioredis' {
  interface RedisCommander<Context> {
    bffBudgetAdd: (key: string, n: number, ttlMs: number) => Result<number, Context>
  }
}

// Adds to a window's shared count and answers the total; the key lives as long as its window.
const ADD = `
local total = redis.call('INCRBY', KEYS[1], ARGV[1])
if total == tonumber(ARGV[1]) then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return total`

/** How often the takes counted here are added to the shared counts. */
export const FLUSH_MS = 100
/** The longest a take waits for its batch to land in a Redis that answers nothing. */
const LAND_WAIT_MS = 50
/** A timer later than this: the process is behind (its own backlog delays Redis's answers). */
const BEHIND_MS = 10

export interface Verdict {
  ok: boolean
  limit: number
  /** Takes left in this window (0 when refused). */
  remaining: number
  /** Seconds until the window ends (when the budget is whole again). */
  resetS: number
}

interface Count {
  window: number
  /** The fleet's total as Redis last said (this instance's shared takes included). */
  known: number
  /** Takes counted here, not yet sent to Redis. */
  pending: number
  /** Takes sent to Redis, answer not yet back. */
  sending: number
  /** Resolves the waiters for room once the sending batch lands. */
  landed?: Promise<void>
}

export interface BudgetOptions {
  name: string
  max: number
  windowMs: number
  redis: Redis | null
  /** Most callers tracked at once (the oldest windows go first). */
  maxCallers?: number
}

export class Budget {
  /** Takes of one caller an instance may have counted and not yet shared. */
  readonly batch: number
  /** Takes per caller per window. */
  get max (): number { return this.opts.max }
  private readonly counts = new Map<string, Count>()
  /** Callers with takes not yet shared. */
  private readonly dirty = new Set<string>()
  private timer: NodeJS.Timeout | undefined
  private readonly maxCallers: number

  constructor (private readonly opts: BudgetOptions) {
    // 5% of the budget per instance: a caller far below its budget is counted without a round
    // trip per request (a cap of 50 sent a caller at 20k req/s to Redis every 50 takes: 0.53 of bare).
    this.batch = Math.floor(opts.max / 20)
    this.maxCallers = opts.maxCallers ?? 100_000
    if (opts.redis !== null && typeof (opts.redis as Partial<Redis>).bffBudgetAdd !== 'function') {
      opts.redis.defineCommand('bffBudgetAdd', { numberOfKeys: 1, lua: ADD })
    }
  }

  /** How far the fleet may go past `max` in one window, at most: BATCH per instance. */
  slack (instances: number): number {
    return this.opts.redis === null ? 0 : this.batch * instances
  }

  /**
   * One take for `caller`, synchronously: its verdict, or undefined when this instance must first
   * share what it counted for the caller (then use takeAsync).
   */
  take (caller: string, now = Date.now()): Verdict | undefined {
    const window = Math.floor(now / this.opts.windowMs)
    const resetS = Math.max(1, Math.ceil(((window + 1) * this.opts.windowMs - now) / 1000))
    let c = this.counts.get(caller)
    if (c === undefined || c.window !== window) {
      if (c !== undefined) this.counts.delete(caller)
      c = { window, known: 0, pending: 0, sending: 0 }
      this.counts.set(caller, c)
      if (this.counts.size > this.maxCallers) this.counts.delete(this.counts.keys().next().value!)
    }
    const used = c.known + c.pending + c.sending
    if (used >= this.opts.max) return { ok: false, limit: this.opts.max, remaining: 0, resetS }
    const sharing = this.opts.redis !== null && usable(this.opts.redis)
    if (sharing && (this.batch === 0 || c.pending + c.sending >= this.batch)) {
      if (this.batch > 0) this.flush()
      return undefined
    }
    c.pending++
    if (sharing) {
      this.dirty.add(caller)
      if (c.pending >= this.batch) this.flush()
      else this.timer ??= setTimeout(detached(() => this.flush()), FLUSH_MS)
    } else {
      // Nothing to share with: counted here only (pending is then this instance's own count).
      c.known += c.pending
      c.pending = 0
    }
    return { ok: true, limit: this.opts.max, remaining: this.opts.max - used - 1, resetS }
  }

  /**
   * One take, waiting for this instance's batch of the caller to land in Redis when it must. A
   * Redis that has answered no command at all for LAND_WAIT_MS, while this process kept up (the
   * wait's timer fired on time), is taken for hung: the take is counted here alone, so a frozen
   * Redis holds no request longer than that before its breaker opens. A Redis that answers slowly,
   * or a process too busy to read its answers, is waited for: the slack holds.
   */
  async takeAsync (caller: string): Promise<Verdict> {
    for (;;) {
      const now = Date.now()
      const verdict = this.take(caller, now)
      if (verdict !== undefined) return verdict
      if (this.batch === 0) return await this.takeInRedis(caller, now)
      const c = this.counts.get(caller)!
      if (!await this.landsInTime(c.landed)) return this.takeHere(c, now)
    }
  }

  /** False when `landed` is still pending, Redis has answered nothing for LAND_WAIT_MS, and this process kept up. */
  private async landsInTime (landed: Promise<unknown> | undefined): Promise<boolean> {
    if (landed === undefined) return true
    for (;;) {
      const started = performance.now()
      const ok = await Promise.race([landed.then(() => true), delay(LAND_WAIT_MS).then(() => false)])
      if (ok) return true
      const keptUp = performance.now() - started - LAND_WAIT_MS < BEHIND_MS
      if (keptUp && Date.now() - lastAnswer(this.opts.redis!) >= LAND_WAIT_MS) return false
    }
  }

  /** One take counted in this instance only. */
  private takeHere (c: Count, now: number): Verdict {
    const resetS = Math.max(1, Math.ceil(((c.window + 1) * this.opts.windowMs - now) / 1000))
    const used = c.known + c.pending + c.sending
    if (used >= this.opts.max) return { ok: false, limit: this.opts.max, remaining: 0, resetS }
    c.known++
    return { ok: true, limit: this.opts.max, remaining: this.opts.max - used - 1, resetS }
  }

  /**
   * One take counted in Redis before it is answered: exact across the fleet. A Redis that does not
   * answer within LAND_WAIT_MS is not waited for: the take is counted here alone.
   */
  private async takeInRedis (caller: string, now: number): Promise<Verdict> {
    const c = this.counts.get(caller)!
    const resetS = Math.max(1, Math.ceil(((c.window + 1) * this.opts.windowMs - now) / 1000))
    c.sending++
    const added = this.opts.redis!.bffBudgetAdd(this.redisKey(caller, c.window), 1, (c.window + 1) * this.opts.windowMs - now + 1000)
      .then(total => { c.known = Math.max(c.known, total); return total }, () => undefined)
      .finally(() => { c.sending-- })
    const total = await this.landsInTime(added) ? await added : undefined
    if (total === undefined) return this.takeHere(c, now)
    return { ok: total <= this.opts.max, limit: this.opts.max, remaining: Math.max(0, this.opts.max - total), resetS }
  }

  private redisKey (caller: string, window: number): string {
    return `budget:{${this.opts.name}:${caller}}:${window}`
  }

  /** Sends every caller's pending takes to Redis (one script call each, pipelined). */
  private flush (): void {
    clearTimeout(this.timer)
    this.timer = undefined
    const redis = this.opts.redis
    if (redis === null) return
    const canShare = usable(redis)
    for (const caller of this.dirty) {
      const c = this.counts.get(caller)
      if (c === undefined || c.pending === 0) {
        this.dirty.delete(caller)
        continue
      }
      if (c.sending > 0) continue
      this.dirty.delete(caller)
      if (!canShare) {
        c.known += c.pending
        c.pending = 0
        continue
      }
      const n = c.pending
      c.pending = 0
      c.sending = n
      const ttl = (c.window + 1) * this.opts.windowMs - Date.now() + 1000
      c.landed = redis.bffBudgetAdd(this.redisKey(caller, c.window), n, Math.max(1000, ttl)).then(total => {
        c.known = Math.max(c.known + n, total)
      }, () => {
        // Redis did not take it: counted here alone, as without Redis.
        c.known += n
      }).finally(() => {
        c.sending = 0
        if (c.pending > 0) {
          this.dirty.add(caller)
          this.timer ??= setTimeout(detached(() => this.flush()), FLUSH_MS)
        }
      })
    }
  }

  close (): void {
    clearTimeout(this.timer)
  }
}
