/** Latency buckets of HTTP requests, seconds. */
export const LATENCY_BOUNDS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] as const
const LATENCY_BOUNDS_MS = LATENCY_BOUNDS.map(s => s * 1000)

/** One route x method x status: a count and a latency histogram. */
export interface RequestSeries {
  route: string
  method: string
  status: number
  counts: Float64Array
  sumSeconds: number
}

/**
 * Request counts and latency per route (the route's pattern, never the raw URL: bounded labels),
 * method and status. `observe` is the whole per-request cost: three map lookups and a few adds.
 */
export class RequestMetrics {
  private readonly routes = new Map<string, Map<string, Map<number, RequestSeries>>>()
  readonly byCaller = new Map<string, number>()

  observe (route: string, method: string, status: number, elapsedMs: number, caller: string | undefined): void {
    let methods = this.routes.get(route)
    if (methods === undefined) this.routes.set(route, methods = new Map())
    let statuses = methods.get(method)
    if (statuses === undefined) methods.set(method, statuses = new Map())
    let series = statuses.get(status)
    if (series === undefined) {
      series = { route, method, status, counts: new Float64Array(LATENCY_BOUNDS.length + 1), sumSeconds: 0 }
      statuses.set(status, series)
    }
    let i = 0
    while (i < LATENCY_BOUNDS_MS.length && elapsedMs > LATENCY_BOUNDS_MS[i]!) i++
    series.counts[i]!++
    series.sumSeconds += elapsedMs / 1000
    if (caller !== undefined) this.byCaller.set(caller, (this.byCaller.get(caller) ?? 0) + 1)
  }

  * series (): Iterable<RequestSeries> {
    for (const methods of this.routes.values()) {
      for (const statuses of methods.values()) yield * statuses.values()
    }
  }
}
