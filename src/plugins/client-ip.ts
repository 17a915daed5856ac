/**
 * Which address is the caller's: TRUST_PROXY says which proxies in front of us to believe
 * (Fastify's trustProxy, as one function both Fastify and the cache front door use, so a caller's
 * budget key and its log lines name the same client behind a load balancer).
 */
import type { IncomingMessage } from 'node:http'
import proxyaddr from '@fastify/proxy-addr'

/** Whether the hop at `addr` (`hop` 0: our peer) is a proxy whose X-Forwarded-For we believe. */
export type ProxyTrust = (addr: string, hop: number) => boolean

/**
 * TRUST_PROXY as a function: `false` (unset) no proxy, `true` every hop, a number that many
 * hops, else a comma-separated list of addresses and CIDRs (and proxy-addr's names: loopback,
 * linklocal, uniquelocal). Undefined when no proxy is trusted.
 */
export function proxyTrust (spec: string | undefined): ProxyTrust | undefined {
  const value = spec?.trim() ?? ''
  if (value === '' || value === 'false') return undefined
  if (value === 'true') return () => true
  if (/^\d+$/.test(value)) {
    const hops = Number(value)
    return (_addr, hop) => hop < hops
  }
  return proxyaddr.compile(value.split(',').map(s => s.trim()).filter(Boolean))
}

/** The client's address: the peer's, or through the trusted proxies' X-Forwarded-For. */
export function clientIp (req: IncomingMessage, trust: ProxyTrust | undefined): string {
  if (trust === undefined) return req.socket.remoteAddress ?? ''
  return proxyaddr(req, trust)
}
