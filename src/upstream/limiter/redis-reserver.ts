import type { Redis, Result } from 'ioredis'
import type { Reservation, Reserver } from './window.js'
import { usable } from '../../redis-breaker.js'

declare module 'ioredis' {
  interface RedisCommander<Context> {
    bffLimiterReserve: (log: string, cooldown: string, seq: string, fleet: string, recovering: string, last: string,
      limit: number, windowUs: number, maxWaitUs: number, me: string, share: number, leaseUs: number, forgetUs: number, tailUs: number) => Result<[number, number, number, number], Context>
    bffLimiterCooldown: (cooldown: string, ms: number) => Result<number, Context>
    bffLimiterHeartbeat: (fleet: string, me: string, leaseUs: number, forgetUs: number, local: number) => Result<number, Context>
    bffLimiterRecover: (recovering: string, count: number, ms: number) => Result<number, Context>
  }
}

/**
 * An instance that has not been heard from for this long may be spending a local share; and an
 * instance that loses Redis spends none until its lease has lapsed, so the others hold room for it
 * before it sends (or it told them it is on its local share).
 */
export const LEASE_MS = 1500
/**
 * ...and after this long it is taken for gone (a crash), no longer held room for. An instance cut
 * off from Redis stops spending its local share before this (the others no longer keep room for
 * it then): a Redis outage longer than this stops Douyin calls until Redis is back.
 */
export const FORGET_MS = 60_000

// The fleet in front of the rule: every instance refreshes its lease (a heartbeat, and each
// reservation); instances whose lease lapsed within FORGET_MS, that heartbeat while still on their
// local share (their lease is written as lapsed), or that announced they are coming back from it
// (`recovering`), may still be sending on a local share, so the shared budget leaves one share of
// room for each of them.
const FLEET = `
local function fleet (now, me, lease, forget)
  redis.call('ZADD', KEYS[4], now, me)
  redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', now - forget)
  redis.call('PEXPIRE', KEYS[4], math.ceil(forget / 1000))
  return redis.call('ZCOUNT', KEYS[4], now - lease, '+inf'), redis.call('ZCOUNT', KEYS[4], '-inf', '(' .. (now - lease))
end`

// The rule of window.ts, atomically in Redis and on Redis's clock (TIME), in microseconds. One call
// per admission: the caller is told how long to wait for its reserved send time, so nobody polls.
// The keys share a hash tag, so the script also runs on Redis Cluster.
const RESERVE = `${FLEET}
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local maxWait = tonumber(ARGV[3])
local alive, silent = fleet(now, ARGV[4], tonumber(ARGV[6]), tonumber(ARGV[7]))
local held = silent
local coming = tonumber(redis.call('GET', KEYS[5]) or '0')
if coming > held then held = coming end
limit = limit - held * tonumber(ARGV[5])
if limit < 1 then limit = 1 end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local at = now
local cool = tonumber(redis.call('GET', KEYS[2]) or '0')
if cool > at then at = cool end
-- First come, first served: not before the latest send time booked (kept apart from the log,
-- whose scores may carry a cold send's tail: the tail holds the window, it does not queue the rest).
local last = tonumber(redis.call('GET', KEYS[6]) or '0')
if last > at then at = last end
local n = redis.call('ZCARD', KEYS[1])
if n >= limit then
  local kth = tonumber(redis.call('ZRANGE', KEYS[1], n - limit, n - limit, 'WITHSCORES')[2])
  if kth + window > at then at = kth + window end
end
local wait = at - now
if wait > maxWait then return {0, wait, at, alive} end
local seq = redis.call('INCR', KEYS[3])
local tail = tonumber(ARGV[8])
local atText = string.format('%.0f', at)
redis.call('ZADD', KEYS[1], at + tail, atText .. ':' .. seq)
local ttl = math.ceil((wait + tail + window) / 1000) + 1000
redis.call('PEXPIRE', KEYS[1], ttl)
redis.call('PEXPIRE', KEYS[3], ttl)
redis.call('SET', KEYS[6], atText, 'PX', ttl)
return {1, wait, at, alive}`

const HEARTBEAT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local at = now
if ARGV[4] == '1' then at = now - tonumber(ARGV[2]) - 1 end
redis.call('ZADD', KEYS[1], at, ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - tonumber(ARGV[3]))
redis.call('PEXPIRE', KEYS[1], math.ceil(tonumber(ARGV[3]) / 1000))
return redis.call('ZCOUNT', KEYS[1], now - tonumber(ARGV[2]), '+inf')`

// "This many instances may still be sending on a local share for `ms`": the larger count and the
// later end win.
const RECOVER = `
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
local count = tonumber(ARGV[1])
if count < current then count = current end
local ttl = redis.call('PTTL', KEYS[1])
local ms = tonumber(ARGV[2])
if ttl > ms then ms = ttl end
redis.call('SET', KEYS[1], count, 'PX', ms)
return count`

const COOLDOWN = `
local t = redis.call('TIME')
local untilUs = tonumber(t[1]) * 1000000 + tonumber(t[2]) + tonumber(ARGV[1]) * 1000
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
if untilUs > current then redis.call('SET', KEYS[1], string.format('%.0f', untilUs), 'PX', ARGV[1]) end
return 1`

/** The shared reserver: every instance that uses the same Redis and name shares one ceiling. */
export class RedisReserver implements Reserver {
  private readonly keys: { log: string, cooldown: string, seq: string, fleet: string, recovering: string, last: string }
  /** The largest fleet Redis reported in each second (second, size), the last FORGET_MS of them. */
  private sizes: Array<[number, number]> = []
  /** When Redis last answered this reserver (epoch ms; 0: never): the others held room for us since. */
  lastContact = 0
  /** Until when the others may count this instance as sending on the shared log (its lease), epoch ms. */
  leaseUntil = 0

  constructor (private readonly redis: Redis, name: string, private readonly limit: number, private readonly windowMs: number, private readonly me: string) {
    if (typeof (redis as Partial<Redis>).bffLimiterReserve !== 'function') {
      redis.defineCommand('bffLimiterReserve', { numberOfKeys: 6, lua: RESERVE })
      redis.defineCommand('bffLimiterCooldown', { numberOfKeys: 1, lua: COOLDOWN })
      redis.defineCommand('bffLimiterHeartbeat', { numberOfKeys: 1, lua: HEARTBEAT })
      redis.defineCommand('bffLimiterRecover', { numberOfKeys: 1, lua: RECOVER })
    }
    const tag = `lim:{${name}}`
    this.keys = { log: `${tag}:log`, cooldown: `${tag}:cooldown`, seq: `${tag}:seq`, fleet: `${tag}:fleet`, recovering: `${tag}:recovering`, last: `${tag}:last` }
  }

  get usable (): boolean { return usable(this.redis) }

  /**
   * The fleet: the most instances Redis reported alive within FORGET_MS. The largest, not the
   * last: a restarted Redis forgets the leases, and an instance that counted itself alone would
   * take the whole ceiling as its share in the next outage.
   */
  get fleet (): number {
    let most = 1
    for (const [, n] of this.sizes) if (n > most) most = n
    return most
  }

  private saw (alive: number): void {
    const now = Date.now()
    this.lastContact = now
    const second = Math.floor(now / 1000)
    const last = this.sizes[this.sizes.length - 1]
    if (last !== undefined && last[0] === second) last[1] = Math.max(last[1], alive)
    else this.sizes.push([second, alive])
    const oldest = Math.floor((now - FORGET_MS) / 1000)
    while (this.sizes[0]![0] < oldest) this.sizes.shift()
  }

  /** The share each instance keeps on its own while Redis is away: the ceiling split over the fleet. */
  get share (): number { return Math.max(1, Math.floor(this.limit / this.fleet)) }

  async reserve (maxWaitMs: number, tailMs = 0): Promise<Reservation> {
    const k = this.keys
    const [ok, waitUs, atUs, alive] = await this.redis.bffLimiterReserve(k.log, k.cooldown, k.seq, k.fleet, k.recovering, k.last,
      this.limit, this.windowMs * 1000, Math.max(0, Math.floor(maxWaitMs * 1000)), this.me, this.share, LEASE_MS * 1000, FORGET_MS * 1000, Math.max(0, Math.round(tailMs * 1000)))
    this.saw(alive)
    this.leaseUntil = Date.now() + LEASE_MS
    return { ok: ok === 1, waitMs: waitUs / 1000, at: atUs / 1000 }
  }

  /**
   * Keeps this instance's lease while it sends nothing; `local`: it still spends its local share
   * (Redis answers again, its last local sends are not a window old), so the others keep room.
   */
  async heartbeat (local: boolean): Promise<void> {
    try {
      this.saw(await this.redis.bffLimiterHeartbeat(this.keys.fleet, this.me, LEASE_MS * 1000, FORGET_MS * 1000, local ? 1 : 0))
    } finally {
      // Written as alive (even when the answer was lost, it may have run): the lease runs until
      // LEASE_MS after the answer, the latest Redis can have written it.
      if (!local) this.leaseUntil = Math.max(this.leaseUntil, Date.now() + LEASE_MS)
    }
  }

  /** Back from a local share: `others` instances may still be on theirs for `ms`; room is kept for them. */
  async recovering (others: number, ms: number): Promise<void> {
    await this.redis.bffLimiterRecover(this.keys.recovering, Math.max(0, others), Math.max(1, Math.ceil(ms)))
    this.lastContact = Date.now()
  }

  /** Leaves the fleet (a clean shutdown): no room is held for this instance after it. */
  async leave (): Promise<void> {
    await this.redis.zrem(this.keys.fleet, this.me)
  }

  async cooldown (ms: number): Promise<void> {
    await this.redis.bffLimiterCooldown(this.keys.cooldown, Math.max(1, Math.ceil(ms)))
  }
}
