/**
 * The admission rule of the Douyin limiter, the same in Redis (Lua, on Redis's clock) and in
 * process (on this process's clock): a sliding-window log with reservations.
 *
 * Each admitted request is given a send time `t`. With the log of send times s1 <= ... <= sn and a
 * ceiling of L per window W, a new request may go at the earliest
 *     t = max(now, sn, s(n-L+1) + W, cooldownUntil)
 * so no window of length W ever holds more than L send times, whatever the arrival order, and the
 * requests are served first come, first served across every instance that shares the log. A request
 * whose t lies beyond its own deadline is not admitted (nothing is reserved) and learns how long it
 * would have had to wait.
 */
export interface Reservation {
  /** True when a send time was reserved. */
  ok: boolean
  /** ms from now until the reserved send time (ok), or until the earliest possible one (not ok). */
  waitMs: number
  /** The reserved send time on the reserver's clock (ms): Redis's for the shared one. */
  at: number
  /** Why nothing can be reserved (not ok), when it is not the deadline. */
  why?: string
}

export interface Reserver {
  /** `tailMs`: the send may arrive this much later than a warm one; its slot is held that much longer. */
  reserve: (maxWaitMs: number, tailMs?: number) => Promise<Reservation>
  /** Nothing is admitted for `ms` (the upstream said "too many" anyway). */
  cooldown: (ms: number) => Promise<void>
}

/** The in-process reserver: the same rule on this process's clock (no Redis, or Redis down). */
export class LocalReserver implements Reserver {
  private log: number[] = []
  private lastAt = 0
  private cooldownUntil = 0

  constructor (private limit: number, private readonly windowMs: number, private readonly now: () => number = () => performance.now()) {}

  /** A new ceiling from now on (the share of a fleet that changed size). */
  setLimit (limit: number): void {
    this.limit = Math.max(1, limit)
  }

  async reserve (maxWaitMs: number, tailMs = 0): Promise<Reservation> {
    const now = this.now()
    let drop = 0
    while (drop < this.log.length && this.log[drop]! <= now - this.windowMs) drop++
    if (drop > 0) this.log = this.log.slice(drop)
    const n = this.log.length
    let t = Math.max(now, this.cooldownUntil, this.lastAt)
    if (n >= this.limit) t = Math.max(t, this.log[n - this.limit]! + this.windowMs)
    const waitMs = t - now
    if (waitMs > maxWaitMs) return { ok: false, waitMs, at: t }
    // The log holds the window (a cold send's tail included); lastAt the order of send times.
    const held = t + tailMs
    let i = this.log.length
    while (i > 0 && this.log[i - 1]! > held) i--
    this.log.splice(i, 0, held)
    this.lastAt = t
    return { ok: true, waitMs, at: t }
  }

  async cooldown (ms: number): Promise<void> {
    this.cooldownUntil = Math.max(this.cooldownUntil, this.now() + ms)
  }
}
