import type { IncomingHttpHeaders } from 'node:http'
import type { Fault, Faults } from './faults.js'

export interface RecordedRequest {
  method: string
  /** The raw request target as received (path and query, still percent-encoded). */
  url: string
  headers: IncomingHttpHeaders
  body?: string
  /** Arrival time, ms since the epoch. */
  at: number
}

/**
 * A sandbox upstream: a real HTTP server on 127.0.0.1 implementing one upstream's contract.
 * Control over HTTP as well (for out-of-process users such as benchmarks):
 *   POST /__sandbox/faults (a Fault as JSON), DELETE /__sandbox/faults,
 *   GET /__sandbox/requests (recent requests), DELETE /__sandbox/requests, GET /__sandbox/stats
 */
export interface SandboxServer {
  name: 'aitoearn' | 'douyin'
  /** e.g. http://127.0.0.1:43123 (no trailing slash) */
  url: string
  faults: Faults
  /** The most recent requests (bounded), oldest first; control requests are not recorded. */
  requests: RecordedRequest[]
  /** Requests received whose path contains `pathPart` (all when unset), control requests excluded. */
  count: (pathPart?: string) => number
  addFault: (fault: Fault) => void
  close: () => Promise<void>
}

export interface SandboxOptions {
  port?: number
  host?: string
}
