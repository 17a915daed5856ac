/**
 * Child processes for benchmarks: the sandbox upstreams and BFF instances, each a real process on
 * 127.0.0.1, stopped when the benchmark ends.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { createInterface } from 'node:readline'

export interface Child {
  child: ChildProcess
  lines: string[]
  stop: () => Promise<void>
}

/** Starts `node --import tsx <script>` and resolves once a line matches `ready` (with the match). */
export async function startChild (script: string, env: Record<string, string>, ready: RegExp, timeoutMs = 30_000): Promise<Child & { match: RegExpExecArray }> {
  const child = spawn(process.execPath, ['--import', 'tsx', script], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  const lines: string[] = []
  const match = await new Promise<RegExpExecArray>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${script}: not ready within ${timeoutMs} ms\n${lines.join('\n')}`)), timeoutMs)
    for (const stream of [child.stdout!, child.stderr!]) {
      createInterface({ input: stream }).on('line', line => {
        if (lines.length < 2000) lines.push(line)
        const m = ready.exec(line)
        if (m) {
          clearTimeout(timer)
          resolve(m)
        }
      })
    }
    child.once('exit', code => {
      clearTimeout(timer)
      reject(new Error(`${script} exited with ${code}\n${lines.join('\n')}`))
    })
  })
  return {
    child,
    lines,
    match,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return
      const exited = once(child, 'exit')
      child.kill('SIGKILL')
      await exited
    }
  }
}

export interface Sandboxes { aitoearn: string, douyin: string, stop: () => Promise<void> }

/** Both sandbox upstreams in one process (`npm run sandbox`), on free ports. */
export async function startSandboxes (): Promise<Sandboxes> {
  const c = await startChild('src/sandbox/main.ts', { SANDBOX_AITOEARN_PORT: '0', SANDBOX_DOUYIN_PORT: '0' }, /sandbox Douyin:\s+(http:\/\/\S+)/)
  const aitoearn = /sandbox AiToEarn: (http:\/\/\S+)/.exec(c.lines.join('\n'))?.[1]
  if (!aitoearn) throw new Error('no AiToEarn sandbox URL')
  return { aitoearn, douyin: c.match[1]!, stop: c.stop }
}

/** A BFF instance as a process; resolves with its URL once it listens. */
export async function startBff (env: Record<string, string>): Promise<{ url: string, stop: () => Promise<void> }> {
  const c = await startChild('src/server.ts', { PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info', SANDBOX: 'false', ...env }, /Server listening at (http:\/\/127\.0\.0\.1:\d+)/)
  return { url: c.match[1]!, stop: c.stop }
}

/** The p-th percentile (0..100) of a list of numbers. */
export function percentile (values: number[], p: number): number {
  if (values.length === 0) return NaN
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!
}
