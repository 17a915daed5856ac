/**
 * The admission control in front of an upstream with a hard request-rate ceiling (Douyin: 10 per
 * second for the whole app). Today an in-process implementation (`local.ts`); the shared Redis
 * limiter (atomic Lua on Redis's clock, queueing, priorities, a shared cooldown) implements the
 * same interface, so callers do not change when it lands.
 */

/** `interactive`: a caller waits for the answer; `background`: refreshes, prefetches. */
export type Priority = 'interactive' | 'background'

export interface AcquireOptions {
  /** Epoch ms. When no slot can be had before it, acquire throws at once (it does not wait in vain). */
  deadline: number
  priority?: Priority
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
