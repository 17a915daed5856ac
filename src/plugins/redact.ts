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
  'config.env.BFF_API_KEYS',
  'config.env.AITOEARN_API_KEY',
  'config.env.DOUYIN_CLIENT_SECRET',
  'config.env.DOUYIN_ACCESS_TOKEN'
]

/** pino's `redact` option, as the server uses it (tests build their loggers with it too). */
export const REDACT = { paths: REDACT_PATHS, censor: '[redacted]' }
