/**
 * Real Redis deployments of a test's own, from the redis-server binary: a 3-master Cluster
 * (`--cluster-enabled yes` on three ports, joined by `redis-cli --cluster create`), and a primary
 * watched by one Sentinel (`redis-server <conf> --sentinel`). Each is gone when the test ends.
 */
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { Redis } from 'ioredis'
import { freePort } from './redis-server.js'
import type { Tap } from './redis.js'

const run = promisify(execFile)

/** Why a real cluster cannot be started here (no redis-server or redis-cli), or undefined. */
export function clusterUnavailable (): string | undefined {
  for (const bin of ['redis-server', 'redis-cli']) {
    if (spawnSync(bin, ['--version'], { stdio: 'ignore' }).status !== 0) return `${bin} is not installed`
  }
  return undefined
}

async function answers (port: number, until: (redis: Redis) => Promise<boolean> = async r => (await r.ping()) === 'PONG'): Promise<void> {
  const probe = new Redis({ port, host: '127.0.0.1', lazyConnect: true, retryStrategy: () => 20, maxRetriesPerRequest: null })
  probe.on('error', () => {})
  try {
    await probe.connect().catch(() => {})
    while (!await until(probe).catch(() => false)) await new Promise(resolve => setTimeout(resolve, 50))
  } finally {
    probe.disconnect()
  }
}

class Servers {
  protected readonly children: ChildProcess[] = []
  protected readonly dir = mkdtempSync(join(tmpdir(), 'bff-redis-'))

  protected spawn (args: string[]): void {
    this.children.push(spawn('redis-server', args, { stdio: 'ignore' }))
  }

  async stop (): Promise<void> {
    await Promise.all(this.children.map(async child => {
      if (child.exitCode !== null || child.signalCode !== null) return
      const exited = once(child, 'exit')
      child.kill('SIGKILL')
      await exited
    }))
    rmSync(this.dir, { recursive: true, force: true })
  }
}

export class OwnCluster extends Servers {
  readonly ports: number[] = []

  /** Three masters, every slot covered, state ok on each; stopped when the test ends. */
  static async start (t: Tap): Promise<OwnCluster> {
    const cluster = new OwnCluster()
    t.teardown(() => cluster.stop())
    for (let i = 0; i < 3; i++) cluster.ports.push(await freePort())
    for (const port of cluster.ports) {
      cluster.spawn(['--port', String(port), '--bind', '127.0.0.1', '--cluster-enabled', 'yes', '--cluster-config-file', join(cluster.dir, `nodes-${port}.conf`),
        '--cluster-node-timeout', '2000', '--save', '', '--appendonly', 'no', '--dir', cluster.dir])
    }
    await Promise.all(cluster.ports.map(port => answers(port)))
    await run('redis-cli', ['--cluster', 'create', ...cluster.ports.map(p => `127.0.0.1:${p}`), '--cluster-replicas', '0', '--cluster-yes'])
    await Promise.all(cluster.ports.map(port => answers(port, async r => String(await r.cluster('INFO')).includes('cluster_state:ok'))))
    return cluster
  }

  /** REDIS_CLUSTER_NODES of this cluster. */
  get nodes (): string { return this.ports.map(p => `127.0.0.1:${p}`).join(',') }
}

export class OwnSentinel extends Servers {
  primary = 0
  sentinel = 0

  /** A primary and one Sentinel that knows it as `mymaster`; stopped when the test ends. */
  static async start (t: Tap): Promise<OwnSentinel> {
    const s = new OwnSentinel()
    t.teardown(() => s.stop())
    s.primary = await freePort()
    s.sentinel = await freePort()
    s.spawn(['--port', String(s.primary), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', s.dir])
    await answers(s.primary)
    const conf = join(s.dir, 'sentinel.conf')
    writeFileSync(conf, `port ${s.sentinel}\nbind 127.0.0.1\ndir ${s.dir}\nsentinel monitor mymaster 127.0.0.1 ${s.primary} 1\nsentinel down-after-milliseconds mymaster 1000\n`)
    s.spawn([conf, '--sentinel'])
    await answers(s.sentinel, async r => Array.isArray(await r.call('SENTINEL', 'get-master-addr-by-name', 'mymaster')))
    return s
  }

  /** REDIS_SENTINELS of this deployment. */
  get sentinels (): string { return `127.0.0.1:${this.sentinel}` }
}
