import type { IncomingMessage, ServerResponse } from 'node:http'
import { setTimeout as delay } from 'node:timers/promises'

/**
 * Faults a sandbox upstream can be told to produce, for tests and benchmarks:
 * - `latency`: wait `ms`, then answer normally
 * - `status`: answer HTTP `status` (default 502) with a small JSON body
 * - `html`: answer HTTP `status` (default 502) with an HTML error page, as a proxy in front would
 * - `truncated`: announce the full Content-Length, send half the body, then close the socket
 * - `hang`: accept the request and never answer
 * - `reset`: destroy the connection at once (ECONNRESET)
 * - `slowBody`: send the headers at once and the body in pieces over `ms`
 * - `body`: answer HTTP 200 with `body` as is (e.g. a business error or a malformed document)
 */
export type FaultKind = 'latency' | 'status' | 'html' | 'truncated' | 'hang' | 'reset' | 'slowBody' | 'body'

export interface Fault {
  kind: FaultKind
  /** Only requests whose path contains this string; all requests when unset. */
  path?: string
  ms?: number
  status?: number
  body?: string
  /** How many requests it applies to; unlimited when unset. */
  times?: number
}

export class Faults {
  private list: Fault[] = []
  /** Sockets held open by `hang`, destroyed when the sandbox closes. */
  readonly held = new Set<IncomingMessage>()

  add (fault: Fault): void { this.list.push({ ...fault }) }
  clear (): void { this.list = [] }

  /** The fault for this request, if any (and counts it down). */
  take (pathname: string): Fault | undefined {
    const i = this.list.findIndex(f => f.path === undefined || pathname.includes(f.path))
    if (i < 0) return undefined
    const fault = this.list[i]!
    if (fault.times !== undefined && --fault.times <= 0) this.list.splice(i, 1)
    return fault
  }

  releaseHeld (): void {
    for (const req of this.held) req.socket.destroy()
    this.held.clear()
  }
}

/**
 * Applies a fault. `normal` renders the answer the sandbox would otherwise give (status and body).
 * Returns true when the fault produced the whole answer.
 */
export async function applyFault (
  fault: Fault,
  faults: Faults,
  req: IncomingMessage,
  res: ServerResponse,
  normal: () => { status: number, body: string }
): Promise<boolean> {
  switch (fault.kind) {
    case 'latency':
      await delay(fault.ms ?? 1000)
      return false
    case 'status':
      send(res, fault.status ?? 502, 'application/json', JSON.stringify({ message: 'sandbox fault', statusCode: fault.status ?? 502 }))
      return true
    case 'html':
      send(res, fault.status ?? 502, 'text/html', '<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center><hr><center>nginx</center></body></html>')
      return true
    case 'body':
      send(res, fault.status ?? 200, 'application/json', fault.body ?? '')
      return true
    case 'truncated': {
      const { body } = normal()
      const bytes = Buffer.from(body)
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': bytes.length })
      res.write(bytes.subarray(0, Math.floor(bytes.length / 2)))
      setImmediate(() => res.socket?.destroy())
      return true
    }
    case 'hang':
      faults.held.add(req)
      req.socket.once('close', () => faults.held.delete(req))
      return true
    case 'reset':
      req.socket.destroy()
      return true
    case 'slowBody': {
      const { status, body } = normal()
      const bytes = Buffer.from(body)
      res.writeHead(status, { 'content-type': 'application/json', 'content-length': bytes.length })
      const pieces = 10
      const step = Math.ceil(bytes.length / pieces)
      for (let i = 0; i < bytes.length; i += step) {
        if (res.destroyed) return true
        res.write(bytes.subarray(i, i + step))
        await delay((fault.ms ?? 2000) / pieces)
      }
      res.end()
      return true
    }
  }
}

export function send (res: ServerResponse, status: number, contentType: string, body: string, headers: Record<string, string> = {}): void {
  if (res.destroyed || res.headersSent) return
  res.writeHead(status, { 'content-type': `${contentType}; charset=utf-8`, 'content-length': Buffer.byteLength(body), ...headers })
  res.end(body)
}

/** Reads a request body, bounded (1 MiB). */
export async function readBody (req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of req) {
    size += (chunk as Buffer).length
    if (size > 1 << 20) throw new Error('body too large')
    chunks.push(chunk as Buffer)
  }
  return Buffer.concat(chunks).toString('utf8')
}
