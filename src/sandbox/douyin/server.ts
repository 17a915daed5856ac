import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { randomBytes } from 'node:crypto'
import { Faults, applyFault, readBody, send, type Fault } from '../faults.js'
import { SANDBOX_DOUYIN_CLIENT_KEY, SANDBOX_DOUYIN_CLIENT_SECRET } from '../seed.js'
import type { RecordedRequest, SandboxOptions, SandboxServer } from '../types.js'
import { TokenBook } from './tokens.js'
import { matchingVideos, rowJson, type RowSpelling } from './data.js'

export interface DouyinSandboxOptions extends SandboxOptions {
  /** Data requests admitted per sliding second; more answer err_no 28003018 (Douyin: 10). */
  qps?: number
  /** `expires_in` of new tokens, seconds (Douyin: 7200). */
  tokenTtlSeconds?: number
  /** Row key spelling: `pascal` as the docs show (default) or `snake` as the official SDK maps. */
  spelling?: RowSpelling
  clientKey?: string
  clientSecret?: string
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
  forceError: (errNo: number, times?: number, errMsg?: string) => void
  setSpelling: (spelling: RowSpelling) => void
}

export const TOKEN_PATH = '/oauth/client_token/'
export const STABLE_TOKEN_PATH = '/oauth/stable_client_token/'
export const DAILY_DATA_PATH = '/api/match/v2/taskbox/query_task_video_daily_data/'

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
  let forced: Array<{ errNo: number, times: number, errMsg?: string }> = []
  // Sliding second: arrival times of every data call, and of the admitted ones.
  let arrived: number[] = []
  let admitted: number[] = []
  let counters = freshCounters()
  let tokensIssuedBase = 0

  function freshCounters () {
    return { tokenCalls: 0, dataRequests: 0, rateLimited: 0, maxPerSecond: 0, firstDataAt: 0, lastDataAt: 0, errNo: {} as Record<string, number> }
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

  function dataAnswer (req: IncomingMessage, raw: string, withinCeiling: boolean): { status: number, body: string } {
    const logId = newLogId()
    const errorBody = (err: DataError) => {
      counters.errNo[err.errNo] = (counters.errNo[err.errNo] ?? 0) + 1
      return { status: 200, body: JSON.stringify({ err_no: err.errNo, err_msg: err.message, log_id: logId }) }
    }
    try {
      const now = Date.now()
      if (!withinCeiling) {
        counters.rateLimited++
        throw new DataError(28003018, `请求频率过高: more than ${qps} requests per second`)
      }
      const force = forced[0]
      if (force) {
        if (--force.times <= 0) forced.shift()
        throw new DataError(force.errNo, force.errMsg)
      }
      const token = req.headers['access-token']
      const check = tokens.check(typeof token === 'string' ? token : undefined, now)
      if (check === 'invalid') throw new DataError(28001003)
      if (check === 'expired') throw new DataError(28001008)
      const q = parseQuery(raw, now)
      const matches = matchingVideos(q, now)
      const rows = matches.slice((q.pageNum - 1) * q.pageSize, q.pageNum * q.pageSize)
        .map(m => rowJson(m.video, m.published, q.billingDate, spelling))
      counters.errNo[0] = (counters.errNo[0] ?? 0) + 1
      return {
        status: 200,
        body: `{"err_no":0,"err_msg":"success","log_id":${JSON.stringify(logId)},"data":{"video_daily_data_list":[${rows.join(',')}]}}`
      }
    } catch (err) {
      if (err instanceof DataError) return errorBody(err)
      throw err
    }
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
    } else if (req.method === 'POST' && pathname === DAILY_DATA_PATH) {
      const withinCeiling = admitData(Date.now())
      normal = () => dataAnswer(req, raw, withinCeiling)
    } else {
      normal = () => ({ status: 404, body: JSON.stringify({ err_no: 404, err_msg: 'not found', log_id: newLogId() }) })
    }
    const fault = faults.take(pathname)
    if (fault && await applyFault(fault, faults, req, res, normal)) return
    const answer = normal()
    send(res, answer.status, 'application/json', answer.body)
  }

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
    forceError: (errNo: number, times = 1, errMsg?: string) => { forced.push({ errNo, times, ...(errMsg ? { errMsg } : {}) }) },
    setSpelling: (s: RowSpelling) => { spelling = s },
    close: async () => {
      forced = []
      faults.releaseHeld()
      server.closeAllConnections()
      await new Promise<void>(resolve => server.close(() => resolve()))
    }
  }
  return sandbox
}

/** Validates a data request body as Douyin does; throws DataError with the err_no it would answer. */
function parseQuery (raw: string, nowMs: number) {
  let b: Record<string, unknown>
  try {
    b = JSON.parse(raw) as Record<string, unknown>
  } catch {
    throw new DataError(28001007, '参数不合法: body is not JSON')
  }
  if (typeof b !== 'object' || b === null || Array.isArray(b)) throw new DataError(28001007, '参数不合法: body is not an object')
  const bad = (what: string) => new DataError(28001007, `参数不合法: ${what}`)
  const billingDate = b.billing_date
  if (typeof billingDate !== 'string' || !isCalendarDate(billingDate)) throw bad('billing_date must be YYYY-MM-DD')
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
