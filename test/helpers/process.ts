import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { createInterface } from 'node:readline'

export interface ServiceProcess {
  child: ChildProcess
  url: string
  /** Every log line the process printed so far (stdout and stderr). */
  output: string[]
  stop: (signal?: NodeJS.Signals) => Promise<number | null>
}

/** A clean environment: nothing of this machine's credentials leaks into the child. */
export function cleanEnv (env: Record<string, string>): Record<string, string> {
  return { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env }
}

/**
 * Runs the service as a process (TypeScript through tsx) and resolves once it listens, with the
 * URL it printed. Rejects when it exits first.
 */
export async function startService (env: Record<string, string>, timeoutMs = 20_000): Promise<ServiceProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], { env: cleanEnv(env), stdio: ['ignore', 'pipe', 'pipe'] })
  const output: string[] = []
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no "listening" line within ${timeoutMs} ms:\n${output.join('\n')}`)), timeoutMs)
    for (const stream of [child.stdout!, child.stderr!]) {
      createInterface({ input: stream }).on('line', line => {
        output.push(line)
        const match = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(line)
        if (match) {
          clearTimeout(timer)
          resolve(match[1]!)
        }
      })
    }
    child.once('exit', code => {
      clearTimeout(timer)
      reject(new Error(`exited with ${code} before listening:\n${output.join('\n')}`))
    })
  })
  return {
    child,
    url,
    output,
    stop: async (signal = 'SIGTERM') => {
      if (child.exitCode !== null) return child.exitCode
      const exited = once(child, 'exit')
      child.kill(signal)
      const [code] = await exited
      return code as number | null
    }
  }
}

/** Runs the service expecting it to exit; resolves with its exit code and output. */
export async function runToExit (env: Record<string, string>): Promise<{ code: number | null, stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], { env: cleanEnv(env), stdio: ['ignore', 'ignore', 'pipe'] })
  let stderr = ''
  child.stderr!.on('data', chunk => { stderr += String(chunk) })
  const [code] = await once(child, 'exit')
  return { code: code as number | null, stderr }
}
