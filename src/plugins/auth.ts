import { createHash, timingSafeEqual } from 'node:crypto'
import fp from 'fastify-plugin'
import type { IncomingHttpHeaders } from 'node:http'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { ApiKey, Config } from '../config.js'
import { HttpProblem } from '../errors.js'
import { sendProblem } from './problems.js'
import { METRICS_PATH, byLabel, countsOf } from '../metrics/registry.js'

declare module 'fastify' {
  interface FastifyRequest {
    /** The name of the caller's API key; undefined on open paths and when the service runs open. */
    caller: string | undefined
  }
}

/**
 * A path matcher from patterns: exact paths, or prefixes for patterns ending in `*`. A trailing
 * slash matches as the router routes it (`/healthz/` is `/healthz`).
 */
export function pathMatcher (patterns: string[]): (path: string) => boolean {
  const exact = new Set(patterns.filter(p => !p.endsWith('*')))
  const prefixes = patterns.filter(p => p.endsWith('*')).map(p => p.slice(0, -1))
  return path => {
    const p = path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path
    return exact.has(p) || prefixes.some(prefix => path.startsWith(prefix))
  }
}

/** The key a request carries: `Authorization: Bearer <key>`, else `X-Api-Key`. */
function presentedKey (req: { headers: IncomingHttpHeaders }): string | undefined {
  const auth = req.headers.authorization
  if (typeof auth === 'string' && auth.length > 7 && auth.slice(0, 7).toLowerCase() === 'bearer ') return auth.slice(7).trim()
  const key = req.headers['x-api-key']
  return typeof key === 'string' && key.length > 0 ? key : undefined
}

/**
 * The name of the key whose digest matches, compared in constant time against EVERY configured
 * key (no early exit that would tell which, or how many, came first).
 */
export function matchKey (keys: ApiKey[], presented: string): string | undefined {
  const digest = createHash('sha256').update(presented).digest()
  let found: string | undefined
  for (const key of keys) {
    if (timingSafeEqual(digest, key.digest) && found === undefined) found = key.name
  }
  return found
}

/** The name of the key presented, when it is a valid one (keys longer than 512 never are). */
function keyName (keys: ApiKey[], presented: string | undefined): string | undefined {
  return presented !== undefined && presented.length <= 512 ? matchKey(keys, presented) : undefined
}

/**
 * The name of the valid key a request carries, or undefined: the hook's check below, for callers
 * that see the raw request first (the cache front door). Undefined when no keys are set.
 */
export function authenticator (keys: ApiKey[]): ((req: { headers: IncomingHttpHeaders }) => string | undefined) | undefined {
  if (keys.length === 0) return undefined
  return req => keyName(keys, presentedKey(req))
}

/**
 * Caller authentication: one synchronous onRequest hook (a sha256 of the presented key and a
 * constant-time comparison against precomputed digests: no I/O, no promise), run before every
 * other per-request hook. Open paths (health, docs, the dashboard's static files) and CORS
 * preflights pass without a key. Without keys the service runs open: refused in production by
 * the config unless BFF_AUTH=none, warned about once here otherwise.
 */
async function auth (app: FastifyInstance, { config }: { config: Config }) {
  const stats = { missing: 0, invalid: 0 }
  countsOf(app.metricsRegistry, 'bff_auth_refused_total', 'Requests refused 401, by reason', ['reason'], () => byLabel('reason', stats))
  app.decorateRequest('caller', undefined)
  const { keys, openPaths, metricsRequireKey } = config.auth
  if (keys.length === 0) {
    if (config.env.BFF_AUTH === 'none') app.log.info('BFF_AUTH=none: callers are not authenticated')
    else app.log.warn('BFF_API_KEYS is not set: the service is OPEN, every caller is served without a key (refused in production)')
    return
  }
  const open = pathMatcher(metricsRequireKey ? openPaths : [...openPaths, METRICS_PATH])
  const unauthorized = (detail: string) => new HttpProblem('UNAUTHORIZED', { detail })

  app.addHook('onRequest', (req: FastifyRequest, reply: FastifyReply, done: () => void) => {
    if (req.method === 'OPTIONS') return done() // CORS preflights carry no credentials
    const presented = presentedKey(req)
    const name = keyName(keys, presented)
    if (name !== undefined) {
      req.caller = name
      req.log = reply.log = req.log.child({ caller: name })
      return done()
    }
    const q = req.url.indexOf('?')
    if (open(q < 0 ? req.url : req.url.slice(0, q))) return done()
    if (presented === undefined) stats.missing++
    else stats.invalid++
    reply.header('www-authenticate', 'Bearer realm="metrics-bff"')
    sendProblem(reply, unauthorized(presented === undefined
      ? 'Send your API key as "Authorization: Bearer <key>" or "X-Api-Key: <key>"'
      : 'The API key is not valid'))
  })
}

export default fp(auth, { name: 'auth', dependencies: ['problems', 'metrics'] })
