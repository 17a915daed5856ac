import type { FastifyReply, FastifyRequest } from 'fastify'
import { sendCached, wantsRevalidation } from '../cache/http.js'
import type { Read } from '../reads/read.js'

/**
 * Sends a read: a fresh in-process hit synchronously (undefined is returned: nothing to await),
 * anything else through the read service (one upstream call per key), resolving once answered.
 * The URL has passed validation and maps to the read's key: the front door may answer its next
 * hits. `headers` are the route's fixed headers.
 */
export function replyRead (req: FastifyRequest, reply: FastifyReply, read: Read, headers: Record<string, string>): Promise<void> | undefined {
  // A CSV answer is made from the JSON one as it is sent: the front door, which sends JSON, keeps out.
  if (!req.csv) req.server.frontDoor?.learn(req, reply, read.key, headers, read.keyFixedUntil)
  const noCache = wantsRevalidation(req.headers['cache-control'])
  if (!noCache) {
    const hit = read.fresh()
    if (hit !== undefined) {
      sendCached(req, reply, hit, headers)
      return undefined
    }
  }
  return read.get(req.server.readContext(req, noCache)).then(result => { sendCached(req, reply, result, headers) })
}
