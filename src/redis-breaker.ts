/**
 * The circuit breaker of a Redis client. A Redis that hangs (SIGSTOP, a stalled network) keeps
 * its connection "ready" while every command waits for its timeout; after a few timeouts in a
 * row the breaker opens and `usable()` is false for every path that consults it (cache, limiter,
 * token, budgets), which then run on their local fallbacks at once instead of paying a timeout
 * per command. A PING probes in the background; the first answer closes the breaker.
 */
import type { Redis } from 'ioredis'

/** Timeouts in a row that open the breaker. */
const TRIP_AFTER = 2
/** Between probes while open. */
const PROBE_EVERY_MS = 250

interface Breaker { open: boolean, failures: number, probing: boolean, answeredAt: number }
const breakers = new WeakMap<Redis, Breaker>()

export interface BreakerLog {
  warn: (obj: object, msg: string) => void
  info: (msg: string) => void
}

/** True when commands to this client can be expected to answer: connected, and the breaker closed. */
export function usable (redis: Redis | null | undefined): boolean {
  return redis !== null && redis !== undefined && redis.status === 'ready' && breakers.get(redis)?.open !== true
}

/**
 * When this client last had any command answered (epoch ms; Infinity when unwatched): a Redis
 * that answers nothing at all while commands wait is hung, one that answers slowly is only busy.
 */
export function lastAnswer (redis: Redis): number {
  return breakers.get(redis)?.answeredAt ?? Infinity
}

/** Puts a breaker on a client: every command it sends is watched for timeouts. */
export function guard (redis: Redis, log: BreakerLog): void {
  if (breakers.has(redis)) return
  const b: Breaker = { open: false, failures: 0, probing: false, answeredAt: Date.now() }
  breakers.set(redis, b)
  type Send = Redis['sendCommand']
  const send: Send = redis.sendCommand.bind(redis)
  // Every argument passed on: a cluster client's sendCommand takes a third (the node).
  redis.sendCommand = ((command: Parameters<Send>[0], ...rest: unknown[]) => {
    const result = (send as (...args: unknown[]) => ReturnType<Send>)(command, ...rest)
    const done = (command as { promise?: Promise<unknown> }).promise
    done?.then(() => {
      b.failures = 0
      b.answeredAt = Date.now()
    }, (err: Error) => {
      if (/timed out/i.test(err.message)) trip()
      else b.answeredAt = Date.now()
    })
    return result
  }) as Send

  function trip (): void {
    if (++b.failures < TRIP_AFTER || b.open) return
    b.open = true
    log.warn({ timeouts: b.failures }, 'Redis does not answer in time: every Redis path runs on its local fallback until it does')
    probe()
  }

  function probe (): void {
    if (b.probing) return
    b.probing = true
    const again = () => {
      if (!b.open) { b.probing = false; return }
      if (redis.status === 'end') { b.probing = false; return }
      redis.ping().then(() => {
        b.open = false
        b.failures = 0
        b.probing = false
        log.info('Redis answers again: the breaker is closed')
      }, () => { setTimeout(again, PROBE_EVERY_MS).unref() })
    }
    setTimeout(again, PROBE_EVERY_MS).unref()
  }
}
