/**
 * Redis tells this instance when another one changes a cache entry, so its in-process copies can
 * be trusted until then instead of being checked every CACHE_LOCAL_TTL_MS (Redis client-side
 * caching, RESP2 form: `CLIENT TRACKING on REDIRECT <id> BCAST PREFIX <our cache keys> NOLOOP` on
 * the command connection, invalidation messages on `__redis__:invalidate` to a subscriber
 * connection of ours). ioredis speaks RESP2 only, hence the redirect.
 *
 * Trust needs both connections up and the tracking confirmed on the current command connection:
 * whenever either drops (a restart, a failover, a network cut), the messages in between may be
 * lost, so every local copy goes back to being checked, and trust starts again once tracking is
 * set up anew. Not on Redis Cluster (tracking and its messages are per node; ioredis gives no
 * per-node hook): there the TTL checks stay.
 */
import type { Redis } from 'ioredis'

export const INVALIDATE_CHANNEL = '__redis__:invalidate'

export interface InvalidationLog {
  warn: (obj: object, msg: string) => void
  info: (msg: string) => void
}

export class Invalidations {
  private subscriber: Redis | undefined
  /** The subscriber connection's client id, once it is subscribed (read before: a subscribed connection answers no CLIENT ID). */
  private subscriberId: number | undefined
  private active = false
  /** Counts every change of trust (for tests and /metrics). */
  readonly stats = { messages: 0, keys: 0, resets: 0 }
  /**
   * Bumped by every message and every change of trust: a copy read from Redis while it moved may
   * be older than a write whose invalidation came first (two connections, any order).
   */
  epoch = 0
  private readonly onReady = () => { this.setUp() }
  private readonly onClose = () => { this.lose('the command connection closed') }

  /**
   * `prefix`: the Redis names of our cache entries (key prefix included). `changed` hears the
   * Redis keys another client wrote, or null when every copy must be checked again.
   */
  constructor (private readonly redis: Redis, private readonly prefix: string, private readonly changed: (keys: string[] | null) => void, private readonly log: InvalidationLog) {}

  /** True while a copy Redis said nothing about is the stored version. */
  get trusted (): boolean { return this.active }

  start (): void {
    // Subscribed anew on each connection, after its id is read (a subscribed connection answers no CLIENT ID).
    const sub = this.redis.duplicate({ enableOfflineQueue: true, lazyConnect: true, autoResubscribe: false })
    this.subscriber = sub
    sub.on('error', () => { /* the command connection reports Redis's state; this one follows it */ })
    sub.on('ready', () => {
      const subscribe = async () => {
        const id = await sub.client('ID') as number
        await sub.subscribe(INVALIDATE_CHANNEL)
        return id
      }
      subscribe().then(id => { this.subscriberId = id; this.setUp() }, err => this.failed(err))
    })
    sub.on('close', () => {
      this.subscriberId = undefined
      this.lose('the invalidation channel closed')
    })
    // The Buffer form: one message can name several keys (a script's writes), which the string
    // form would join into one.
    sub.on('messageBuffer', (channel: Buffer, message: unknown) => {
      if (channel.toString() !== INVALIDATE_CHANNEL) return
      this.stats.messages++
      this.epoch++
      // RESP2 redirect: the payload is the list of keys, or null after FLUSHALL/FLUSHDB.
      const keys = message === null ? null : Array.isArray(message) ? message.map(String) : [String(message)]
      if (keys !== null) this.stats.keys += keys.length
      this.changed(keys)
    })
    this.redis.on('ready', this.onReady)
    this.redis.on('close', this.onClose)
    sub.connect().catch(() => { /* reconnects by itself */ })
  }

  /**
   * Tracking on the command connection, redirected to the subscriber's current client id; switched
   * off first, since a connection that kept its tracking (only the subscriber reconnected) refuses
   * the same prefix again.
   */
  private setUp (): void {
    const sub = this.subscriber
    const id = this.subscriberId
    if (sub === undefined || id === undefined || sub.status !== 'ready' || this.redis.status !== 'ready') return
    const attempt = async () => {
      await this.redis.call('CLIENT', 'TRACKING', 'off')
      await this.redis.call('CLIENT', 'TRACKING', 'on', 'REDIRECT', String(id), 'BCAST', 'PREFIX', this.prefix, 'NOLOOP')
    }
    attempt().then(() => {
      if (sub.status !== 'ready' || this.redis.status !== 'ready' || this.subscriberId !== id) return
      this.epoch++
      // Messages may have been missed before this point: every copy is checked once more.
      this.changed(null)
      if (!this.active) this.log.info('cache: Redis invalidations on; in-process copies trusted until another instance changes them')
      this.active = true
    }, err => this.failed(err))
  }

  /**
   * Setting up failed (a command timed out under load, say): the copies stay checked, and a second
   * later the subscriber reconnects, which sets everything up again from its 'ready'.
   */
  private failed (err: unknown): void {
    this.lose('tracking could not be set up')
    this.log.warn({ err: { message: (err as Error).message } }, 'cache: Redis invalidations unavailable; in-process copies are checked every CACHE_LOCAL_TTL_MS')
    const sub = this.subscriber
    if (sub !== undefined) setTimeout(() => { if (this.subscriber === sub && sub.status === 'ready') sub.disconnect(true) }, 1000).unref()
  }

  private lose (why: string): void {
    if (!this.active) return
    this.active = false
    this.epoch++
    this.stats.resets++
    this.changed(null)
    this.log.warn({ why }, 'cache: Redis invalidations lost; in-process copies are checked every CACHE_LOCAL_TTL_MS until they are back')
  }

  stop (): void {
    this.active = false
    this.redis.off('ready', this.onReady)
    this.redis.off('close', this.onClose)
    this.subscriber?.disconnect()
  }
}
