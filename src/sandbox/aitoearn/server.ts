/**
 * Sandbox AiToEarn open API: a real HTTP server on 127.0.0.1 that answers as the real server does,
 * read from its source (github yikart/AiToEarn; the per-platform rules in providers.ts name their
 * files): HTTP 200 for every outcome, `{ data, code: 0, message: '请求成功', requestId }` for
 * success and `{ data, code, message, timestamp, requestId }` for errors
 * (libs/common/src/interceptors/response.interceptor.ts, filters/global-exception.filter.ts),
 * `qs`-style bracket pagination, the checks in the server's order, work analytics for the nine
 * platforms that have a provider, each saving a snapshot per call.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { randomBytes } from 'node:crypto'
import { Faults, applyFault, readBody, send, type Fault } from '../faults.js'
import { SANDBOX_AITOEARN_API_KEY } from '../seed.js'
import type { RecordedRequest, SandboxOptions, SandboxServer } from '../types.js'
import { PLATFORMS, type Platform } from '../../schemas/metrics.js'
import { dailyMetrics, seedAccounts, type SandboxAccount, type SandboxWork } from './data.js'
import { SUCCESS_MESSAGE, message, pickLang, type Lang } from './messages.js'
import { MODEL, type AnalyticsModel, type WorkField } from './providers.js'

export interface AitoearnSandbox extends SandboxServer {
  name: 'aitoearn'
  apiKey: string
  /** Analytics answers that carried data: each one "saved a snapshot" upstream. */
  snapshotsSaved: () => number
}

interface Answer { status: number, body: string }
type Query = Map<string, string[]>
type Fail = (code: number, data?: Record<string, unknown>) => Answer

const MAX_RECORDED = 500
const REQUEST_ID = /^[\x21-\x7e]{1,128}$/
const CURSOR_MAGIC = Buffer.from([0xfb, 0xef, 0xff])
const DAY_MS = 86_400_000
/** The server's own request ids when none is sent: 21 of [0-9a-z] (libs/common/src/starter.ts, nanoid). */
const ID_ALPHABET = '0123456789abcdefghijklmnopqrstuvwxyz'

export async function startAitoearnSandbox (opts: SandboxOptions & { apiKey?: string } = {}): Promise<AitoearnSandbox> {
  const apiKey = opts.apiKey ?? SANDBOX_AITOEARN_API_KEY
  const accounts = seedAccounts()
  const faults = new Faults()
  const requests: RecordedRequest[] = []
  let snapshots = 0

  // ---- the contract -------------------------------------------------------------------------

  function route (req: IncomingMessage, rawPath: string, rawQuery: string, lang: Lang, requestId: string): Answer {
    const ok = (data: unknown): Answer => ({ status: 200, body: JSON.stringify({ data, code: 0, message: SUCCESS_MESSAGE, requestId }) })
    const fail: Fail = (code, data = {}) => ({
      status: 200,
      body: JSON.stringify({ data, code, message: message(code, lang, { platform: String(data.platform ?? ''), path: rawPath.slice(0, 100) }), timestamp: Date.now(), requestId })
    })
    const segments = rawPath.split('/').slice(1).map(safeDecode)
    if (req.method !== 'GET' || segments.some(s => s === null) || segments.slice(0, 3).join('/') !== 'api/v2/channels') return fail(404)
    // The API key guard: a key that is sent is checked even on public routes (aitoearn-auth.guard.ts).
    const key = req.headers['x-api-key']
    if (key !== undefined && key !== apiKey) return fail(401)
    const [, , , resource, platformRaw, workId, tail] = segments as string[]
    if (resource === 'platforms' && segments.length === 4) return ok(platformList())
    if (resource !== 'works' || platformRaw === undefined) return fail(404)
    if (key === undefined) return fail(401)
    if (segments.length === 5) return listWorks(platformRaw, parseQuery(rawQuery), ok, fail)
    if (segments.length === 7 && tail === 'analytics') return analytics(platformRaw, workId!, parseQuery(rawQuery), ok, fail)
    return fail(404)
  }

  /** GET /api/v2/channels/platforms: a bare array of the registered platforms (platforms.controller.ts). */
  function platformList () {
    return PLATFORMS.filter(p => MODEL[p].status !== 'hidden').map(platform => {
      const m = MODEL[platform]
      const live = m.status === 'available'
      const list = live ? m.list : undefined
      return {
        platform,
        displayName: m.displayName,
        logoUrl: `https://sandbox.example/logos/${platform}.png`,
        authType: m.authType,
        status: m.status,
        capabilities: {
          auth: { supported: live, revoke: false, selectableAccounts: false, refreshAccountAccess: false },
          publish: { supported: live, cancel: false, update: false, verify: live, finalize: false, scheduleByPlatform: false, optionSources: false },
          // coming_soon / unavailable: registered with no providers, every capability false.
          analytics: live ? m.caps : { account: false, work: false },
          work: {
            listWorks: list !== undefined,
            listWorksPagination: list ? { mode: 'cursor', defaultLimit: list.defaultLimit, maxLimit: list.maxLimit, supportsPrevious: list.supportsPrevious } : { mode: 'none' },
            getLinkInfo: live,
            getDetail: list !== undefined,
            verifyOwnership: list !== undefined
          },
          browse: { search: false, getDetail: false },
          webhook: { supported: false }
        }
      }
    })
  }

  /**
   * The account checks (B/works/work.service.ts getPlatformAccount, auth.service.ts
   * getValidCredential): 12600, 15040, then the account's state.
   */
  function account (platform: Platform, accountId: string, fail: Fail): SandboxAccount | Answer {
    const a = accounts.get(accountId)
    if (!a) return fail(12600)
    if (a.platform !== platform) return fail(15040)
    return a
  }

  function credential (a: SandboxAccount, fail: Fail): Answer | undefined {
    if (a.state === 'abnormal') return fail(15001)
    if (a.state === 'no-credential') return fail(15006, { accountId: a.id })
    return undefined
  }

  /**
   * GET /api/v2/channels/works/:platform, checked in the server's order (B/works/work.service.ts
   * listWorks): the DTO (400), a hidden platform (15032), no listing (15080), the pagination
   * (15088, 15089, 15091: before the account), the account (12600, 15040), its credential.
   */
  function listWorks (platformRaw: string, query: Query, ok: (d: unknown) => Answer, fail: Fail): Answer {
    if (!isPlatform(platformRaw)) return fail(400)
    const platform = platformRaw
    const pagination = parsePagination(query)
    const accountId = query.get('accountId')?.[0]
    if (pagination === 'invalid' || !accountId) return fail(400)
    const model = MODEL[platform]
    if (model.status === 'hidden') return fail(15032, { platform })
    const rules = model.status === 'available' ? model.list : undefined
    if (!rules) return fail(15080, { platform, capability: 'work.listWorks' })
    if (pagination.page !== undefined) return fail(15088, { platform, expectedMode: 'cursor', actualMode: 'page' })
    const limit = pagination.limit ?? rules.defaultLimit
    if (limit > rules.maxLimit) return fail(15089, { platform, limit, maxLimit: rules.maxLimit })
    const direction = pagination.direction ?? 'next'
    if (direction === 'previous' && !rules.supportsPrevious) return fail(15091, { platform, direction })
    const a = account(platform, accountId, fail)
    if ('body' in a) return a
    const refused = credential(a, fail)
    if (refused) return refused
    const total = a.works.length
    let at: number | undefined
    if (pagination.cursor !== undefined) {
      at = decodeCursor(pagination.cursor, a.id, total)
      // The platform's own API refuses a cursor it did not issue: the provider's error, 15070.
      if (at === undefined) return fail(15070, { platform, category: 'validation', retryable: false, httpStatus: 400, endpoint: 'listWorks' })
    }
    const from = direction === 'next' ? (at ?? 0) : Math.max(0, (at ?? 0) - limit)
    const to = direction === 'next' ? Math.min(total, from + limit) : (at ?? 0)
    const items = a.works.slice(from, to).map(w => listItem(platform, w))
    const hasNext = rules.hasNextByCount ? items.length >= limit : to < total
    return ok({
      platform,
      items,
      pagination: {
        mode: 'cursor',
        hasNext,
        hasPrevious: rules.supportsPrevious && from > 0,
        limit,
        ...(hasNext ? { nextCursor: encodeCursor(a.id, to) } : {}),
        ...(rules.supportsPrevious && from > 0 ? { previousCursor: encodeCursor(a.id, from) } : {})
      }
    })
  }

  /**
   * GET /api/v2/channels/works/:platform/:workId/analytics (B/analytics/analytics.service.ts
   * fetchWorkAnalytics): the DTO (400), no accountId (code 0, "Account required"), the account
   * (12600, 15040), a hidden platform (15032), no provider (code 0, "Work analytics not
   * supported", credentials unchecked), the credential, then the platform's provider.
   */
  function analytics (platformRaw: string, workId: string, query: Query, ok: (d: unknown) => Answer, fail: Fail): Answer {
    if (!isPlatform(platformRaw) || workId === '') return fail(400)
    const platform = platformRaw
    const accountId = query.get('accountId')?.[0]
    // z.coerce.date(): a value Date cannot read is a 400; no since <= until check (B/works/works.dto.ts).
    const since = parseDate(query.get('since')?.[0])
    const until = parseDate(query.get('until')?.[0])
    if (since === null || until === null || accountId === '') return fail(400)
    if (accountId === undefined) return ok({ platform, platformWorkId: workId, snapshots: [], message: 'Account required' })
    const a = account(platform, accountId, fail)
    if ('body' in a) return a
    const model = MODEL[platform]
    if (model.status === 'hidden') return fail(15032, { platform })
    const provider = model.status === 'available' ? model.analytics : undefined
    if (!provider) return ok({ platform, accountId, platformWorkId: workId, snapshots: [], message: 'Work analytics not supported' })
    const refused = credential(a, fail)
    if (refused) return refused
    const work = a.works.find(w => w.platformWorkId === workId)
    if (!work && !('zeros' in provider.unknown)) {
      const { code, ...data } = provider.unknown
      return fail(code, { platform, platformWorkId: workId, endpoint: 'fetchWorkAnalytics', ...data })
    }
    snapshots++
    const fetchedAt = new Date().toISOString()
    const snapshotId = randomBytes(12).toString('hex') // a Mongo ObjectId, as the repository returns it
    const list = work ? providerSnapshots(platform, provider, work, fetchedAt, since, until) : unknownSnapshot(provider, workId, fetchedAt)
    const saved = list.map((snap, i) => ({ id: i === list.length - 1 ? snapshotId : randomBytes(12).toString('hex'), platformWorkId: workId, fetchedAt, ...snap }))
    const latest = saved.at(-1)!
    return ok({ platform, accountId, platformWorkId: workId, work: latest.work, metrics: latest.metrics, snapshots: saved, extra: latest.extra, snapshotId: latest.id, fetchedAt })
  }

  /** What a provider answers for a work it knows. */
  function providerSnapshots (platform: Platform, p: AnalyticsModel, w: SandboxWork, fetchedAt: string, since: number | undefined, until: number | undefined): Array<{ snapshotAt: string, work: Record<string, unknown>, metrics: Record<string, number>, extra?: Record<string, unknown> }> {
    const work = { id: w.platformWorkId, ...pick(w, p.work), ...(p.mediaType ? { mediaType: p.mediaType } : {}) }
    if (p.snapshotAt === 'day') {
      // B/platforms/pinterest/pinterest-analytics.provider.ts: until ?? now, since ?? until - 30 days,
      // sent as UTC dates; one snapshot per day at its UTC midnight.
      const end = startOfDay(until ?? Date.now())
      const start = startOfDay(since ?? end - 30 * DAY_MS)
      const days = []
      for (let day = start; day <= end; day += DAY_MS) {
        const iso = new Date(day).toISOString()
        days.push({ snapshotAt: iso, work, metrics: dailyMetrics(platform, w.platformWorkId, iso.slice(0, 10)), extra: { dataStatus: 'READY' } })
      }
      return days
    }
    const metrics = Object.fromEntries(p.metrics.map(name => [name, w.metrics[name] ?? 0]).filter(([, v]) => p.zeroFill || v !== undefined))
    return [{ snapshotAt: p.snapshotAt === 'publish' ? w.publishedAt : fetchedAt, work, metrics, ...(p.extra ? { extra: w.extra } : {}) }]
  }

  /** tiktok (tiktok-analytics.provider.ts): no video found, code 0 with zeros and the fetch time. */
  function unknownSnapshot (p: AnalyticsModel, workId: string, fetchedAt: string): Array<{ snapshotAt: string, work: Record<string, unknown>, metrics: Record<string, number>, extra?: Record<string, unknown> }> {
    return [{ snapshotAt: fetchedAt, work: { id: workId, ...(p.mediaType ? { mediaType: p.mediaType } : {}) }, metrics: Object.fromEntries(p.metrics.map(name => [name, 0])) }]
  }

  // ---- HTTP ---------------------------------------------------------------------------------

  async function handle (req: IncomingMessage, res: ServerResponse): Promise<void> {
    const rawUrl = req.url ?? '/'
    const q = rawUrl.indexOf('?')
    const rawPath = q < 0 ? rawUrl : rawUrl.slice(0, q)
    const rawQuery = q < 0 ? '' : rawUrl.slice(q + 1)
    if (rawPath.startsWith('/__sandbox/')) return control(req, res, rawPath)
    requests.push({ method: req.method ?? 'GET', url: rawUrl, headers: req.headers, at: Date.now() })
    if (requests.length > MAX_RECORDED) requests.splice(0, requests.length - MAX_RECORDED)
    req.resume()
    const given = req.headers['x-request-id']
    const requestId = typeof given === 'string' && REQUEST_ID.test(given) ? given : newRequestId()
    const lang = pickLang(req.headers['accept-language'])
    const normal = () => route(req, rawPath, rawQuery, lang, requestId)
    const fault = faults.take(rawPath)
    if (fault && await applyFault(fault, faults, req, res, normal)) return
    const { status, body } = normal()
    send(res, status, 'application/json', body, { 'x-request-id': requestId })
  }

  async function control (req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    const json = (status: number, value: unknown) => send(res, status, 'application/json', JSON.stringify(value))
    const key = `${req.method} ${path}`
    if (key === 'POST /__sandbox/faults') {
      try {
        faults.add(JSON.parse(await readBody(req)) as Fault)
        return json(201, { ok: true })
      } catch {
        return json(400, { ok: false, message: 'body must be a Fault as JSON' })
      }
    }
    req.resume()
    if (key === 'DELETE /__sandbox/faults') { faults.clear(); faults.releaseHeld(); return json(200, { ok: true }) }
    if (key === 'GET /__sandbox/requests') return json(200, requests)
    if (key === 'DELETE /__sandbox/requests') { requests.length = 0; return json(200, { ok: true }) }
    if (key === 'GET /__sandbox/stats') return json(200, { requests: requests.length, snapshotsSaved: snapshots, held: faults.held.size })
    return json(404, { ok: false, message: 'unknown control endpoint' })
  }

  const server = createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) send(res, 500, 'application/json', '{"code":500,"message":"sandbox error"}')
      else res.destroy()
    })
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => resolve())
  })
  const { port } = server.address() as AddressInfo

  return {
    name: 'aitoearn',
    url: `http://${opts.host ?? '127.0.0.1'}:${port}`,
    apiKey,
    faults,
    requests,
    count: (pathPart?: string) => pathPart === undefined ? requests.length : requests.filter(r => r.url.split('?')[0]!.includes(pathPart)).length,
    addFault: (fault: Fault) => faults.add(fault),
    snapshotsSaved: () => snapshots,
    close: async () => {
      faults.releaseHeld()
      server.closeAllConnections()
      await new Promise<void>(resolve => server.close(() => resolve()))
    }
  }
}

// ---- helpers ---------------------------------------------------------------------------------

function isPlatform (value: string): value is Platform {
  return (PLATFORMS as readonly string[]).includes(value)
}

function safeDecode (segment: string): string | null {
  try {
    return decodeURIComponent(segment)
  } catch {
    return null
  }
}

/** `qs`-like: `+` is a space, keys and values percent-decoded; repeated keys collect. */
function parseQuery (raw: string): Query {
  const out: Query = new Map()
  for (const part of raw.split('&')) {
    if (part === '') continue
    const eq = part.indexOf('=')
    const key = safeDecode((eq < 0 ? part : part.slice(0, eq)).replaceAll('+', ' '))
    const value = safeDecode((eq < 0 ? '' : part.slice(eq + 1)).replaceAll('+', ' '))
    if (key === null || value === null) continue
    out.set(key, [...(out.get(key) ?? []), value])
  }
  return out
}

interface PaginationInput { limit?: number, cursor?: string, direction?: 'next' | 'previous', page?: number, pageSize?: number }

/**
 * The server's pagination DTO (B/platforms/platform-pagination.dto.ts): a union tried in order,
 * {page, pageSize} | {cursor, limit?, direction?} | {limit, direction?: 'next'} | {direction: 'next'};
 * an unknown key, a non-positive or non-integer number, `previous` without a cursor: 400.
 */
function parsePagination (query: Query): PaginationInput | 'invalid' {
  if (query.has('pagination')) return 'invalid'
  const out: PaginationInput = {}
  for (const [key, values] of query) {
    if (key === 'accountId') continue
    const m = /^pagination\[(\w+)\]$/.exec(key)
    if (!m) continue
    const value = values[0]!
    const name = m[1]
    if (name === 'limit' || name === 'page' || name === 'pageSize') {
      if (!/^\d{1,15}$/.test(value) || Number(value) < 1) return 'invalid'
      out[name] = Number(value)
    } else if (name === 'cursor') {
      out.cursor = value
    } else if (name === 'direction') {
      if (value !== 'next' && value !== 'previous') return 'invalid'
      out.direction = value
    } else return 'invalid'
  }
  if (out.page !== undefined || out.pageSize !== undefined) return out.page !== undefined && out.pageSize !== undefined ? out : 'invalid'
  if (out.direction === 'previous' && out.cursor === undefined) return 'invalid'
  return out
}

function newRequestId (): string {
  let id = ''
  for (const byte of randomBytes(21)) id += ID_ALPHABET[byte % ID_ALPHABET.length]
  return id
}

/** The fields a provider fills, from a seeded work. */
function pick (w: SandboxWork, fields: WorkField[]): Record<string, string> {
  const out: Record<string, string> = {}
  for (const f of fields) out[f === 'authorName' ? 'author' : f] = w[f]
  return out
}

/** Opaque cursors, deliberately standard base64 with `+` and `/` in them, as platforms' cursors have. */
function encodeCursor (accountId: string, offset: number): string {
  return Buffer.concat([CURSOR_MAGIC, Buffer.from(JSON.stringify({ a: accountId, o: offset }))]).toString('base64')
}

function decodeCursor (cursor: string, accountId: string, total: number): number | undefined {
  try {
    const bytes = Buffer.from(cursor, 'base64')
    if (!bytes.subarray(0, 3).equals(CURSOR_MAGIC)) return undefined
    const { a, o } = JSON.parse(bytes.subarray(3).toString('utf8')) as { a?: unknown, o?: unknown }
    return a === accountId && Number.isInteger(o) && (o as number) >= 0 && (o as number) <= total ? o as number : undefined
  } catch {
    return undefined
  }
}

/** undefined when absent, null when not a date (parsed as JS dates, as the server does). */
function parseDate (value: string | undefined): number | undefined | null {
  if (value === undefined || value === '') return undefined
  const ms = Date.parse(value)
  return Number.isNaN(ms) ? null : ms
}

function startOfDay (ms: number): number {
  return Math.floor(ms / DAY_MS) * DAY_MS
}

/** A list item as the platform's work provider builds it (B/platforms/<p>/<p>-work.provider.ts). */
function listItem (platform: Platform, w: SandboxWork) {
  const rules = MODEL[platform].list!
  const item: Record<string, unknown> = { platformWorkId: w.platformWorkId, contentMode: w.contentMode }
  for (const f of rules.fields) item[f] = w[f]
  if (rules.metrics) item.metrics = Object.fromEntries(rules.metrics.map(name => [name, w.metrics[name] ?? 0]).filter(([, v]) => rules.zeroFill || v !== undefined))
  return item
}
