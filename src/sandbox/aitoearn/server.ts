/**
 * Sandbox AiToEarn open API: a real HTTP server on 127.0.0.1 that answers as the real one does
 * (see ../shared/UPSTREAMS.md): HTTP 200 with `{code, message, data, timestamp, requestId}` for
 * every business outcome, `qs`-style bracket pagination with per-platform limits, opaque cursors,
 * 15080 for platforms without work listing, work analytics that "save a snapshot" on every call.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { randomUUID } from 'node:crypto'
import { Faults, applyFault, readBody, send, type Fault } from '../faults.js'
import { SANDBOX_AITOEARN_API_KEY } from '../seed.js'
import type { RecordedRequest, SandboxOptions, SandboxServer } from '../types.js'
import { PLATFORMS, type Platform } from '../../schemas/metrics.js'
import { LIST_RULES, WORK_ANALYTICS, dailyMetrics, seedAccounts, type SandboxWork } from './data.js'
import { message, pickLang, type Lang } from './messages.js'

export interface AitoearnSandbox extends SandboxServer {
  name: 'aitoearn'
  apiKey: string
  /** Analytics answers that carried data: each one "saved a snapshot" upstream. */
  snapshotsSaved: () => number
}

interface Answer { status: number, body: string }
type Query = Map<string, string[]>

const MAX_RECORDED = 500
const REQUEST_ID = /^[\x21-\x7e]{1,128}$/
const CURSOR_MAGIC = Buffer.from([0xfb, 0xef, 0xff])
const DAY_MS = 86_400_000

export async function startAitoearnSandbox (opts: SandboxOptions & { apiKey?: string } = {}): Promise<AitoearnSandbox> {
  const apiKey = opts.apiKey ?? SANDBOX_AITOEARN_API_KEY
  const accounts = seedAccounts()
  const faults = new Faults()
  const requests: RecordedRequest[] = []
  let snapshots = 0

  // ---- the contract -------------------------------------------------------------------------

  function envelope (code: number, lang: Lang, requestId: string, data: unknown, vars?: Record<string, string | number>): Answer {
    const body = code === 0
      ? { code, message: message(0, lang), data, requestId }
      : { code, message: message(code, lang, vars), data: data ?? {}, timestamp: Date.now(), requestId }
    return { status: 200, body: JSON.stringify(body) }
  }

  function route (req: IncomingMessage, rawPath: string, rawQuery: string, lang: Lang, requestId: string): Answer {
    const segments = rawPath.split('/').slice(1).map(safeDecode)
    const fail = (code: number, vars?: Record<string, string | number>, data?: unknown) => envelope(code, lang, requestId, data, vars)
    const ok = (data: unknown) => envelope(0, lang, requestId, data)
    if (req.method !== 'GET' || segments.some(s => s === null) || segments.slice(0, 3).join('/') !== 'api/v2/channels') {
      return { status: 404, body: JSON.stringify({ code: 404, message: `Cannot ${req.method} ${rawPath.slice(0, 100)}`, data: {}, timestamp: Date.now(), requestId }) }
    }
    const [, , , resource, platformRaw, workId, tail] = segments as string[]
    if (resource === 'platforms' && segments.length === 4) return ok(platformList())
    if (resource !== 'works' || platformRaw === undefined) return route404()
    const authorized = req.headers['x-api-key'] === apiKey
    if (segments.length === 5) return authorized ? listWorks(platformRaw, parseQuery(rawQuery), ok, fail) : fail(401)
    if (segments.length === 7 && tail === 'analytics') return authorized ? analytics(platformRaw, workId!, parseQuery(rawQuery), ok, fail) : fail(401)
    return route404()

    function route404 (): Answer {
      return { status: 404, body: JSON.stringify({ code: 404, message: `Cannot GET ${rawPath.slice(0, 100)}`, data: {}, timestamp: Date.now(), requestId }) }
    }
  }

  function platformList () {
    return PLATFORMS.map(platform => {
      const rules = LIST_RULES[platform]
      return {
        platform,
        displayName: { 'en-US': platform, 'zh-CN': platform },
        logoUrl: `https://sandbox.example/logos/${platform}.png`,
        status: 'available',
        capabilities: {
          auth: { supported: true, revoke: false, selectableAccounts: false, refreshAccountAccess: false },
          publish: { supported: platform !== 'google_business', cancel: false, update: false, verify: true, finalize: false, scheduleByPlatform: false, optionSources: false },
          analytics: { account: true, work: WORK_ANALYTICS.has(platform) },
          work: {
            listWorks: Boolean(rules),
            listWorksPagination: rules ? { mode: 'cursor', ...rules } : { mode: 'none' },
            getLinkInfo: true,
            getDetail: true,
            verifyOwnership: true
          },
          browse: { search: false, getDetail: false },
          webhook: { supported: false }
        }
      }
    })
  }

  function listWorks (platformRaw: string, query: Query, ok: (d: unknown) => Answer, fail: (c: number, v?: Record<string, string | number>, d?: unknown) => Answer): Answer {
    if (!isPlatform(platformRaw)) return fail(10002, { detail: 'platform: invalid enum value' })
    const platform = platformRaw
    const pagination = parsePagination(query)
    if (typeof pagination === 'string') return fail(10002, { detail: pagination })
    const accountId = query.get('accountId')?.[0]
    if (!accountId) return fail(10002, { detail: 'accountId: required' })
    const rules = LIST_RULES[platform]
    if (!rules) return fail(15080, { platform }, { platform, capability: 'work.listWorks' })
    const account = accounts.get(accountId)
    if (!account) return fail(12600)
    if (account.platform !== platform) return fail(15040)
    if (pagination.page !== undefined) return fail(15088, { platform })
    const limit = pagination.limit ?? rules.defaultLimit
    if (limit > rules.maxLimit) return fail(15089, { platform, max: rules.maxLimit })
    const direction = pagination.direction ?? 'next'
    if (direction === 'previous' && !rules.supportsPrevious) return fail(15091, { platform })
    const total = account.works.length
    let at: number | undefined
    if (pagination.cursor !== undefined) {
      at = decodeCursor(pagination.cursor, account.id, total)
      if (at === undefined) return fail(10002, { detail: 'pagination.cursor: invalid cursor' })
    }
    const from = direction === 'next' ? (at ?? 0) : Math.max(0, (at ?? 0) - limit)
    const to = direction === 'next' ? Math.min(total, from + limit) : (at ?? 0)
    const items = account.works.slice(from, to).map(listItem)
    // KWAI decides "has next" from the page size alone, so a full last page is followed by an empty one.
    const hasNext = platform === 'KWAI' ? items.length >= limit : to < total
    return ok({
      platform,
      items,
      pagination: {
        mode: 'cursor',
        hasNext,
        hasPrevious: from > 0,
        limit,
        ...(hasNext ? { nextCursor: encodeCursor(account.id, to) } : {}),
        ...(rules.supportsPrevious && from > 0 ? { previousCursor: encodeCursor(account.id, from) } : {})
      }
    })
  }

  function analytics (platformRaw: string, workId: string, query: Query, ok: (d: unknown) => Answer, fail: (c: number, v?: Record<string, string | number>, d?: unknown) => Answer): Answer {
    if (!isPlatform(platformRaw)) return fail(10002, { detail: 'platform: invalid enum value' })
    const platform = platformRaw
    const since = parseDate(query.get('since')?.[0])
    const until = parseDate(query.get('until')?.[0])
    // The source's own validation pipe answers 400 (the docs say 10002): the BFF must take both.
    if (since === null || until === null) return fail(400, undefined, { detail: 'since/until must be dates' })
    const accountId = query.get('accountId')?.[0]
    if (!accountId) return ok({ platform, platformWorkId: workId, snapshots: [], message: 'Account required' })
    const account = accounts.get(accountId)
    if (!account) return fail(12600)
    if (account.platform !== platform) return fail(15040)
    if (!WORK_ANALYTICS.has(platform)) return ok({ platform, platformWorkId: workId, accountId, snapshots: [], message: 'Work analytics not supported' })
    const work = account.works.find(w => w.platformWorkId === workId)
    if (!work) return fail(15079, { platform })
    snapshots++
    const fetchedAt = new Date().toISOString()
    const base = `snap-${snapshots}`
    const snap = workSnapshot(work)
    let list: Array<Record<string, unknown>>
    if (platform === 'pinterest') {
      const end = startOfDay(until ?? Date.now())
      const start = Math.max(startOfDay(since ?? end - 6 * DAY_MS), end - 89 * DAY_MS)
      list = []
      for (let day = start; day <= end; day += DAY_MS) {
        const iso = new Date(day).toISOString()
        list.push({
          id: `${base}-${iso.slice(0, 10)}`,
          platformWorkId: work.platformWorkId,
          snapshotAt: iso,
          fetchedAt,
          periodStartAt: iso,
          periodEndAt: new Date(day + DAY_MS).toISOString(),
          work: snap,
          metrics: dailyMetrics(platform, work.platformWorkId, iso.slice(0, 10)),
          extra: {}
        })
      }
    } else {
      list = [{ id: base, platformWorkId: work.platformWorkId, snapshotAt: fetchedAt, fetchedAt, work: snap, metrics: work.metrics, extra: work.extra }]
    }
    const latest = list[list.length - 1]
    return ok({
      platform,
      platformWorkId: work.platformWorkId,
      accountId,
      work: snap,
      metrics: latest?.metrics ?? {},
      snapshots: list,
      extra: work.extra,
      snapshotId: latest?.id ?? base,
      fetchedAt
    })
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
    const requestId = typeof given === 'string' && REQUEST_ID.test(given) ? given : `sbx-${randomUUID()}`
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

/** The server's validation of `pagination` (bracket form only); a string is the failure detail. */
function parsePagination (query: Query): PaginationInput | string {
  if (query.has('pagination')) return 'pagination: expected object, received string'
  const out: PaginationInput = {}
  for (const [key, values] of query) {
    const m = /^pagination\[(\w+)\]$/.exec(key)
    if (!m) continue
    const value = values[0]!
    const name = m[1]
    if (name === 'limit' || name === 'page' || name === 'pageSize') {
      if (!/^\d{1,15}$/.test(value) || Number(value) < 1) return `pagination.${name}: expected a positive integer`
      out[name] = Number(value)
    } else if (name === 'cursor') {
      out.cursor = value
    } else if (name === 'direction') {
      if (value !== 'next' && value !== 'previous') return 'pagination.direction: invalid enum value'
      out.direction = value
    }
  }
  if ((out.page === undefined) !== (out.pageSize === undefined)) return 'pagination: page and pageSize go together'
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

function listItem (w: SandboxWork) {
  return {
    platformWorkId: w.platformWorkId,
    contentMode: w.contentMode,
    title: w.title,
    description: w.description,
    url: w.url,
    coverUrl: w.coverUrl,
    publishedAt: w.publishedAt,
    authorName: w.authorName,
    authorPlatformUid: w.authorPlatformUid,
    status: w.status,
    metrics: w.metrics
  }
}

function workSnapshot (w: SandboxWork) {
  return {
    id: w.platformWorkId,
    url: w.url,
    title: w.title,
    description: w.description,
    mediaType: w.contentMode === 'video' ? 'video' : w.contentMode === 'article' ? 'image' : 'text',
    coverUrl: w.coverUrl,
    publishedAt: w.publishedAt,
    status: w.status,
    author: w.authorName
  }
}
