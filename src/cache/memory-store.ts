import type { Entry } from './entry.js'
import { ByteLru } from './lru.js'

/**
 * The in-process tier: cached answers in a byte-bounded LRU (body, etag, key and a fixed overhead
 * per entry), each kept until its own local expiry.
 */
export class MemoryStore extends ByteLru<Entry> {
  static readonly OVERHEAD = 256

  constructor (maxBytes: number) {
    super(maxBytes, (entry, key) => entry.body.length + entry.etag.length + key.length * 2 + MemoryStore.OVERHEAD)
  }
}
