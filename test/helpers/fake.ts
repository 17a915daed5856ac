import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Tap } from './redis.js'

export interface Fake {
  url: string
  /** Requests received, in order: method, path and query, headers, body, arrival (epoch ms). */
  requests: Array<{ method: string, url: string, headers: IncomingMessage['headers'], body: string, at: number }>
  count: (pathPart: string) => number
}

/**
 * A plain HTTP server that does what the test says, misbehaviour included (not a sandbox: no
 * rules of ours, only the answer the test writes), closed when the test ends.
 */
export async function fakeServer (t: Tap, handle: (req: IncomingMessage, res: ServerResponse, body: string) => unknown): Promise<Fake> {
  const requests: Fake['requests'] = []
  const server = createServer((req, res) => {
    const at = Date.now()
    const chunks: Buffer[] = []
    req.on('data', c => chunks.push(c as Buffer))
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8')
      requests.push({ method: req.method ?? 'GET', url: req.url ?? '/', headers: req.headers, body, at })
      Promise.resolve(handle(req, res, body)).catch(() => res.destroy())
    })
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>(resolve => { server.closeAllConnections(); server.close(() => resolve()) }))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    count: part => requests.filter(r => r.url.includes(part)).length
  }
}

/** Sends JSON. */
export function json (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = typeof body === 'string' ? body : JSON.stringify(body)
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers })
  res.end(text)
}
