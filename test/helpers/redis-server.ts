import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { createServer } from 'node:net'
import { Redis } from 'ioredis'

/** A free TCP port on 127.0.0.1. */
export async function freePort (): Promise<number> {
  const server = createServer()
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address() as { port: number }
  server.close()
  await once(server, 'close')
  return port
}

/**
 * A redis-server of the test's own, on a free port, that the test can stop and start again
 * (same port) to see how the service lives through a Redis outage.
 */
export class OwnRedis {
  private child: ChildProcess | null = null
  constructor (readonly port: number) {}

  static async start (): Promise<OwnRedis> {
    const own = new OwnRedis(await freePort())
    await own.start()
    return own
  }

  get url (): string { return `redis://127.0.0.1:${this.port}` }

  async start (): Promise<void> {
    const child = spawn('redis-server', ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' })
    this.child = child
    // Ready when it answers PING.
    const probe = new Redis(this.url, { lazyConnect: true, retryStrategy: () => 20, maxRetriesPerRequest: null })
    probe.on('error', () => {})
    try {
      await probe.connect().catch(() => {})
      await probe.ping()
    } finally {
      probe.disconnect()
    }
  }

  /** SIGSTOP: the server keeps its connections and answers nothing (a hung Redis). */
  freeze (): void { this.child?.kill('SIGSTOP') }
  /** SIGCONT: it answers again. */
  thaw (): void { this.child?.kill('SIGCONT') }

  async stop (): Promise<void> {
    const child = this.child
    if (!child || child.exitCode !== null) return
    this.child = null
    const exited = once(child, 'exit')
    child.kill('SIGKILL')
    await exited
  }
}
