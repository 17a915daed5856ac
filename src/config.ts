import { createHash } from 'node:crypto'
import { Type, type Static } from '@sinclair/typebox'
import { Value } from '@sinclair/typebox/value'

/**
 * The service's whole environment, as one schema. The `Config` type below is derived from it:
 * nothing about configuration is typed twice.
 */
const Url = (description: string, def?: string) =>
  Type.String({ pattern: '^https?://[^\\s/?#]+[^\\s]*$', description, ...(def ? { default: def } : {}) })
const Secret = (description: string) => Type.Optional(Type.String({ minLength: 1, description }))
const Millis = (description: string, def: number) =>
  Type.Integer({ minimum: 1, maximum: 600_000, default: def, description })

export const EnvSchema = Type.Object({
  PORT: Type.Integer({ minimum: 0, maximum: 65535, default: 3000, description: 'HTTP port' }),
  HOST: Type.String({ minLength: 1, default: '0.0.0.0', description: 'Interface to listen on' }),
  LOG_LEVEL: Type.Union(
    ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map(l => Type.Literal(l)),
    { default: 'info', description: 'pino log level' }
  ),
  NODE_ENV: Type.String({ default: 'development', description: '`production` turns sandboxes off and requires credentials' }),
  TRUST_PROXY: Type.Optional(Type.String({
    pattern: '^(true|false|\\d{1,2}|[0-9A-Za-z.:/,\\s]+)$',
    description: 'Proxies in front of the service whose X-Forwarded-For is believed (Fastify trustProxy): `true` every hop, a hop count (`1`: one load balancer), or comma-separated addresses/CIDRs (`10.0.0.0/8,loopback`). Unset: none; caller budgets and logs then see the proxy\'s address'
  })),
  REDIS_URL: Type.Optional(Type.String({ pattern: '^rediss?://', description: 'Shared cache and limiter; unset: in-process' })),
  REDIS_CLUSTER_NODES: Type.Optional(Type.String({ pattern: '^[^\\s,:]+:\\d{1,5}(,[^\\s,:]+:\\d{1,5})*$', description: 'A Redis Cluster instead of REDIS_URL: seed nodes, comma-separated host:port' })),
  REDIS_SENTINELS: Type.Optional(Type.String({ pattern: '^[^\\s,:]+:\\d{1,5}(,[^\\s,:]+:\\d{1,5})*$', description: 'A Sentinel-managed primary instead of REDIS_URL: the sentinels, comma-separated host:port (with REDIS_SENTINEL_NAME)' })),
  REDIS_SENTINEL_NAME: Type.String({ minLength: 1, default: 'mymaster', description: 'The primary\'s name the sentinels know it by' }),
  REDIS_PASSWORD: Secret('Password of the cluster nodes or the Sentinel-managed primary (REDIS_URL carries its own)'),
  REDIS_KEY_PREFIX: Type.String({ pattern: '^[A-Za-z0-9:_.-]{1,64}$', default: 'bff:', description: 'Prefix of every Redis key of ours' }),
  AITOEARN_BASE_URL: Type.Optional(Url('AiToEarn base URL; overrides AITOEARN_REGION')),
  AITOEARN_REGION: Type.Union([Type.Literal('global'), Type.Literal('cn')], {
    default: 'global',
    description: '`global` -> https://aitoearn.ai, `cn` -> https://aitoearn.cn'
  }),
  AITOEARN_API_KEY: Secret('AiToEarn open API key (X-Api-Key)'),
  DOUYIN_BASE_URL: Url('Douyin open platform base URL', 'https://open.douyin.com'),
  DOUYIN_CLIENT_KEY: Secret('Douyin app client_key'),
  DOUYIN_CLIENT_SECRET: Secret('Douyin app client_secret'),
  DOUYIN_ACCESS_TOKEN: Secret('A ready access token, used as is instead of key and secret'),
  DOUYIN_QPS: Type.Integer({ minimum: 1, maximum: 1000, default: 10, description: 'Douyin requests per second, across all instances' }),
  DOUYIN_MAX_ROWS: Type.Integer({ minimum: 1, maximum: 1_000_000, default: 20_000, description: 'Most Douyin rows one request may pull (all=true walks, ranges x pageSize); more: 422 RESULT_TOO_LARGE before the memory is spent (~2 KB of memory per row while an answer is built)' }),
  DOUYIN_SOURCE: Type.Union([Type.Literal('auto'), Type.Literal('bill'), Type.Literal('daily')], {
    default: 'auto',
    description: 'Where taskbox data comes from: `bill` the bill file per billing date (query_bill_link; Douyin\'s recommended API), `daily` query_task_video_daily_data (no longer maintained by Douyin), `auto` the bill, with the daily API standing in when the bill API is missing for this app or a date has no bill yet'
  }),
  DOUYIN_BILL_HOSTS: Type.String({
    minLength: 1,
    default: 'byteimg.com',
    description: 'Hosts bill files may be fetched from, comma-separated: a host suffix (`byteimg.com`: that host and its subdomains, HTTPS only), or a plain-HTTP origin written as such (`http://127.0.0.1:4021`, for sandboxes). Any other host, a redirect off the list, plain HTTP elsewhere: refused and logged'
  }),
  DOUYIN_BILL_MAX_MB: Type.Integer({ minimum: 1, maximum: 4096, default: 256, description: 'Largest bill file accepted, MiB (a parsed day is kept at about a third of that)' }),
  DOUYIN_QPS_FALLBACK: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, description: 'Each instance\'s share of DOUYIN_QPS while the configured Redis is away; default DOUYIN_QPS split over the instances last seen in Redis (their leases), at least 1, for at most 58.5 s of outage; set, it holds for the whole outage' })),
  SANDBOX: Type.Union([Type.Literal('auto'), Type.Literal('true'), Type.Literal('false')], {
    default: 'auto',
    description: '`auto`: sandbox upstream for each upstream without credentials, unless NODE_ENV=production'
  }),
  CACHE_PLATFORMS_TTL_S: Type.Integer({ minimum: 0, default: 3600, description: 'Freshness of the platform list, seconds' }),
  CACHE_WORKS_TTL_S: Type.Integer({ minimum: 0, default: 60, description: 'Freshness of a works list page, seconds' }),
  CACHE_ANALYTICS_TTL_S: Type.Integer({ minimum: 0, default: 300, description: 'Freshness of work analytics, seconds' }),
  CACHE_DOUYIN_SETTLED_TTL_S: Type.Integer({ minimum: 0, default: 43200, description: 'Freshness of Douyin data for billing dates at least 3 days old, seconds' }),
  CACHE_DOUYIN_RECENT_TTL_S: Type.Integer({ minimum: 0, default: 600, description: 'Freshness of Douyin data for recent billing dates (settlement still moves), seconds' }),
  CACHE_SWR_S: Type.Optional(Type.Integer({ minimum: 0, description: 'Stale-while-revalidate window after freshness, seconds; default: each route\'s own TTL' })),
  CACHE_STALE_IF_ERROR_S: Type.Integer({ minimum: 0, default: 86400, description: 'How long past freshness a stale answer may stand in for a failing upstream, seconds' }),
  CACHE_NEGATIVE_TTL_S: Type.Integer({ minimum: 0, default: 30, description: 'How long a "not found" is remembered, seconds' }),
  CACHE_LOCAL_MAX_MB: Type.Integer({ minimum: 0, maximum: 16384, default: 64, description: 'Bound of the in-process cache tier, MiB of cached bodies (0: no in-process copies; with Redis every hit reads it, without Redis nothing is cached)' }),
  CACHE_LOCAL_TTL_MS: Type.Integer({ minimum: 0, default: 2000, description: 'With Redis, while its invalidations are not flowing (a cluster, a reconnect): how long the in-process tier serves its copy before checking it against Redis again, ms (0: every answer is checked, and no invalidations are used)' }),
  BFF_API_KEYS: Secret('Callers\' API keys, comma-separated `name:key` or `name:sha256hex` (64 hex digits: the SHA-256 of the key); sent as `Authorization: Bearer <key>` or `X-Api-Key`'),
  BFF_AUTH: Type.Union([Type.Literal('auto'), Type.Literal('keys'), Type.Literal('none')], {
    default: 'auto',
    description: '`auto`: keys when BFF_API_KEYS is set, open otherwise (refused in production); `keys`: BFF_API_KEYS required; `none`: open, on purpose (also in production)'
  }),
  AUTH_OPEN_PATHS: Type.String({
    minLength: 1,
    default: '/,/index.html,/assets/*,/vendor/*,/docs,/docs/*,/healthz,/readyz',
    description: 'Paths answered without a key, comma-separated; `*` at the end matches any rest; `none`: no open path'
  }),
  METRICS_REQUIRE_KEY: Type.Boolean({ default: true, description: 'With keys configured: GET /metrics needs a key too (false: open, like /healthz)' }),
  CORS_ORIGINS: Type.Optional(Type.String({ minLength: 1, description: 'Origins allowed to call from a browser, comma-separated (`https://dash.example.com`); none by default' })),
  RATE_LIMIT_MAX: Type.Integer({ minimum: 0, default: 600, description: 'Requests per caller (key name, else IP) per RATE_LIMIT_WINDOW_S to /v1 routes; 0: no limit' }),
  RATE_LIMIT_WINDOW_S: Type.Integer({ minimum: 1, maximum: 86400, default: 60, description: 'Window of the caller rate limits, seconds' }),
  RATE_LIMIT_DOUYIN_UNCACHED_MAX: Type.Integer({ minimum: 0, default: 60, description: 'Douyin queries per caller per window that miss the cache (each would spend the shared Douyin budget); 0: no limit' }),
  PRESSURE_MAX_EVENT_LOOP_DELAY_MS: Type.Integer({ minimum: 0, default: 1000, description: 'Shed load (503 + Retry-After) above this event-loop delay, ms; 0: off' }),
  PRESSURE_MAX_HEAP_MB: Type.Optional(Type.Integer({ minimum: 0, description: 'Shed load above this heap use, MiB; default 90% of the heap limit; 0: off' })),
  MAX_HEADER_BYTES: Type.Integer({ minimum: 1024, maximum: 65536, default: 16384, description: 'Largest request line + headers (query string included), bytes; larger: 431' }),
  SHUTDOWN_GRACE_MS: Millis('On SIGTERM: how long in-flight and queued requests may take to finish; the rest are answered 503 with Retry-After', 10000),
  UPSTREAM_TIMEOUT_MS: Millis('Timeout of one upstream attempt (connect, headers, body)', 5000),
  REQUEST_DEADLINE_MS: Millis('Deadline of one request to the BFF, retries and queueing included', 10000),
  MERGED_VIEW_DEADLINE_MS: Millis('Deadline of the merged metrics view: a source not answered by then is reported as UPSTREAM_TIMEOUT while its cache fill goes on', 10000),
  OTEL_EXPORTER_OTLP_ENDPOINT: Type.Optional(Url('OpenTelemetry: traces are made and sent to this OTLP/HTTP collector (`<endpoint>/v1/traces`, e.g. http://otel-collector:4318); unset: no tracing at all. OTEL_EXPORTER_OTLP_HEADERS is read by the exporter as the standard says')),
  OTEL_SERVICE_NAME: Type.String({ minLength: 1, maxLength: 128, default: 'metrics-bff', description: 'OpenTelemetry: the service.name of our spans' })
})

export type Env = Static<typeof EnvSchema>

export class ConfigError extends Error {
  override name = 'ConfigError'
}

const AITOEARN_REGIONS = { global: 'https://aitoearn.ai', cn: 'https://aitoearn.cn' } as const

/** One caller key: its name (logs, metrics, rate limits), the SHA-256 digest it is compared by, and the key when configured as is. */
export interface ApiKey { name: string, digest: Buffer, raw?: string }

/** BFF_API_KEYS: `name:key` or `name:sha256hex`, comma-separated. Errors never echo a key. */
export function parseApiKeys (raw: string | undefined): ApiKey[] {
  if (raw === undefined) return []
  const keys: ApiKey[] = []
  for (const [i, entry] of raw.split(',').map(e => e.trim()).filter(Boolean).entries()) {
    const at = entry.indexOf(':')
    const name = at > 0 ? entry.slice(0, at) : ''
    const secret = at > 0 ? entry.slice(at + 1) : ''
    if (!/^[A-Za-z0-9_.-]{1,64}$/.test(name)) throw new ConfigError(`Invalid configuration: BFF_API_KEYS entry ${i + 1} needs a name:key form with a name of letters, digits, _ . - (at most 64)`)
    if (keys.some(k => k.name === name)) throw new ConfigError(`Invalid configuration: BFF_API_KEYS names "${name}" twice`)
    if (/^[0-9a-f]{64}$/i.test(secret)) keys.push({ name, digest: Buffer.from(secret, 'hex') })
    else if (secret.length >= 16 && /^[\x21-\x7e]+$/.test(secret)) keys.push({ name, digest: createHash('sha256').update(secret).digest(), raw: secret })
    else throw new ConfigError(`Invalid configuration: BFF_API_KEYS key of "${name}" must be at least 16 visible ASCII characters (or 64 hex digits: its SHA-256)`)
  }
  return keys
}

/** A comma-separated list of origins (scheme://host[:port]). */
function parseOrigins (raw: string | undefined): string[] {
  if (raw === undefined) return []
  return raw.split(',').map(o => o.trim()).filter(Boolean).map(origin => {
    let url: URL | undefined
    try { url = new URL(origin) } catch { url = undefined }
    if (!url || !/^https?:$/.test(url.protocol) || url.origin !== origin.replace(/\/$/, '')) {
      throw new ConfigError(`Invalid configuration: CORS_ORIGINS entry ${JSON.stringify(origin.slice(0, 60))} is not an origin like https://dash.example.com`)
    }
    return url.origin
  })
}

/** Validates the environment; throws a ConfigError whose message is one line naming the variable. */
export function parseEnv (raw: Record<string, string | undefined>): Env {
  const known: Record<string, unknown> = {}
  for (const key of Object.keys(EnvSchema.properties)) {
    const value = raw[key]
    if (value !== undefined && value.trim() !== '') known[key] = value.trim()
  }
  const converted = Value.Convert(EnvSchema, Value.Default(EnvSchema, known))
  const first = Value.Errors(EnvSchema, converted).First()
  if (first) {
    const name = first.path.replace(/^\//, '') || 'environment'
    const shown = known[name] === undefined ? 'unset' : JSON.stringify(String(known[name]).slice(0, 60))
    throw new ConfigError(`Invalid configuration: ${name} ${first.message.toLowerCase()} (got ${shown})`)
  }
  return converted as Env
}

/** Where the shared Redis is: one server (REDIS_URL), a cluster, or a Sentinel-managed primary; one of them at most. */
export type RedisTarget =
  | { mode: 'single', url: string, keyPrefix: string }
  | { mode: 'cluster', nodes: Array<{ host: string, port: number }>, password?: string | undefined, keyPrefix: string }
  | { mode: 'sentinel', sentinels: Array<{ host: string, port: number }>, name: string, password?: string | undefined, keyPrefix: string }

function redisOf (env: Env): RedisTarget | undefined {
  const set = [env.REDIS_URL && 'REDIS_URL', env.REDIS_CLUSTER_NODES && 'REDIS_CLUSTER_NODES', env.REDIS_SENTINELS && 'REDIS_SENTINELS'].filter(Boolean)
  if (set.length > 1) throw new ConfigError(`Invalid configuration: ${set.join(' and ')} name different Redis deployments; set one`)
  const hosts = (list: string) => list.split(',').map(e => {
    const at = e.lastIndexOf(':')
    return { host: e.slice(0, at), port: Number(e.slice(at + 1)) }
  })
  const keyPrefix = env.REDIS_KEY_PREFIX
  if (env.REDIS_URL) return { mode: 'single', url: env.REDIS_URL, keyPrefix }
  if (env.REDIS_CLUSTER_NODES) return { mode: 'cluster', nodes: hosts(env.REDIS_CLUSTER_NODES), password: env.REDIS_PASSWORD, keyPrefix }
  if (env.REDIS_SENTINELS) return { mode: 'sentinel', sentinels: hosts(env.REDIS_SENTINELS), name: env.REDIS_SENTINEL_NAME, password: env.REDIS_PASSWORD, keyPrefix }
  return undefined
}

/** DOUYIN_BILL_HOSTS checked: host suffixes, and plain-HTTP origins written with their scheme. */
function billHosts (spec: string): string {
  const entries = spec.split(',').map(e => e.trim()).filter(Boolean)
  for (const entry of entries) {
    const origin = /^http:\/\/[^/\s?#]+\/?$/i.test(entry) && URL.canParse(entry)
    const suffix = /^(\*\.)?[a-z0-9-]+(\.[a-z0-9-]+)+$/i.test(entry)
    if (!origin && !suffix) {
      throw new ConfigError(`Invalid configuration: DOUYIN_BILL_HOSTS entry ${JSON.stringify(entry.slice(0, 60))} is neither a host suffix (byteimg.com; HTTPS is implied) nor a plain-HTTP origin (http://host:port)`)
    }
  }
  if (entries.length === 0) throw new ConfigError('Invalid configuration: DOUYIN_BILL_HOSTS names no host')
  return entries.join(',')
}

function deriveConfig (env: Env) {
  const production = env.NODE_ENV === 'production'
  const apiKeys = env.BFF_AUTH === 'none' ? [] : parseApiKeys(env.BFF_API_KEYS)
  if (env.BFF_AUTH === 'none' && env.BFF_API_KEYS) throw new ConfigError('Invalid configuration: BFF_AUTH=none and BFF_API_KEYS contradict each other; unset one')
  const sandboxWanted = (hasCredentials: boolean) =>
    env.SANDBOX === 'true' || (env.SANDBOX === 'auto' && !production && !hasCredentials)
  const douyinHasCredentials = Boolean(env.DOUYIN_ACCESS_TOKEN ?? (env.DOUYIN_CLIENT_KEY && env.DOUYIN_CLIENT_SECRET))
  if (Boolean(env.DOUYIN_CLIENT_KEY) !== Boolean(env.DOUYIN_CLIENT_SECRET) && !env.DOUYIN_ACCESS_TOKEN) {
    throw new ConfigError('Invalid configuration: DOUYIN_CLIENT_KEY and DOUYIN_CLIENT_SECRET must be set together')
  }
  const config = {
    env,
    production,
    /** Every secret value configured: scrubbed by value from logs and problems (src/secrets.ts). */
    secrets: [env.AITOEARN_API_KEY, env.DOUYIN_CLIENT_SECRET, env.DOUYIN_ACCESS_TOKEN, env.REDIS_PASSWORD, ...apiKeys.map(k => k.raw)].filter((v): v is string => v !== undefined),
    trustProxy: env.TRUST_PROXY,
    port: env.PORT,
    host: env.HOST,
    logLevel: env.LOG_LEVEL,
    redis: redisOf(env),
    upstreamTimeoutMs: env.UPSTREAM_TIMEOUT_MS,
    cache: {
      ttlSeconds: {
        platforms: env.CACHE_PLATFORMS_TTL_S,
        works: env.CACHE_WORKS_TTL_S,
        analytics: env.CACHE_ANALYTICS_TTL_S,
        douyinSettled: env.CACHE_DOUYIN_SETTLED_TTL_S,
        douyinRecent: env.CACHE_DOUYIN_RECENT_TTL_S
      },
      staleWhileRevalidateSeconds: env.CACHE_SWR_S,
      staleIfErrorSeconds: env.CACHE_STALE_IF_ERROR_S,
      negativeSeconds: env.CACHE_NEGATIVE_TTL_S,
      localMaxBytes: env.CACHE_LOCAL_MAX_MB * 1024 * 1024,
      localTtlMs: env.CACHE_LOCAL_TTL_MS
    },
    requestDeadlineMs: env.REQUEST_DEADLINE_MS,
    mergedViewDeadlineMs: env.MERGED_VIEW_DEADLINE_MS,
    /** OpenTelemetry traces (src/telemetry.ts): on only with an endpoint. */
    otel: { endpoint: env.OTEL_EXPORTER_OTLP_ENDPOINT?.replace(/\/+$/, ''), serviceName: env.OTEL_SERVICE_NAME },
    auth: {
      keys: apiKeys,
      /** Paths open without a key: exact, or a prefix when the pattern ends with `*`. */
      openPaths: env.AUTH_OPEN_PATHS.trim() === 'none' ? [] : env.AUTH_OPEN_PATHS.split(',').map(p => p.trim()).filter(Boolean),
      metricsRequireKey: env.METRICS_REQUIRE_KEY
    },
    corsOrigins: parseOrigins(env.CORS_ORIGINS),
    rateLimit: {
      max: env.RATE_LIMIT_MAX,
      windowMs: env.RATE_LIMIT_WINDOW_S * 1000,
      douyinUncachedMax: env.RATE_LIMIT_DOUYIN_UNCACHED_MAX
    },
    pressure: {
      maxEventLoopDelayMs: env.PRESSURE_MAX_EVENT_LOOP_DELAY_MS,
      maxHeapUsedBytes: env.PRESSURE_MAX_HEAP_MB === undefined ? undefined : env.PRESSURE_MAX_HEAP_MB * 1024 * 1024
    },
    maxHeaderBytes: env.MAX_HEADER_BYTES,
    shutdownGraceMs: env.SHUTDOWN_GRACE_MS,
    aitoearn: {
      baseUrl: (env.AITOEARN_BASE_URL ?? AITOEARN_REGIONS[env.AITOEARN_REGION]).replace(/\/+$/, ''),
      apiKey: env.AITOEARN_API_KEY,
      sandbox: sandboxWanted(Boolean(env.AITOEARN_API_KEY))
    },
    douyin: {
      baseUrl: env.DOUYIN_BASE_URL.replace(/\/+$/, ''),
      clientKey: env.DOUYIN_CLIENT_KEY,
      clientSecret: env.DOUYIN_CLIENT_SECRET,
      accessToken: env.DOUYIN_ACCESS_TOKEN,
      qps: env.DOUYIN_QPS,
      maxRows: env.DOUYIN_MAX_ROWS,
      /** Unset: the ceiling split over the fleet the shared limiter last saw. */
      qpsFallback: env.DOUYIN_QPS_FALLBACK,
      source: env.DOUYIN_SOURCE,
      bill: { hosts: billHosts(env.DOUYIN_BILL_HOSTS), maxBytes: env.DOUYIN_BILL_MAX_MB * 1024 * 1024 },
      sandbox: sandboxWanted(douyinHasCredentials)
    }
  }
  if (production) {
    const missing = [
      !config.aitoearn.sandbox && !env.AITOEARN_API_KEY && 'AITOEARN_API_KEY',
      !config.douyin.sandbox && !douyinHasCredentials && 'DOUYIN_ACCESS_TOKEN or DOUYIN_CLIENT_KEY + DOUYIN_CLIENT_SECRET'
    ].filter(Boolean)
    if (missing.length > 0) {
      throw new ConfigError(`Invalid configuration: NODE_ENV=production requires ${missing.join(' and ')}`)
    }
  }
  if (apiKeys.length === 0 && (env.BFF_AUTH === 'keys' || (production && env.BFF_AUTH === 'auto'))) {
    throw new ConfigError(`Invalid configuration: ${env.BFF_AUTH === 'keys' ? 'BFF_AUTH=keys' : 'NODE_ENV=production'} requires BFF_API_KEYS (or BFF_AUTH=none to run open on purpose)`)
  }
  return config
}

export type Config = ReturnType<typeof deriveConfig>

export function loadConfig (raw: Record<string, string | undefined> = process.env): Config {
  return deriveConfig(parseEnv(raw))
}
