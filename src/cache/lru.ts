/**
 * An LRU bounded by bytes (as the caller sizes its values), not by entry count, so a few large
 * values cannot push the process out of memory; each value may carry its own expiry. Recency is
 * kept to half the order: a value read at least once per (entries / 2) insertions is never
 * evicted. Lookups are synchronous: a hit costs no promise and no I/O.
 */
export class ByteLru<V> {
  private readonly slots = new Map<string, { value: V, until: number, bytes: number, order: number }>()
  private used = 0
  /** Counts insertions (and moves to the recent end): how far back in the order a slot sits. */
  private clock = 0

  constructor (readonly maxBytes: number, private readonly sizeOf: (value: V, key: string) => number) {}

  /** The value, unless it expired by `now` (ms epoch); a hit becomes the most recently used. */
  get (key: string, now = 0): V | undefined {
    const slot = this.slots.get(key)
    if (!slot) return undefined
    if (now >= slot.until) {
      this.slots.delete(key)
      this.used -= slot.bytes
      return undefined
    }
    // Most recently used last (Map keeps insertion order): a slot in the older half moves to the
    // recent end; one already in the recent half stays, so a hot key costs one lookup per hit.
    if (this.clock - slot.order > this.slots.size / 2) {
      this.slots.delete(key)
      slot.order = ++this.clock
      this.slots.set(key, slot)
    }
    return slot.value
  }

  /** Keeps `value` until `until` (ms epoch) or until it is the least recently used over the bound. */
  set (key: string, value: V, until = Infinity): void {
    this.delete(key)
    const bytes = this.sizeOf(value, key)
    if (bytes > this.maxBytes) return
    this.slots.set(key, { value, until, bytes, order: ++this.clock })
    this.used += bytes
    for (const [k] of this.slots) {
      if (this.used <= this.maxBytes) break
      this.delete(k)
    }
  }

  delete (key: string): void {
    const slot = this.slots.get(key)
    if (!slot) return
    this.slots.delete(key)
    this.used -= slot.bytes
  }

  get size (): number { return this.slots.size }
  get bytes (): number { return this.used }
}
