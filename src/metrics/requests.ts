import { Counter, Histogram, type Registry } from 'prom-client'

/** Latency buckets of HTTP requests, seconds. */
export const LATENCY_BOUNDS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]

type Child = { observe: (seconds: number) => void }
type Inc = { inc: () => void }

/**
 * Request counts and latency per route (the route's pattern, never the raw URL: bounded labels),
 * method and status, and requests per caller. `observe` is the whole per-request cost: the
 * prom-client children of a series are looked up in nested maps (no label hashing per request).
 */
export class RequestMetrics {
  private readonly total: Counter<'route' | 'method' | 'status'>
  private readonly duration: Histogram<'route' | 'method' | 'status'>
  private readonly perCaller: Counter<'caller'>
  private readonly series = new Map<string, Map<string, Map<number, { count: Inc, time: Child }>>>()
  private readonly callers = new Map<string, Inc>()

  constructor (registry: Registry) {
    const labelNames = ['route', 'method', 'status'] as const
    this.total = new Counter({ name: 'bff_http_requests_total', help: 'Requests answered, by route pattern, method and status', labelNames, registers: [registry] })
    this.duration = new Histogram({ name: 'bff_http_request_duration_seconds', help: 'Time to answer, by route pattern, method and status', labelNames, buckets: LATENCY_BOUNDS, registers: [registry] })
    this.perCaller = new Counter({ name: 'bff_http_requests_by_caller_total', help: 'Requests answered, by the name of the caller\'s API key', labelNames: ['caller'], registers: [registry] })
  }

  observe (route: string, method: string, status: number, elapsedMs: number, caller: string | undefined): void {
    let methods = this.series.get(route)
    if (methods === undefined) this.series.set(route, methods = new Map())
    let statuses = methods.get(method)
    if (statuses === undefined) methods.set(method, statuses = new Map())
    let s = statuses.get(status)
    if (s === undefined) {
      const labels = { route, method, status: String(status) }
      statuses.set(status, s = { count: this.total.labels(labels), time: this.duration.labels(labels) })
    }
    s.count.inc()
    s.time.observe(elapsedMs / 1000)
    if (caller !== undefined) {
      let c = this.callers.get(caller)
      if (c === undefined) this.callers.set(caller, c = this.perCaller.labels({ caller }))
      c.inc()
    }
  }
}
