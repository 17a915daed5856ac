import type { Redis, Result } from 'ioredis'
import type { Reservation, Reserver } from './window.js'

declare module 'ioredis' {
  interface RedisCommander<Context> {
    bffLimiterReserve: (log: string, cooldown: string, seq: string, limit: number, windowUs: number, maxWaitUs: number) => Result<[number, number, number], Context>
    bffLimiterCooldown: (cooldown: string, ms: number) => Result<number, Context>
  }
}

// The rule of window.ts, atomically in Redis and on Redis's clock (TIME), in microseconds. One call
// per admission: the caller is told how long to wait for its reserved send time, so nobody polls.
// The three keys share a hash tag, so the script also runs on Redis Cluster.
const RESERVE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local maxWait = tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local at = now
local cool = tonumber(redis.call('GET', KEYS[2]) or '0')
if cool > at then at = cool end
local n = redis.call('ZCARD', KEYS[1])
if n > 0 then
  local last = tonumber(redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')[2])
  if last > at then at = last end
  if n >= limit then
    local kth = tonumber(redis.call('ZRANGE', KEYS[1], n - limit, n - limit, 'WITHSCORES')[2])
    if kth + window > at then at = kth + window end
  end
end
local wait = at - now
if wait > maxWait then return {0, wait, at} end
local seq = redis.call('INCR', KEYS[3])
redis.call('ZADD', KEYS[1], at, at .. ':' .. seq)
local ttl = math.ceil((wait + window) / 1000) + 1000
redis.call('PEXPIRE', KEYS[1], ttl)
redis.call('PEXPIRE', KEYS[3], ttl)
return {1, wait, at}`

const COOLDOWN = `
local t = redis.call('TIME')
local untilUs = tonumber(t[1]) * 1000000 + tonumber(t[2]) + tonumber(ARGV[1]) * 1000
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
if untilUs > current then redis.call('SET', KEYS[1], string.format('%.0f', untilUs), 'PX', ARGV[1]) end
return 1`

/** The shared reserver: every instance that uses the same Redis and name shares one ceiling. */
export class RedisReserver implements Reserver {
  private readonly keys: { log: string, cooldown: string, seq: string }

  constructor (private readonly redis: Redis, name: string, private readonly limit: number, private readonly windowMs: number) {
    if (typeof (redis as Partial<Redis>).bffLimiterReserve !== 'function') {
      redis.defineCommand('bffLimiterReserve', { numberOfKeys: 3, lua: RESERVE })
      redis.defineCommand('bffLimiterCooldown', { numberOfKeys: 1, lua: COOLDOWN })
    }
    this.keys = { log: `lim:{${name}}:log`, cooldown: `lim:{${name}}:cooldown`, seq: `lim:{${name}}:seq` }
  }

  get usable (): boolean { return this.redis.status === 'ready' }

  async reserve (maxWaitMs: number): Promise<Reservation> {
    const maxWaitUs = Math.max(0, Math.floor(maxWaitMs * 1000))
    const [ok, waitUs, atUs] = await this.redis.bffLimiterReserve(this.keys.log, this.keys.cooldown, this.keys.seq, this.limit, this.windowMs * 1000, maxWaitUs)
    return { ok: ok === 1, waitMs: waitUs / 1000, at: atUs / 1000 }
  }

  async cooldown (ms: number): Promise<void> {
    await this.redis.bffLimiterCooldown(this.keys.cooldown, Math.max(1, Math.ceil(ms)))
  }
}
