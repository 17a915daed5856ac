import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createHmac, randomBytes } from 'node:crypto'
import { Faults, applyFault, readBody, send, type Fault } from '../faults.js'
import { DOUYIN_VIDEOS, SANDBOX_DOUYIN_CLIENT_KEY, SANDBOX_DOUYIN_CLIENT_SECRET, beijingToday, publishTime as publishTimeOf } from '../seed.js'
import type { RecordedRequest, SandboxOptions, SandboxServer } from '../types.js'
import { TokenBook } from './tokens.js'
import { matchingVideos, rowJson, totalsTo, type RowSpelling } from './data.js'
import { DEFAULT_BILL_STYLE, billFile, type BillColumn, type BillStyle } from './bill.js'

export interface DouyinSandboxOptions extends SandboxOptions {
  /** Data requests admitted per sliding second; more answer err_no 28003018 (Douyin: 10). */
  qps?: number
  /** `expires_in` of new tokens, seconds (Douyin: 7200). */
  tokenTtlSeconds?: number
  /** Row key spelling: `pascal` as the docs show (default) or `snake` as the official SDK maps. */
  spelling?: RowSpelling
  clientKey?: string
  clientSecret?: string
  /** Port of the bill file host (the CDN); default: `port + 1` when `port` is given, else any. */
  cdnPort?: number
  /** Lifetime of a bill link (its x-expires), seconds. Douyin does not say; 600 here. */
  billLinkTtlSeconds?: number
}

export interface DouyinSandboxStats {
  /** Calls to either token endpoint. */
  tokenCalls: number
  /** New tokens handed out (a stable call that returns the current token is not one). */
  tokensIssued: number
  /** Calls that arrived at the taskbox data endpoint, faulted or not. */
  dataRequests: number
  /** Data calls refused with 28003018 (more than `qps` in a sliding second). */
  rateLimited: number
  /** The most data calls that arrived within any one sliding second (faulted ones included). */
  maxPerSecond: number
  /** Arrival of the first and the last data call (ms, sandbox clock; 0: none yet): the span of a run. */
  firstDataAt: number
  lastDataAt: number
  qps: number
  /** Requests to the bill file host. */
  billDownloads: number
  /** Answers by err_no (data endpoint), e.g. {"0": 12, "28003018": 1}. */
  errNo: Record<string, number>
}

/**
 * The sandbox Douyin open platform. Besides SandboxServer's control endpoints:
 *   POST /__sandbox/expire-tokens              every issued token is now expired (28001008)
 *   POST /__sandbox/force-error {errNo, times?, errMsg?}   the next `times` (1) data calls answer errNo
 *   POST /__sandbox/spelling {spelling: "pascal"|"snake"}
 *   DELETE /__sandbox/stats                    resets the counters
 */
export interface DouyinSandbox extends SandboxServer {
  name: 'douyin'
  stats: () => DouyinSandboxStats
  resetStats: () => void
  expireTokens: () => void
  /** The next `times` data calls (to `path` only, when given) answer errNo. */
  forceError: (errNo: number, times?: number, errMsg?: string, path?: string) => void
  setSpelling: (spelling: RowSpelling) => void
  /** The bill file host: its origin (for DOUYIN_BILL_HOSTS) and what it was asked. */
  cdn: { url: string, requests: RecordedRequest[], count: () => number }
  /** How bill files are written (BOM, line ending, column order, size). */
  setBillStyle: (style: Partial<BillStyle>) => void
  /** One value of one video's rows, in the daily API (PascalCase field) and the bill (column): e.g. a fractional ExpectedProfit. */
  setRowValue: (videoId: string, field: { daily?: string, bill?: BillColumn }, value: string | number) => void
  /** The next `n` bill links are handed out already expired. */
  expireNextLinks: (n: number) => void
  /** Bill links point to this origin instead of the sandbox's bill host (undefined: back to it). */
  setLinkOrigin: (origin: string | undefined) => void
}

export const TOKEN_PATH = '/oauth/client_token/'
export const STABLE_TOKEN_PATH = '/oauth/stable_client_token/'
export const DAILY_DATA_PATH = '/api/match/v2/taskbox/query_task_video_daily_data/'
export const BILL_LINK_PATH = '/api/match/v2/taskbox/query_bill_link/'
export const TASK_VIDEO_DATA_PATH = '/api/match/v2/taskbox/query_task_video_data/'
/**
 * Every taskbox data API: Douyin's 10 requests per second count them all (UPSTREAMS.md, err_no
 * 28003018 "more than 10 requests per second", listed for the taskbox APIs alike; the ceiling is
 * per app, so one bucket is the strict reading).
 */
const DATA_PATHS = new Set([DAILY_DATA_PATH, BILL_LINK_PATH, TASK_VIDEO_DATA_PATH])
/**
 * Bills exist for settlement dates within 180 days. ASSUMED: neither the SDK nor UPSTREAMS.md gives
 * the bill API's reach; 180 days is what Douyin's agency bill page says for its own bills. The
 * service does not rely on it: any refused date is "no bill" (reads/douyin-bill.ts).
 */
const BILL_MAX_AGE_DAYS = 180

const DAY = 86_400
const MAX_RECORDED = 500
const ERR_MSG: Record<number, string> = {
  0: 'success',
  28001003: 'access_token无效',
  28001005: '系统内部错误，请重试',
  28001006: '网络错误，请重试',
  28001007: '参数不合法',
  28001008: 'access_token已过期',
  28001018: '应用未获得该能力',
  28001052: '触发风控',
  28003017: '配额已用完',
  28003018: '请求频率过高',
  28013009: '开始时间不能早于3个月',
  28013010: '单页数量不能超过10000'
}

class DataError extends Error {
  constructor (readonly errNo: number, detail?: string) { super(detail ?? ERR_MSG[errNo] ?? 'error') }
}

export async function startDouyinSandbox (opts: DouyinSandboxOptions = {}): Promise<DouyinSandbox> {
  const qps = opts.qps ?? 10
  const clientKey = opts.clientKey ?? SANDBOX_DOUYIN_CLIENT_KEY
  const clientSecret = opts.clientSecret ?? SANDBOX_DOUYIN_CLIENT_SECRET
  const tokens = new TokenBook(opts.tokenTtlSeconds ?? 7200)
  const faults = new Faults()
  const requests: RecordedRequest[] = []
  let spelling: RowSpelling = opts.spelling ?? 'pascal'
  let forced: Array<{ errNo: number, times: number, errMsg?: string, path?: string }> = []
  let billStyle: BillStyle = { ...DEFAULT_BILL_STYLE }
  const dailyOverride = new Map<string, Record<string, string | number>>()
  const billOverride = new Map<string, Partial<Record<BillColumn, string | number>>>()
  const billLinkTtl = opts.billLinkTtlSeconds ?? 600
  const signingKey = randomBytes(16)
  /** Bill file names handed out, to their billing date. */
  const billFiles = new Map<string, string>()
  let expiredLinks = 0
  let linkOrigin: string | undefined
  const cdnRequests: RecordedRequest[] = []
  // Sliding second: arrival times of every data call, and of the admitted ones.
  let arrived: number[] = []
  let admitted: number[] = []
  let counters = freshCounters()
  let tokensIssuedBase = 0

  function freshCounters () {
    return { tokenCalls: 0, dataRequests: 0, rateLimited: 0, maxPerSecond: 0, firstDataAt: 0, lastDataAt: 0, billDownloads: 0, errNo: {} as Record<string, number> }
  }

  const stats = (): DouyinSandboxStats => ({ ...counters, errNo: { ...counters.errNo }, tokensIssued: tokens.issuedCount - tokensIssuedBase, qps })

  function tokenAnswer (pathname: string, raw: string): { status: number, body: string } {
    counters.tokenCalls++
    const fail = (code: number, description: string) =>
      ({ status: 200, body: JSON.stringify({ data: { error_code: code, description }, message: 'error' }) })
    if (!tokens.admitCall(Date.now())) return fail(10020, 'too many token requests; 500 per 5 minutes')
    let body: Record<string, unknown>
    try {
      body = JSON.parse(raw) as Record<string, unknown>
      if (typeof body !== 'object' || body === null) throw new Error('not an object')
    } catch {
      return fail(10002, 'parameter error: body must be JSON')
    }
    if (typeof body.client_key !== 'string' || typeof body.client_secret !== 'string' || body.grant_type !== 'client_credential') {
      return fail(10002, 'parameter error: client_key, client_secret and grant_type=client_credential are required')
    }
    if (body.client_key !== clientKey) return fail(10003, 'client_key not found')
    if (body.client_secret !== clientSecret) return fail(10013, 'client_key or client_secret is wrong')
    const { token, expiresIn } = tokens.issue(Date.now(), pathname === STABLE_TOKEN_PATH)
    return {
      status: 200,
      body: JSON.stringify({ data: { access_token: token, expires_in: expiresIn, error_code: 0, description: '' }, message: 'success' })
    }
  }

  /**
   * Counts a data call in the sliding second as it ARRIVES, before any fault decides its answer:
   * Douyin's ceiling (10 requests per second per app, UPSTREAMS.md) counts requests at its gate,
   * so an attempt that then fails (a 503, a reset) was spent all the same. False when it is one
   * too many (answered 28003018 unless a fault answers first).
   */
  function admitData (now: number): boolean {
    counters.dataRequests++
    if (counters.firstDataAt === 0) counters.firstDataAt = now
    counters.lastDataAt = now
    arrived.push(now)
    while (arrived[0]! <= now - 1000) arrived.shift()
    counters.maxPerSecond = Math.max(counters.maxPerSecond, arrived.length)
    while (admitted.length > 0 && admitted[0]! <= now - 1000) admitted.shift()
    if (admitted.length >= qps) return false
    admitted.push(now)
    return true
  }

  /** The forced error for a call to `pathname`, if any (and counts it down). */
  function takeForced (pathname: string): { errNo: number, errMsg?: string } | undefined {
    const i = forced.findIndex(f => f.path === undefined || f.path === pathname)
    if (i < 0) return undefined
    const force = forced[i]!
    if (--force.times <= 0) forced.splice(i, 1)
    return force
  }

  /** The answer of a taskbox data call: the ceiling, a forced error, the token, then `answer`. */
  function taskbox (req: IncomingMessage, pathname: string, withinCeiling: boolean, answer: (now: number) => string): { status: number, body: string } {
    const logId = newLogId()
    try {
      const now = Date.now()
      if (!withinCeiling) {
        counters.rateLimited++
        throw new DataError(28003018, `请求频率过高: more than ${qps} requests per second`)
      }
      const force = takeForced(pathname)
      if (force) throw new DataError(force.errNo, force.errMsg)
      const token = req.headers['access-token']
      const check = tokens.check(typeof token === 'string' ? token : undefined, now)
      if (check === 'invalid') throw new DataError(28001003)
      if (check === 'expired') throw new DataError(28001008)
      const data = answer(now)
      counters.errNo[0] = (counters.errNo[0] ?? 0) + 1
      return { status: 200, body: `{"err_no":0,"err_msg":"success","log_id":${JSON.stringify(logId)},"data":${data}}` }
    } catch (err) {
      if (!(err instanceof DataError)) throw err
      counters.errNo[err.errNo] = (counters.errNo[err.errNo] ?? 0) + 1
      return { status: 200, body: JSON.stringify({ err_no: err.errNo, err_msg: err.message, log_id: logId }) }
    }
  }

  /**
   * query_bill_link (SDK TaskboxQueryBillLinkRequest/Response; UPSTREAMS.md "Bill download"): a
   * signed, expiring link to the bill file of a date that has one; an empty link for a date not
   * generated yet (UPSTREAMS.md: data is T+1; yesterday's bill is served from Beijing midnight,
   * the kindest case, while the real settlement time varies); 28001007 beyond 180 days (assumed,
   * above) and for a bill_date that is no date (UPSTREAMS.md error table: invalid parameter).
   */
  function billLinkAnswer (raw: string, now: number): string {
    const b = parseObject(raw)
    const date = b.bill_date
    if (typeof date !== 'string' || !isCalendarDate(date)) throw new DataError(28001007, '参数不合法: bill_date must be YYYY-MM-DD')
    const today = beijingToday(now)
    if (date >= today) return '{"bill_link":"","live_bill_link":""}'
    if (Date.parse(`${date}T00:00:00Z`) < Date.parse(`${today}T00:00:00Z`) - BILL_MAX_AGE_DAYS * DAY * 1000) {
      throw new DataError(28001007, '参数不合法: bill_date is beyond the 180 days bills are kept')
    }
    const name = `/tos-cn-i-sandbox/${randomBytes(16).toString('hex')}.csv`
    billFiles.set(name, date)
    const expires = Math.floor(now / 1000) + (expiredLinks > 0 ? -60 : billLinkTtl)
    if (expiredLinks > 0) expiredLinks--
    const link = `${linkOrigin ?? cdnUrl}${name}?x-expires=${expires}&x-signature=${encodeURIComponent(sign(name, expires))}`
    return JSON.stringify({ bill_link: link, live_bill_link: '' })
  }

  /** The signature of a bill link: base64 (so `%2B`, `%2F`, `%3D` appear once encoded), as byteimg's links carry. */
  function sign (name: string, expires: number): string {
    return createHmac('sha1', signingKey).update(`${name}?x-expires=${expires}`).digest('base64')
  }

  /**
   * query_task_video_data (UPSTREAMS.md "Task video totals", the SDK's TaskboxQueryTaskVideoData):
   * the videos of the tasks published in the window, with their totals up to yesterday (T+1, as
   * the daily data). task_ids as strings: 19-digit ids do not survive JSON numbers (UPSTREAMS.md).
   * The publish window follows the daily API's rules (90 days back, 30 days wide), ASSUMED: the
   * totals API documents no window limits of its own.
   */
  function taskVideosAnswer (raw: string, now: number): string {
    const b = parseObject(raw)
    const ids = b.task_ids
    if (!Array.isArray(ids) || ids.length === 0 || !ids.every(id => typeof id === 'string' && /^\d{1,20}$/.test(id))) {
      throw new DataError(28001007, '参数不合法: task_ids must be a non-empty list of id strings')
    }
    const q = pageAndWindow(b, now)
    const yesterday = new Date(Date.parse(`${beijingToday(now)}T00:00:00Z`) - DAY * 1000).toISOString().slice(0, 10)
    const rows = DOUYIN_VIDEOS
      .map(video => ({ video, published: publishTimeOf(video, now) }))
      .filter(({ video, published }) => ids.includes(video.taskId) && published >= q.start && published <= q.end)
      .sort((x, y) => y.published - x.published || (x.video.videoId < y.video.videoId ? -1 : 1))
      .slice((q.pageNum - 1) * q.pageSize, q.pageNum * q.pageSize)
      .map(({ video, published }) => {
        const sum = totalsTo(video, published, yesterday)
        return `{"video_id":${video.videoId},"task_id":${video.taskId},"video_views":${sum.plays},"likes":${sum.likes},"comments":${sum.comments},"shares":${sum.shares},"clicks":${sum.clicks},` +
          `"gmv_td":${sum.gmv},"billing_gmv_td":${sum.billingGmv},"refund_gmv_td":${sum.refundGmv},"billing_refund_gmv_td":${sum.billingRefundGmv},"ad_share_cost_td":${sum.adShareCost},` +
          `"feed_ad_share_cost_td":${sum.feedAdShareCost},"expected_profit":${sum.expectedProfit},"active_cnt_td":${sum.activeCount},"publish_time":${published},` +
          `"douyin_id":${JSON.stringify(video.douyinId)},"author":${JSON.stringify(video.author)},"video_title":${JSON.stringify(video.title)},` +
          `"video_link":${JSON.stringify(`https://www.iesdouyin.com/share/video/${video.videoId}/?region=CN`)},"task_name":${JSON.stringify(video.taskName)},` +
          `"micro_app_title":${JSON.stringify(video.appTitle)},"client_name":${JSON.stringify(video.clientName)},"date":${JSON.stringify(yesterday)}}`
      })
    return `{"video_sum_data_list":[${rows.join(',')}]}`
  }

  function dataAnswer (req: IncomingMessage, raw: string, withinCeiling: boolean): { status: number, body: string } {
    return taskbox(req, DAILY_DATA_PATH, withinCeiling, now => {
      const q = parseQuery(raw, now)
      const rows = matchingVideos(q, now).slice((q.pageNum - 1) * q.pageSize, q.pageNum * q.pageSize)
        .map(m => rowJson(m.video, m.published, q.billingDate, spelling, dailyOverride.get(m.video.videoId)))
      return `{"video_daily_data_list":[${rows.join(',')}]}`
    })
  }

  async function control (req: IncomingMessage, res: ServerResponse, pathname: string): Promise<void> {
    const json = async () => JSON.parse((await readBody(req)) || '{}') as Record<string, unknown>
    const ok = () => send(res, 200, 'application/json', '{"ok":true}')
    const route = `${req.method} ${pathname}`
    switch (route) {
      case 'POST /__sandbox/faults': faults.add(await json() as unknown as Fault); return ok()
      case 'DELETE /__sandbox/faults': faults.clear(); faults.releaseHeld(); return ok()
      case 'GET /__sandbox/requests': return send(res, 200, 'application/json', JSON.stringify(requests))
      case 'DELETE /__sandbox/requests': requests.length = 0; return ok()
      case 'GET /__sandbox/stats': return send(res, 200, 'application/json', JSON.stringify(stats()))
      case 'DELETE /__sandbox/stats': sandbox.resetStats(); return ok()
      case 'POST /__sandbox/expire-tokens': tokens.expireAll(); return ok()
      case 'POST /__sandbox/force-error': {
        const b = await json()
        if (!Number.isInteger(b.errNo)) return send(res, 400, 'application/json', '{"error":"errNo must be an integer"}')
        sandbox.forceError(b.errNo as number, Number.isInteger(b.times) ? b.times as number : 1, typeof b.errMsg === 'string' ? b.errMsg : undefined)
        return ok()
      }
      case 'POST /__sandbox/spelling': {
        const b = await json()
        if (b.spelling !== 'pascal' && b.spelling !== 'snake') return send(res, 400, 'application/json', '{"error":"spelling: pascal or snake"}')
        spelling = b.spelling
        return ok()
      }
      default: return send(res, 404, 'application/json', '{"error":"no such control endpoint"}')
    }
  }

  async function handle (req: IncomingMessage, res: ServerResponse): Promise<void> {
    const pathname = (req.url ?? '/').split('?')[0]!
    if (pathname.startsWith('/__sandbox/')) return control(req, res, pathname)
    const raw = await readBody(req)
    requests.push({ method: req.method ?? 'GET', url: req.url ?? '/', headers: req.headers, body: raw, at: Date.now() })
    if (requests.length > MAX_RECORDED) requests.shift()

    let normal: () => { status: number, body: string }
    if (req.method === 'POST' && (pathname === TOKEN_PATH || pathname === STABLE_TOKEN_PATH)) {
      normal = () => tokenAnswer(pathname, raw)
    } else if (req.method === 'POST' && DATA_PATHS.has(pathname)) {
      const withinCeiling = admitData(Date.now())
      normal = pathname === DAILY_DATA_PATH
        ? () => dataAnswer(req, raw, withinCeiling)
        : pathname === BILL_LINK_PATH
          ? () => taskbox(req, pathname, withinCeiling, now => billLinkAnswer(raw, now))
          : () => taskbox(req, pathname, withinCeiling, now => taskVideosAnswer(raw, now))
    } else {
      normal = () => ({ status: 404, body: JSON.stringify({ err_no: 404, err_msg: 'not found', log_id: newLogId() }) })
    }
    const fault = faults.take(pathname)
    if (fault && await applyFault(fault, faults, req, res, normal)) return
    const answer = normal()
    send(res, answer.status, 'application/json', answer.body)
  }

  /**
   * The bill file host (a CDN in front of object storage, as byteimg.com is): a file of a link
   * handed out, while its signature is the one given, byte for byte, and it has not expired;
   * 403 otherwise (UPSTREAMS.md "Bill download": a signed, expiring link; a signed CDN link
   * answers 403 AccessDenied once expired or altered). Plain HTTP and chunked here, where the real
   * CDN is HTTPS: the service's host allow-list and size bound are tested with their own servers
   * (test/douyin-bill.test.ts). Faults apply by path (`.csv`).
   */
  async function cdnHandle (req: IncomingMessage, res: ServerResponse): Promise<void> {
    const target = req.url ?? '/'
    cdnRequests.push({ method: req.method ?? 'GET', url: target, headers: req.headers, at: Date.now() })
    counters.billDownloads++
    if (cdnRequests.length > MAX_RECORDED) cdnRequests.shift()
    const [name = '', query = ''] = target.split('?')
    const params = new Map(query.split('&').map(p => p.split('=') as [string, string]))
    const date = billFiles.get(name)
    const expires = Number(params.get('x-expires'))
    const denied = date === undefined || req.method !== 'GET' || !Number.isInteger(expires) ||
      params.get('x-signature') !== encodeURIComponent(sign(name, expires)) || expires < Date.now() / 1000
    const now = Date.now()
    const file = () => [...billFile(date!, now, billStyle, billOverride)].join('')
    if (denied) return send(res, 403, 'application/xml', '<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code></Error>')
    const fault = faults.take(name)
    if (fault && await applyFault(fault, faults, req, res, () => ({ status: 200, body: file() }))) return
    res.writeHead(200, { 'content-type': 'text/csv', 'cache-control': 'private' })
    for (const piece of billFile(date, now, billStyle, billOverride)) {
      if (!res.write(piece)) await new Promise(resolve => res.once('drain', resolve))
      if (res.destroyed) return
    }
    res.end()
  }
  const cdn: Server = createServer((req, res) => {
    cdnHandle(req, res).catch(() => send(res, 500, 'text/plain', 'sandbox error'))
  })
  await new Promise<void>((resolve, reject) => {
    cdn.once('error', reject)
    cdn.listen(opts.cdnPort ?? (opts.port ? opts.port + 1 : 0), opts.host ?? '127.0.0.1', () => resolve())
  })
  const cdnUrl = `http://127.0.0.1:${(cdn.address() as AddressInfo).port}`

  const server = createServer((req, res) => {
    handle(req, res).catch(() => send(res, 500, 'application/json', '{"err_no":28001005,"err_msg":"sandbox error"}'))
  })
  server.keepAliveTimeout = 5000
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => resolve())
  })
  const { port } = server.address() as AddressInfo

  const sandbox: DouyinSandbox = {
    name: 'douyin',
    url: `http://127.0.0.1:${port}`,
    faults,
    requests,
    count: (pathPart?: string) => requests.filter(r => pathPart === undefined || r.url.includes(pathPart)).length,
    addFault: (fault: Fault) => faults.add(fault),
    stats,
    resetStats: () => {
      counters = freshCounters()
      tokensIssuedBase = tokens.issuedCount
      arrived = []
      admitted = []
    },
    expireTokens: () => tokens.expireAll(),
    forceError: (errNo: number, times = 1, errMsg?: string, path?: string) => { forced.push({ errNo, times, ...(errMsg ? { errMsg } : {}), ...(path ? { path } : {}) }) },
    setSpelling: (s: RowSpelling) => { spelling = s },
    cdn: { url: cdnUrl, requests: cdnRequests, count: () => cdnRequests.length },
    setBillStyle: style => { billStyle = { ...billStyle, ...style } },
    setRowValue: (videoId, field, value) => {
      if (field.daily !== undefined) dailyOverride.set(videoId, { ...dailyOverride.get(videoId), [field.daily]: value })
      if (field.bill !== undefined) billOverride.set(videoId, { ...billOverride.get(videoId), [field.bill]: value })
    },
    expireNextLinks: n => { expiredLinks = n },
    setLinkOrigin: origin => { linkOrigin = origin },
    close: async () => {
      forced = []
      faults.releaseHeld()
      cdn.closeAllConnections()
      await new Promise<void>(resolve => cdn.close(() => resolve()))
      server.closeAllConnections()
      await new Promise<void>(resolve => server.close(() => resolve()))
    }
  }
  return sandbox
}

/** A request body as a JSON object; 28001007 otherwise. */
function parseObject (raw: string): Record<string, unknown> {
  let b: unknown
  try {
    b = JSON.parse(raw)
  } catch {
    throw new DataError(28001007, '参数不合法: body is not JSON')
  }
  if (typeof b !== 'object' || b === null || Array.isArray(b)) throw new DataError(28001007, '参数不合法: body is not an object')
  return b as Record<string, unknown>
}

/** page_num, page_size and the publish window, checked as Douyin does (UPSTREAMS.md). */
function pageAndWindow (b: Record<string, unknown>, nowMs: number) {
  const bad = (what: string) => new DataError(28001007, `参数不合法: ${what}`)
  const int = (name: string) => {
    const v = b[name]
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw bad(`${name} must be a positive integer`)
    return v
  }
  const pageNum = int('page_num')
  const pageSize = int('page_size')
  if (pageSize > 10_000) throw new DataError(28013010)
  const start = int('video_publish_start_time')
  const end = int('video_publish_end_time')
  if (end < start) throw bad('video_publish_end_time is before video_publish_start_time')
  if (end - start > 30 * DAY) throw bad('video publish window longer than 30 days')
  if (start < nowMs / 1000 - 90 * DAY) throw new DataError(28013009)
  return { pageNum, pageSize, start, end }
}

/** Validates a daily data request body as Douyin does; throws DataError with the err_no it would answer. */
function parseQuery (raw: string, nowMs: number) {
  const b = parseObject(raw)
  const bad = (what: string) => new DataError(28001007, `参数不合法: ${what}`)
  const billingDate = b.billing_date
  if (typeof billingDate !== 'string' || !isCalendarDate(billingDate)) throw bad('billing_date must be YYYY-MM-DD')
  const { pageNum, pageSize, start, end } = pageAndWindow(b, nowMs)
  const optional = (name: string) => {
    const v = b[name]
    if (v === undefined || v === null || v === '') return undefined
    if (typeof v !== 'string') throw bad(`${name} must be a string`)
    return v
  }
  const douyinId = optional('douyin_id')
  const agencyClientKey = optional('agency_client_key')
  return {
    billingDate,
    pageNum,
    pageSize,
    start,
    end,
    ...(douyinId !== undefined ? { douyinId } : {}),
    ...(agencyClientKey !== undefined ? { agencyClientKey } : {})
  }
}

function isCalendarDate (s: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(s)) return false
  const d = new Date(`${s}T00:00:00Z`)
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === s
}

function newLogId (): string {
  return `${new Date().toISOString().replace(/\D/g, '').slice(0, 14)}${randomBytes(9).toString('hex').toUpperCase()}`
}
