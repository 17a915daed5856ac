/**
 * The admission control in front of an upstream with a hard request-rate ceiling (Douyin: 10 per
 * second for the whole app): `QueueingLimiter` (queue.ts) over a reserver that holds the rule in
 * process (window.ts) or in Redis for every instance (redis-reserver.ts).
 */

/** `interactive`: a caller waits for the answer; `background`: refreshes, prefetches. */
export type Priority = 'interactive' | 'background'

export interface AcquireOptions {
  /** Epoch ms. When no slot can be had before it, acquire throws at once (it does not wait in vain). */
  deadline: number
  priority?: Priority
  /**
   * Asked when the send time is booked: how much later than a warm send this one may arrive (a
   * new connection); its slot is held that much longer, so it cannot crowd the next window.
   */
  tailMs?: () => number
}

export interface UpstreamLimiter {
  /**
   * Resolves when one request may be sent now, with its reserved send time on the limiter's clock
   * (ms; Redis's clock for the shared limiter), which tests compare exactly. Throws HttpProblem 503 `UPSTREAM_RATE_LIMITED`
   * with `retryAfter` (seconds) when it cannot admit the request before `deadline`.
   */
  acquire: (opts: AcquireOptions) => Promise<number>
  /**
   * The upstream said "too many" anyway (e.g. Douyin err_no 28003018): admit nothing for `ms`.
   * The shared limiter makes this cooldown shared by every instance.
   */
  cooldown: (ms: number) => Promise<void> | void
  close?: () => Promise<void> | void
}

/**
 * What an upstream client must ask before EVERY HTTP attempt it sends, retries included: the read
 * service that owns the call hands it over, so no attempt can go around the limiter.
 */
export interface Admission {
  /** Resolves when this attempt may be sent now; throws a problem when it may not in time. `tailMs`: see AcquireOptions. */
  admit: (retry: boolean, tailMs?: () => number) => Promise<void>
  /** The upstream said "too many" anyway: nothing is admitted for `ms`, in every instance. */
  cooldown: (ms: number) => Promise<void>
}
