import { createServer, connect, type Socket } from 'node:net'
import type { AddressInfo } from 'node:net'
import type { Tap } from './redis.js'

/**
 * A TCP proxy in front of a server, that the test can cut (every connection through it dropped,
 * new ones refused) and mend: one client losing its server while others keep theirs.
 */
export class TcpProxy {
  private open = true
  private readonly sockets = new Set<Socket>()
  private constructor (readonly port: number, private readonly close: () => Promise<void>) {}

  static async start (t: Tap, targetPort: number): Promise<TcpProxy> {
    const ref: { proxy?: TcpProxy } = {}
    const server = createServer(client => {
      const proxy = ref.proxy
      if (!proxy?.open) {
        client.destroy()
        return
      }
      const upstream = connect(targetPort, '127.0.0.1')
      for (const [a, b] of [[client, upstream], [upstream, client]] as const) {
        proxy.sockets.add(a)
        a.on('error', () => b.destroy())
        a.on('close', () => { proxy.sockets.delete(a); b.destroy() })
        a.pipe(b)
      }
    })
    await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
    const proxy = ref.proxy = new TcpProxy((server.address() as AddressInfo).port, () => new Promise(resolve => server.close(() => resolve())))
    t.teardown(async () => { proxy.cut(); await proxy.close() })
    return proxy
  }

  get url (): string { return `redis://127.0.0.1:${this.port}` }

  cut (): void {
    this.open = false
    for (const s of this.sockets) s.destroy()
  }

  mend (): void { this.open = true }
}
