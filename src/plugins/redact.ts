/** Log paths that may carry a secret; pino replaces them with [redacted]. */
export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers["x-api-key"]',
  'req.headers["access-token"]',
  'req.headers.cookie',
  'headers.authorization',
  'headers["x-api-key"]',
  'headers["access-token"]',
  '*.access_token',
  '*.client_secret',
  '*.accessToken',
  '*.clientSecret',
  '*.apiKey',
  'config.aitoearn.apiKey',
  'config.douyin.clientSecret',
  'config.douyin.accessToken',
  // Callers' keys and the raw environment (issue 8).
  '*.authorization',
  '*["x-api-key"]',
  '*["access-token"]',
  '*.token',
  '*.digest',
  'config.auth.keys',
  'config.env.BFF_API_KEYS',
  'config.env.AITOEARN_API_KEY',
  'config.env.DOUYIN_CLIENT_SECRET',
  'config.env.DOUYIN_ACCESS_TOKEN',
  '*.BFF_API_KEYS',
  '*.AITOEARN_API_KEY',
  '*.DOUYIN_CLIENT_SECRET',
  '*.DOUYIN_ACCESS_TOKEN'
]

/** pino's `redact` option, as the server uses it (tests build their loggers with it too). */
export const REDACT = { paths: REDACT_PATHS, censor: '[redacted]' }
