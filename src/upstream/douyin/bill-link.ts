/**
 * Fetching a Douyin bill file from the link `query_bill_link` gives: a signed, expiring HTTPS URL
 * on a ByteDance CDN. Only hosts on an allow-list are contacted (DOUYIN_BILL_HOSTS: host suffixes,
 * HTTPS only; an `http://host:port` entry allows that one plain origin, for sandboxes); a redirect
 * is followed only onto the list. The link is used byte for byte (its signature holds `%3D`, `%2B`:
 * re-encoding breaks it), the body is bounded in size and time and handed on as a stream.
 */
import { Agent, errors as undiciErrors, request } from 'undici'
import type { Readable } from 'node:stream'
import { HttpProblem } from '../../errors.js'

/** Most redirects followed (each checked against the list). */
const MAX_REDIRECTS = 3

export class BillHosts {
  private readonly suffixes: string[] = []
  private readonly origins = new Set<string>()

  /** `spec`: DOUYIN_BILL_HOSTS as config.ts checked it: host suffixes (`byteimg.com`) and plain-HTTP origins (`http://127.0.0.1:4021`). */
  constructor (spec: string) {
    for (const raw of spec.split(',')) {
      const entry = raw.trim().toLowerCase()
      if (entry === '') continue
      if (entry.startsWith('http://')) this.origins.add(new URL(entry).origin)
      else this.suffixes.push(entry.replace(/^\*?\./, ''))
    }
  }

  /** True when a link may be fetched: HTTPS on a listed suffix, or a listed plain origin. */
  allows (url: URL): boolean {
    if (url.username !== '' || url.password !== '') return false
    if (url.protocol === 'http:') return this.origins.has(url.origin)
    if (url.protocol !== 'https:') return false
    const host = url.hostname.toLowerCase()
    return this.suffixes.some(s => host === s || host.endsWith(`.${s}`))
  }
}

/** Unix seconds when a signed link stops working (its `x-expires`), when it says. */
export function linkExpiresAt (link: string): number | undefined {
  const m = /[?&]x-expires=(\d{9,11})(?:&|$)/.exec(link)
  return m ? Number(m[1]) : undefined
}

export interface BillDownload {
  /** The body, at most `maxBytes`; it errors with an HttpProblem when cut, too large or too slow. */
  body: Readable
  /** The host it came from (for logs). */
  host: string
}

export interface BillFetchOptions {
  hosts: BillHosts
  maxBytes: number
  /** Epoch ms by which the whole download must be over. */
  deadline: number
  /** Told of a link or redirect that was refused, by host only (the query is a signature). */
  refused: (host: string, why: string) => void
}

/** Why a download failed in a way a fresh link may cure (the CDN said 403/404/410: expired or revoked). */
export class LinkRejected extends HttpProblem {}

/**
 * Fetches a bill file. The CDN's own failures are problems: 403/404/410 LinkRejected (a fresh link
 * may help), other statuses and network errors UPSTREAM_ERROR / UPSTREAM_UNAVAILABLE, a refused
 * host UPSTREAM_BAD_RESPONSE (nothing was sent to it).
 */
export class BillFetcher {
  private readonly agent: Agent

  constructor (timeoutMs: number) {
    // TLS certificates are checked (the official SDK turns that off by default; we do not).
    this.agent = new Agent({ connect: { timeout: Math.min(timeoutMs, 10_000) }, headersTimeout: timeoutMs, bodyTimeout: timeoutMs, connections: 8 })
  }

  async fetch (link: string, opts: BillFetchOptions): Promise<BillDownload> {
    let url = this.checked(link, opts)
    for (let hop = 0; ; hop++) {
      const remaining = opts.deadline - Date.now()
      if (remaining <= 0) throw timeout()
      let res: Awaited<ReturnType<typeof request>>
      try {
        res = await request(url, { dispatcher: this.agent, method: 'GET', signal: AbortSignal.timeout(remaining), headersTimeout: remaining, bodyTimeout: remaining })
      } catch (err) {
        throw failure(err, opts.deadline)
      }
      const { statusCode: status } = res
      if (status >= 300 && status < 400 && typeof res.headers.location === 'string') {
        res.body.resume()
        if (hop >= MAX_REDIRECTS) throw new HttpProblem('UPSTREAM_BAD_RESPONSE', { detail: `The Douyin bill link redirected more than ${MAX_REDIRECTS} times`, upstream: { name: 'douyin' } })
        url = this.checked(new URL(res.headers.location, url).href, opts)
        continue
      }
      if (status !== 200) {
        res.body.resume()
        const upstream = { name: 'douyin', code: `CDN_HTTP_${status}` }
        if (status === 403 || status === 404 || status === 410) {
          throw new LinkRejected('UPSTREAM_ERROR', { detail: `The Douyin bill file host answered HTTP ${status} (an expired or revoked link)`, upstream })
        }
        throw new HttpProblem(status >= 500 ? 'UPSTREAM_UNAVAILABLE' : 'UPSTREAM_ERROR', { detail: `The Douyin bill file host answered HTTP ${status}`, upstream, ...(status >= 500 ? { retryAfter: 5 } : {}) })
      }
      const length = Number(res.headers['content-length'])
      if (Number.isFinite(length) && length > opts.maxBytes) {
        res.body.destroy()
        throw tooLarge(opts.maxBytes)
      }
      return { body: bounded(res.body, opts.maxBytes, opts.deadline), host: new URL(url).hostname }
    }
  }

  /** The link as a URL when the list allows it; refused (and logged by host) otherwise. */
  private checked (link: string, opts: BillFetchOptions): string {
    const url = URL.canParse(link) ? new URL(link) : undefined
    if (url === undefined || !opts.hosts.allows(url)) {
      const host = url?.host ?? '(not a URL)'
      const why = url === undefined ? 'not a URL' : url.protocol !== 'https:' ? `${url.protocol} is not HTTPS` : 'not on DOUYIN_BILL_HOSTS'
      opts.refused(host, why)
      throw new HttpProblem('UPSTREAM_BAD_RESPONSE', {
        detail: `Douyin's bill link points to ${host} (${why}); nothing was fetched from it. Add the host to DOUYIN_BILL_HOSTS if it is Douyin's CDN.`,
        upstream: { name: 'douyin', code: 'BILL_HOST_REFUSED' }
      })
    }
    // The text as Douyin sent it: new URL() keeps the query's percent-escapes as they are.
    return link
  }

  async close (): Promise<void> {
    await this.agent.close()
  }
}

/** The body, failing with a problem past `maxBytes` or the deadline; a cut body fails as truncated. */
function bounded (body: Readable, maxBytes: number, deadline: number): Readable {
  let size = 0
  const timer = setTimeout(() => body.destroy(timeout()), Math.max(0, deadline - Date.now()))
  body.on('data', (chunk: Buffer) => {
    size += chunk.length
    if (size > maxBytes) body.destroy(tooLarge(maxBytes))
  })
  body.once('close', () => clearTimeout(timer))
  return body
}

function tooLarge (maxBytes: number): HttpProblem {
  return new HttpProblem('UPSTREAM_BAD_RESPONSE', { detail: `The Douyin bill file is larger than ${Math.round(maxBytes / 1048576)} MiB (DOUYIN_BILL_MAX_MB)`, upstream: { name: 'douyin', code: 'BILL_TOO_LARGE' } })
}

function timeout (): HttpProblem {
  return new HttpProblem('UPSTREAM_TIMEOUT', { detail: 'The Douyin bill file did not arrive in time', upstream: { name: 'douyin' } })
}

/** A download error as a problem: ours as they are, a cut body, a timeout, or the network. */
export function failure (err: unknown, deadline: number): HttpProblem {
  if (err instanceof HttpProblem) return err
  const e = err as { name?: string, code?: string }
  if (Date.now() >= deadline || e?.name === 'TimeoutError' || e?.name === 'AbortError' || err instanceof undiciErrors.HeadersTimeoutError || err instanceof undiciErrors.BodyTimeoutError) return timeout()
  if (err instanceof undiciErrors.ResponseContentLengthMismatchError || e?.code === 'UND_ERR_SOCKET' || e?.code === 'ECONNRESET') {
    return new HttpProblem('UPSTREAM_BAD_RESPONSE', { detail: 'The Douyin bill file arrived cut short', upstream: { name: 'douyin', code: 'BILL_TRUNCATED' } })
  }
  return new HttpProblem('UPSTREAM_UNAVAILABLE', { detail: `The Douyin bill file host could not be reached (${e?.code ?? e?.name ?? 'error'})`, upstream: { name: 'douyin' }, retryAfter: 5 })
}
