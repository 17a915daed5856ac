import { traceFields, tracing } from '../tracing.js'
import { secrets } from '../secrets.js'

/** Log paths that may carry a secret; pino replaces them with [redacted]. */
// Every path is anchored at a named top-level key: a path starting with `*` would make pino run
// its redactor over every binding of every child logger, i.e. once per request (measured at ~5%
// of a cache hit's CPU). These are the objects this service logs.
const LOGGED_OBJECTS = ['req', 'res', 'err', 'error', 'body', 'query', 'headers', 'config', 'env', 'data', 'upstream', 'token', 'request', 'response', 'options', 'params', 'record', 'stored', 'cause']
const SECRET_KEYS = [
  'authorization', '["x-api-key"]', '["access-token"]', 'cookie',
  'access_token', 'client_secret', 'accessToken', 'clientSecret', 'apiKey', 'token', 'digest',
  'BFF_API_KEYS', 'AITOEARN_API_KEY', 'DOUYIN_CLIENT_SECRET', 'DOUYIN_ACCESS_TOKEN'
]

/** Log paths that may carry a secret; pino replaces them with [redacted]. */
export const REDACT_PATHS = [
  ...LOGGED_OBJECTS.flatMap(object => SECRET_KEYS.map(key => `${object}${key.startsWith('[') ? '' : '.'}${key}`)),
  'req.headers.authorization',
  'req.headers["x-api-key"]',
  'req.headers["access-token"]',
  'req.headers.cookie',
  'config.aitoearn.apiKey',
  'config.douyin.clientSecret',
  'config.douyin.accessToken',
  'config.auth.keys',
  'config.secrets',
  'config.env.BFF_API_KEYS',
  'config.env.AITOEARN_API_KEY',
  'config.env.DOUYIN_CLIENT_SECRET',
  'config.env.DOUYIN_ACCESS_TOKEN'
]

/** pino's `redact` option, as the server uses it (tests build their loggers with it too). */
export const REDACT = { paths: REDACT_PATHS, censor: '[redacted]' }

/** Query parameters that may carry a credential, whatever the caller meant by them. */
const SECRET_PARAM = /key|token|secret|passw|auth|sig|credential|session/i

/**
 * A URL as it may be logged: the value of any query parameter whose name may carry a credential
 * (`?api_key=`, `?access_token=`...) is replaced. Keys are never read from the query, but a caller
 * may send one there anyway, and the URL is logged.
 */
export function loggableUrl (url: string): string {
  const q = url.indexOf('?')
  if (q < 0 || !SECRET_PARAM.test(url.slice(q))) return url
  const parts = url.slice(q + 1).split('&').map(part => {
    const eq = part.indexOf('=')
    const name = eq < 0 ? part : part.slice(0, eq)
    return eq >= 0 && SECRET_PARAM.test(safeDecode(name)) ? `${name}=[redacted]` : part
  })
  return `${url.slice(0, q)}?${parts.join('&')}`
}

function safeDecode (s: string): string {
  try { return decodeURIComponent(s) } catch { return s }
}

interface LoggedRequest { method: string, url: string, ip?: string, host?: string, socket?: { remotePort?: number } }

/**
 * The logger's options, for the server and for tests: redaction by path, every line scrubbed of
 * every secret this process knows by value (src/secrets.ts), and request URLs without credentials.
 */
export function loggerOptions (level: string) {
  return {
    level,
    redact: REDACT,
    // With tracing on, each line carries the trace and span it was written in (none otherwise: no cost).
    ...(tracing() ? { mixin: traceFields } : {}),
    hooks: { streamWrite: (line: string) => secrets.scrub(line) },
    serializers: {
      req: (req: LoggedRequest) => ({ method: req.method, url: loggableUrl(req.url), host: req.host, remoteAddress: req.ip, remotePort: req.socket?.remotePort })
    }
  }
}
