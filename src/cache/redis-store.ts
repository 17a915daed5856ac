import type { Redis, Result } from 'ioredis'
import { decodeEntry, encodeEntry, prefixLength, sameVersion, type Entry } from './entry.js'

declare module 'ioredis' {
  interface RedisCommander<Context> {
    bffCacheCommit: (entryKey: string, lockKey: string, value: Buffer, ttlMs: number, token: string) => Result<number, Context>
    bffCacheUnlock: (lockKey: string, token: string) => Result<number, Context>
    bffCacheClaimBuffer: (entryKey: string, lockKey: string, token: string, ttlMs: number) => Result<[number, Buffer | null], Context>
  }
}

// Store the entry and release our lock in one step, so a waiter never sees the lock gone before
// the value is there. Both keys share a hash tag: the script also runs on Redis Cluster.
const COMMIT = `
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
if redis.call('GET', KEYS[2]) == ARGV[3] then redis.call('DEL', KEYS[2]) end
return 1`
// Take the fill lock if free, and return whatever entry is there now, in one step: an instance
// that missed a moment ago sees a value another instance stored since, instead of fetching again.
const CLAIM = `
local locked = redis.call('SET', KEYS[2], ARGV[1], 'PX', ARGV[2], 'NX')
return { locked and 1 or 0, redis.call('GET', KEYS[1]) }`
const UNLOCK = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`

/**
 * The shared tier. Every method may throw when Redis is away; the cache treats that as "no shared
 * tier right now" and carries on in-process.
 */
export class RedisStore {
  constructor (private readonly redis: Redis) {
    if (typeof (redis as Partial<Redis>).bffCacheCommit !== 'function') {
      redis.defineCommand('bffCacheCommit', { numberOfKeys: 2, lua: COMMIT })
      redis.defineCommand('bffCacheUnlock', { numberOfKeys: 1, lua: UNLOCK })
      redis.defineCommand('bffCacheClaim', { numberOfKeys: 2, lua: CLAIM })
    }
  }

  /** What every Redis name of a cache entry (and its lock) starts with, after the key prefix. */
  static readonly PREFIX = 'c:'

  static keys (hash: string): { entry: string, lock: string } {
    return { entry: `${RedisStore.PREFIX}{${hash}}`, lock: `${RedisStore.PREFIX}{${hash}}:lock` }
  }

  /** The digest an entry's Redis name carries (key prefix and all), or undefined for any other name (a lock). */
  static hashOf (redisKey: string): string | undefined {
    const at = redisKey.lastIndexOf(`${RedisStore.PREFIX}{`)
    return at >= 0 && redisKey.endsWith('}') ? redisKey.slice(at + RedisStore.PREFIX.length + 1, -1) : undefined
  }

  async get (entryKey: string): Promise<Entry | undefined> {
    return decodeEntry(await this.redis.getBuffer(entryKey))
  }

  /** True when Redis holds this very version of the entry: only its first bytes are read. */
  async holds (entryKey: string, entry: Entry): Promise<boolean> {
    const stored = decodeEntry(await this.redis.getrangeBuffer(entryKey, 0, prefixLength(entry) - 1))
    return stored !== undefined && sameVersion(stored, entry)
  }

  /**
   * Takes the fill lock for a key if it is free (`locked`: this instance is the one to call the
   * upstream) and reads the entry stored under it now, in one atomic step.
   */
  async claim (keys: { entry: string, lock: string }, token: string, ttlMs: number): Promise<{ locked: boolean, entry: Entry | undefined }> {
    const [locked, raw] = await this.redis.bffCacheClaimBuffer(keys.entry, keys.lock, token, ttlMs)
    return { locked: locked === 1, entry: decodeEntry(raw) }
  }

  /** Takes the fill lock for a key; true when this instance is the one to call the upstream. */
  async lock (lockKey: string, token: string, ttlMs: number): Promise<boolean> {
    return (await this.redis.set(lockKey, token, 'PX', ttlMs, 'NX')) === 'OK'
  }

  /** The entry and whether the fill lock is still held, in one round trip. */
  async peek (keys: { entry: string, lock: string }): Promise<{ entry: Entry | undefined, held: boolean }> {
    const results = await this.redis.pipeline().getBuffer(keys.entry).exists(keys.lock).exec()
    const [[entryErr, raw], [lockErr, held]] = results as [[Error | null, Buffer | null], [Error | null, number]]
    if (entryErr ?? lockErr) throw entryErr ?? lockErr
    return { entry: decodeEntry(raw), held: held === 1 }
  }

  async commit (keys: { entry: string, lock: string }, entry: Entry, ttlMs: number, token: string): Promise<void> {
    await this.redis.bffCacheCommit(keys.entry, keys.lock, encodeEntry(entry), Math.max(1, Math.ceil(ttlMs)), token)
  }

  /** Writes an entry back where Redis has none (after a restart): never over a newer one. */
  async restore (entryKey: string, entry: Entry, ttlMs: number): Promise<void> {
    await this.redis.set(entryKey, encodeEntry(entry), 'PX', Math.max(1, Math.ceil(ttlMs)), 'NX')
  }

  async unlock (lockKey: string, token: string): Promise<void> {
    await this.redis.bffCacheUnlock(lockKey, token)
  }
}
