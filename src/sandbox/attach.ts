import type { Config } from '../config.js'
import { startAitoearnSandbox } from './aitoearn/server.js'
import { startDouyinSandbox } from './douyin/server.js'
import { SANDBOX_AITOEARN_API_KEY, SANDBOX_DOUYIN_CLIENT_KEY, SANDBOX_DOUYIN_CLIENT_SECRET } from './seed.js'
import type { SandboxServer } from './types.js'

/**
 * Starts a sandbox upstream for each upstream the config marks as sandboxed and returns the config
 * pointed at them, with the sandboxes' credentials.
 */
export async function attachSandboxes (config: Config): Promise<{ config: Config, sandboxes: SandboxServer[], close: () => Promise<void> }> {
  const sandboxes: SandboxServer[] = []
  let { aitoearn, douyin } = config
  if (aitoearn.sandbox) {
    const sandbox = await startAitoearnSandbox()
    sandboxes.push(sandbox)
    aitoearn = { ...aitoearn, baseUrl: sandbox.url, apiKey: SANDBOX_AITOEARN_API_KEY }
  }
  if (douyin.sandbox) {
    const sandbox = await startDouyinSandbox({ qps: config.douyin.qps })
    sandboxes.push(sandbox)
    // The sandbox's bill file host is plain HTTP on 127.0.0.1: allowed as that one origin.
    douyin = {
      ...douyin,
      baseUrl: sandbox.url,
      clientKey: SANDBOX_DOUYIN_CLIENT_KEY,
      clientSecret: SANDBOX_DOUYIN_CLIENT_SECRET,
      accessToken: undefined,
      bill: { ...douyin.bill, hosts: `${douyin.bill.hosts},${sandbox.cdn.url}` }
    }
  }
  return {
    config: { ...config, aitoearn, douyin },
    sandboxes,
    close: async () => { await Promise.all(sandboxes.map(s => s.close())) }
  }
}
