/**
 * A small writer of the Prometheus text exposition format (version 0.0.4): enough for counters,
 * gauges and histograms whose values the app keeps in plain numbers. Nothing here runs per
 * request; the hot path only increments numbers, and this renders them at scrape time.
 */
export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8'

export type Labels = Record<string, string | number>

/** Label values escaped as the format requires (backslash, double quote, newline). */
function escapeLabel (value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')
}

function labelText (labels: Labels | undefined, extra?: string): string {
  const parts: string[] = []
  if (labels) for (const [name, value] of Object.entries(labels)) parts.push(`${name}="${escapeLabel(String(value))}"`)
  if (extra) parts.push(extra)
  return parts.length === 0 ? '' : `{${parts.join(',')}}`
}

function num (value: number): string {
  if (Number.isNaN(value)) return 'NaN'
  if (value === Infinity) return '+Inf'
  if (value === -Infinity) return '-Inf'
  return String(value)
}

/** Histogram data: counts per bucket (not cumulative; the last one above every bound) and a sum. */
export interface HistogramData {
  /** Upper bounds, ascending, in the unit of the metric. */
  bounds: readonly number[]
  /** bounds.length + 1 counts. */
  counts: ArrayLike<number>
  sum: number
}

export class Exposition {
  private readonly lines: string[] = []

  private family (name: string, type: 'counter' | 'gauge' | 'histogram', help: string): void {
    this.lines.push(`# HELP ${name} ${help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')}`, `# TYPE ${name} ${type}`)
  }

  counter (name: string, help: string, samples: Array<[Labels | undefined, number]>): this {
    this.family(name, 'counter', help)
    for (const [labels, value] of samples) this.lines.push(`${name}${labelText(labels)} ${num(value)}`)
    return this
  }

  gauge (name: string, help: string, samples: Array<[Labels | undefined, number]>): this {
    this.family(name, 'gauge', help)
    for (const [labels, value] of samples) this.lines.push(`${name}${labelText(labels)} ${num(value)}`)
    return this
  }

  histogram (name: string, help: string, samples: Array<[Labels | undefined, HistogramData]>): this {
    this.family(name, 'histogram', help)
    for (const [labels, h] of samples) {
      let cumulative = 0
      for (let i = 0; i < h.bounds.length; i++) {
        cumulative += h.counts[i]!
        this.lines.push(`${name}_bucket${labelText(labels, `le="${num(h.bounds[i]!)}"`)} ${cumulative}`)
      }
      cumulative += h.counts[h.bounds.length]!
      this.lines.push(`${name}_bucket${labelText(labels, 'le="+Inf"')} ${cumulative}`)
      this.lines.push(`${name}_sum${labelText(labels)} ${num(h.sum)}`)
      this.lines.push(`${name}_count${labelText(labels)} ${cumulative}`)
    }
    return this
  }

  text (): string {
    return `${this.lines.join('\n')}\n`
  }
}
