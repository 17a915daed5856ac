import type { Entry } from './entry.js'

interface Slot { entry: Entry, until: number, bytes: number }

/**
 * The in-process tier: an LRU bounded by bytes (body, etag and a fixed overhead per entry), not by
 * entry count, so a few large answers cannot push the process out of memory. Lookups are
 * synchronous, so a hit costs no promise and no I/O.
 */
export class MemoryStore {
  private readonly slots = new Map<string, Slot>()
  private used = 0
  static readonly OVERHEAD = 256

  constructor (readonly maxBytes: number) {}

  get (key: string, now: number): Entry | undefined {
    const slot = this.slots.get(key)
    if (!slot) return undefined
    if (now >= slot.until) {
      this.remove(key, slot)
      return undefined
    }
    // Most recently used last: re-insert (Map keeps insertion order).
    this.slots.delete(key)
    this.slots.set(key, slot)
    return slot.entry
  }

  /** Keeps `entry` here until `until` (ms epoch) or until it is the least recently used over the bound. */
  set (key: string, entry: Entry, until: number): void {
    const bytes = entry.body.length + entry.etag.length + key.length * 2 + MemoryStore.OVERHEAD
    const old = this.slots.get(key)
    if (old) this.remove(key, old)
    if (bytes > this.maxBytes) return
    this.slots.set(key, { entry, until, bytes })
    this.used += bytes
    for (const [k, slot] of this.slots) {
      if (this.used <= this.maxBytes) break
      this.remove(k, slot)
    }
  }

  delete (key: string): void {
    const slot = this.slots.get(key)
    if (slot) this.remove(key, slot)
  }

  private remove (key: string, slot: Slot): void {
    this.slots.delete(key)
    this.used -= slot.bytes
  }

  get size (): number { return this.slots.size }
  get bytes (): number { return this.used }
}
