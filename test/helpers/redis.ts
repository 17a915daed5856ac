import { randomBytes } from 'node:crypto'
import { Redis } from 'ioredis'
import { createRedis } from '../../src/plugins/redis.js'

export type Tap = { teardown: (fn: () => unknown) => void }

export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'

/**
 * Redis settings of one test: the real Redis, under a key prefix of its own, whose keys are
 * deleted when the test ends.
 */
export function testRedis (t: Tap, url = REDIS_URL): { REDIS_URL: string, REDIS_KEY_PREFIX: string } {
  const prefix = `bfftest:${randomBytes(4).toString('hex')}:`
  t.teardown(async () => {
    const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1, enableOfflineQueue: false, retryStrategy: () => null })
    try {
      await redis.connect()
      let cursor = '0'
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500)
        cursor = next
        if (keys.length > 0) await redis.del(...keys)
      } while (cursor !== '0')
    } catch { /* a test that stopped Redis cleans nothing */ } finally {
      redis.disconnect()
    }
  })
  return { REDIS_URL: url, REDIS_KEY_PREFIX: prefix }
}

/** A client made as the app makes its own (fail fast, no offline queue), connected, closed after the test. */
export async function connectedRedis (t: Tap, url: string, keyPrefix: string): Promise<Redis> {
  const redis = createRedis({ mode: 'single', url, keyPrefix })
  redis.on('error', () => {})
  t.teardown(() => redis.disconnect())
  await redis.connect()
  return redis
}

/**
 * Resolves on the client's next `event` ('close', 'ready'). Unlike events.once it does not reject
 * when the client emits 'error' first, as it does when its server is killed.
 */
export function nextEvent (redis: Redis, event: 'close' | 'ready'): Promise<void> {
  return new Promise(resolve => redis.once(event, () => resolve()))
}
