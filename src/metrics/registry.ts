/**
 * The Prometheus registry of one app (prom-client), and the two shapes our subsystems expose
 * through it: counts they keep as plain numbers (read at scrape time: the hot path only adds),
 * and events they count as they happen. Each subsystem registers its own metrics here; the
 * /metrics route knows none of them.
 */
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client'

export { Registry }

/** Where the registry is served (GET). */
export const METRICS_PATH = '/metrics'

/** A registry with the process and Node.js metrics (memory, CPU, event-loop lag, GC) of prom-client. */
export function newRegistry (): Registry {
  const registry = new Registry()
  collectDefaultMetrics({ register: registry })
  return registry
}

export type Samples = number | Array<[Record<string, string>, number]>

/** The samples of one label from a record of counts: `{ hit: 3 }` -> `[[{ result: 'hit' }, 3]]`. */
export function byLabel (label: string, counts: Record<string, number>, extra: Record<string, string> = {}): Array<[Record<string, string>, number]> {
  return Object.entries(counts).map(([value, n]) => [{ ...extra, [label]: value }, n])
}

/** A counter whose values a subsystem keeps itself as plain numbers, copied in at scrape time. */
export function countsOf (registry: Registry, name: string, help: string, labelNames: string[], read: () => Samples): void {
  // eslint-disable-next-line no-new -- registered by its constructor
  new Counter({
    name,
    help,
    labelNames,
    registers: [registry],
    collect () {
      this.reset()
      const samples = read()
      if (typeof samples === 'number') this.inc(samples)
      else for (const [labels, n] of samples) this.inc(labels, n)
    }
  })
}

/** A gauge read at scrape time. */
export function gaugeOf (registry: Registry, name: string, help: string, read: () => number): void {
  // eslint-disable-next-line no-new -- registered by its constructor
  new Gauge({ name, help, registers: [registry], collect () { this.set(read()) } })
}

/** A counter of events several subsystems count as they happen (the first to ask makes it). */
export function eventCounter<L extends string> (registry: Registry, name: string, help: string, labels: L[]): Counter<L> {
  const known = registry.getSingleMetric(name)
  if (known !== undefined) return known as Counter<L>
  return new Counter({ name, help, labelNames: labels, registers: [registry] })
}
