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
  'config.douyin.accessToken'
]
