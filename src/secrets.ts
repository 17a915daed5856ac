/**
 * Every secret this process knows, by value: the configured keys and secrets, the callers' raw
 * keys, and each Douyin access token as it is obtained. `scrub` removes them from any text, so
 * that a secret an upstream echoes (in an error message, a token answer of the wrong shape) never
 * reaches a caller or a log line, wherever in the text it sits.
 */
const MIN_LENGTH = 8
/** Tokens come and go (one every ~2 h per app): the newest this many are kept. */
const MAX_DYNAMIC = 64
export const SCRUBBED = '[redacted]'

class Secrets {
  private readonly fixed = new Set<string>()
  private readonly dynamic = new Set<string>()
  /** Every form to look for: the value, and as it reads inside a JSON string. */
  private forms: string[] = []

  /** A configured secret (kept for the life of the process). */
  add (value: string | undefined): void {
    if (value === undefined || value.length < MIN_LENGTH || this.fixed.has(value)) return
    this.fixed.add(value)
    this.rebuild()
  }

  /** A secret learnt at run time (an access token): the newest MAX_DYNAMIC are kept. */
  learn (value: string | undefined): void {
    if (value === undefined || value.length < MIN_LENGTH || this.fixed.has(value) || this.dynamic.has(value)) return
    this.dynamic.add(value)
    if (this.dynamic.size > MAX_DYNAMIC) this.dynamic.delete(this.dynamic.values().next().value!)
    this.rebuild()
  }

  /** `text` with every known secret replaced by [redacted]. */
  scrub (text: string): string {
    let out = text
    for (const form of this.forms) if (out.includes(form)) out = out.replaceAll(form, SCRUBBED)
    return out
  }

  private rebuild (): void {
    const forms = new Set<string>()
    for (const v of [...this.fixed, ...this.dynamic]) {
      forms.add(v)
      forms.add(JSON.stringify(v).slice(1, -1))
      forms.add(encodeURIComponent(v))
    }
    // Longest first: a secret that contains another is replaced whole.
    this.forms = [...forms].sort((a, b) => b.length - a.length)
  }
}

/** The process's secrets (one process may run several apps, in tests: scrubbing more is harmless). */
export const secrets = new Secrets()
