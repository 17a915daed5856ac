import { randomBytes } from 'node:crypto'

interface Issued { token: string, expiresAt: number, expired: boolean }

export type TokenCheck = 'ok' | 'invalid' | 'expired'

/**
 * Douyin's client_token rules, in memory: a new token makes every token but the newest two
 * invalid (Douyin waits about 5 minutes; the sandbox does it at once, the harsher case), tokens
 * expire after `ttlSeconds`, `stable` hands back the newest token while it is valid, and the
 * endpoint itself allows 500 calls in 5 minutes.
 */
export class TokenBook {
  private issued: Issued[] = []
  private calls: number[] = []
  /** Tokens issued (new ones only; a stable call that returns the current token does not count). */
  issuedCount = 0

  constructor (private readonly ttlSeconds: number, private readonly callLimit = 500, private readonly callWindowMs = 300_000) {}

  /** Counts one call to a token endpoint; false when the endpoint's own limit is reached. */
  admitCall (now: number): boolean {
    while (this.calls.length > 0 && this.calls[0]! <= now - this.callWindowMs) this.calls.shift()
    if (this.calls.length >= this.callLimit) return false
    this.calls.push(now)
    return true
  }

  issue (now: number, stable: boolean): { token: string, expiresIn: number } {
    const newest = this.issued.at(-1)
    if (stable && newest && !newest.expired && newest.expiresAt > now) {
      return { token: newest.token, expiresIn: Math.ceil((newest.expiresAt - now) / 1000) }
    }
    const token = `sbx.${randomBytes(18).toString('hex')}`
    this.issued.push({ token, expiresAt: now + this.ttlSeconds * 1000, expired: false })
    if (this.issued.length > 2) this.issued.shift()
    this.issuedCount++
    return { token, expiresIn: this.ttlSeconds }
  }

  check (token: string | undefined, now: number): TokenCheck {
    const found = token ? this.issued.find(t => t.token === token) : undefined
    if (!found) return 'invalid'
    return found.expired || found.expiresAt <= now ? 'expired' : 'ok'
  }

  /** Marks every token issued so far as expired (tests: "the token ran out"). */
  expireAll (): void {
    for (const t of this.issued) t.expired = true
  }
}
