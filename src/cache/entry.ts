import { hash } from 'node:crypto'

/**
 * One cached answer: the response body bytes exactly as sent, with the times that govern it.
 * A hit sends `body` as is: no JSON parse, no JSON stringify.
 */
export interface Entry {
  /** 200 for data; 404 for a cached "not found" (the body is then a problem without requestId). */
  status: number
  body: Buffer
  /** Strong validator, quoted. */
  etag: string
  storedAt: number
  /** Until then: a hit. */
  freshUntil: number
  /** Until then: answered at once and refreshed in the background. */
  staleUntil: number
  /** Until then: served when the upstream fails (stale-if-error). */
  errorUntil: number
  /** This process only: until then its in-process copy is served without asking Redis. */
  localUntil?: number
}

export function expiresAt (entry: Entry): number {
  return Math.max(entry.freshUntil, entry.staleUntil, entry.errorUntil)
}

export function makeEntry (status: number, body: Buffer, now: number, times: { freshMs: number, staleMs: number, errorMs: number }): Entry {
  return {
    status,
    body,
    // One-shot hash: no Hash object per entry.
    etag: `"${hash('sha1', body, 'base64url')}"`,
    storedAt: now,
    freshUntil: now + times.freshMs,
    staleUntil: now + times.freshMs + times.staleMs,
    errorUntil: now + times.freshMs + times.errorMs
  }
}

// Binary layout for Redis: a fixed header, the etag, then the body. Decoding reads numbers from
// fixed offsets; there is no JSON on the way in or out.
const VERSION = 1
const HEADER = 1 + 2 + 8 * 4 + 1

export function encodeEntry (entry: Entry): Buffer {
  const etag = Buffer.from(entry.etag, 'latin1')
  const out = Buffer.allocUnsafe(HEADER + etag.length + entry.body.length)
  let o = out.writeUInt8(VERSION, 0)
  o = out.writeUInt16BE(entry.status, o)
  o = out.writeDoubleBE(entry.storedAt, o)
  o = out.writeDoubleBE(entry.freshUntil, o)
  o = out.writeDoubleBE(entry.staleUntil, o)
  o = out.writeDoubleBE(entry.errorUntil, o)
  o = out.writeUInt8(etag.length, o)
  etag.copy(out, o)
  entry.body.copy(out, o + etag.length)
  return out
}

/** Bytes of the encoding up to the body: what tells two stored versions apart. */
export function prefixLength (entry: Entry): number {
  return HEADER + Buffer.byteLength(entry.etag, 'latin1')
}

/** True when two entries are the same stored version (same times, status and validator). */
export function sameVersion (a: Entry, b: Entry): boolean {
  return a.etag === b.etag && a.storedAt === b.storedAt && a.freshUntil === b.freshUntil &&
    a.staleUntil === b.staleUntil && a.errorUntil === b.errorUntil && a.status === b.status
}

/** Decodes a stored entry; anything unexpected (old layout, damage) reads as a miss. */
export function decodeEntry (buf: Buffer | null | undefined): Entry | undefined {
  if (!buf || buf.length < HEADER || buf.readUInt8(0) !== VERSION) return undefined
  const etagLength = buf.readUInt8(HEADER - 1)
  if (buf.length < HEADER + etagLength) return undefined
  return {
    status: buf.readUInt16BE(1),
    storedAt: buf.readDoubleBE(3),
    freshUntil: buf.readDoubleBE(11),
    staleUntil: buf.readDoubleBE(19),
    errorUntil: buf.readDoubleBE(27),
    etag: buf.toString('latin1', HEADER, HEADER + etagLength),
    body: buf.subarray(HEADER + etagLength)
  }
}
