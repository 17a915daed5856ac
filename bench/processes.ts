/**
 * Child processes for benchmarks: the sandbox upstreams and BFF instances, each a real process on
 * 127.0.0.1, stopped when the benchmark ends.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { createServer } from 'node:net'
import { createInterface } from 'node:readline'

export interface Child {
  child: ChildProcess
  lines: string[]
  stop: () => Promise<void>
}

/**
 * Spawns `node <script>` (with the tsx loader for a .ts script) with a clean environment; its
 * output lines are kept (bounded).
 */
export function spawnChild (script: string, env: Record<string, string>): Child {
  const child = spawn(process.execPath, [...(script.endsWith('.ts') ? ['--import', 'tsx'] : []), script], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  const lines: string[] = []
  for (const stream of [child.stdout!, child.stderr!]) {
    createInterface({ input: stream }).on('line', line => { if (lines.length < 2000) lines.push(line) })
  }
  return {
    child,
    lines,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return
      const exited = once(child, 'exit')
      child.kill('SIGKILL')
      await exited
    }
  }
}

/** Resolves with the first output line matching `pattern`; rejects when the child exits or times out. */
export async function waitForLine (c: Child, pattern: RegExp, timeoutMs = 30_000): Promise<RegExpExecArray> {
  const until = Date.now() + timeoutMs
  for (;;) {
    for (const line of c.lines) {
      const m = pattern.exec(line)
      if (m) return m
    }
    if (c.child.exitCode !== null) throw new Error(`exited with ${c.child.exitCode}:\n${c.lines.join('\n')}`)
    if (Date.now() > until) throw new Error(`no line matching ${pattern} within ${timeoutMs} ms:\n${c.lines.join('\n')}`)
    await new Promise(resolve => setTimeout(resolve, 20))
  }
}

export async function startChild (script: string, env: Record<string, string>, ready: RegExp): Promise<Child & { match: RegExpExecArray }> {
  const c = spawnChild(script, env)
  try {
    return { ...c, match: await waitForLine(c, ready) }
  } catch (err) {
    await c.stop()
    throw err
  }
}

export interface Sandboxes { aitoearn: string, douyin: string, douyinBills: string, stop: () => Promise<void> }

/** Both sandbox upstreams in one process (`npm run sandbox`), on free ports. */
export async function startSandboxes (): Promise<Sandboxes> {
  const c = await startChild('src/sandbox/main.ts', { SANDBOX_AITOEARN_PORT: '0', SANDBOX_DOUYIN_PORT: '0' }, /sandbox Douyin:\s+(http:\/\/\S+)/)
  const aitoearn = /sandbox AiToEarn: (http:\/\/\S+)/.exec(c.lines.join('\n'))?.[1]
  const douyinBills = /sandbox Douyin bill files: (http:\/\/\S+)/.exec(c.lines.join('\n'))?.[1]
  if (!aitoearn || !douyinBills) throw new Error('no AiToEarn sandbox URL, or no Douyin bill host')
  return { aitoearn, douyin: c.match[1]!, douyinBills, stop: c.stop }
}

/** A free TCP port on 127.0.0.1. */
export async function freePort (): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address() as { port: number }
  server.close()
  await once(server, 'close')
  return port
}

/** Compiles dist/ when src/ changed: the BFF is benchmarked as `npm start` runs it. */
export function buildBff (): void {
  execFileSync(process.execPath, ['scripts/build-if-needed.mjs'], { stdio: 'inherit' })
}

/**
 * A BFF instance as a process (compiled dist/, see buildBff), on a port chosen here; resolves once
 * /healthz answers. It logs at warn unless told otherwise: no per-request log lines, as the bare
 * reference server has none.
 */
export async function startBff (env: Record<string, string>): Promise<{ url: string, pid: number, stop: () => Promise<void> }> {
  const port = await freePort()
  const url = `http://127.0.0.1:${port}`
  const c = spawnChild('dist/server.js', { HOST: '127.0.0.1', SANDBOX: 'false', LOG_LEVEL: 'warn', ...env, PORT: String(port) })
  const until = Date.now() + 30_000
  while (!(await fetch(`${url}/healthz`).then(r => r.ok, () => false))) {
    if (c.child.exitCode !== null || Date.now() > until) {
      await c.stop()
      throw new Error(`BFF on ${url} did not start:\n${c.lines.join('\n')}`)
    }
    await new Promise(resolve => setTimeout(resolve, 50))
  }
  return { url, pid: c.child.pid!, stop: c.stop }
}

/** The p-th percentile (0..100) of a list of numbers. */
export function percentile (values: number[], p: number): number {
  if (values.length === 0) return NaN
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!
}
