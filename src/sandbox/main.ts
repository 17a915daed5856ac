/**
 * Runs both sandbox upstreams standalone (`npm run sandbox`), for development and benchmarks.
 * SANDBOX_AITOEARN_PORT (default 4010) and SANDBOX_DOUYIN_PORT (default 4020) pick the ports;
 * Douyin's bill file host listens on the next port (4021), or any free one with port 0.
 */
import { startAitoearnSandbox } from './aitoearn/server.js'
import { startDouyinSandbox } from './douyin/server.js'

const port = (name: string, def: number) => {
  const value = Number(process.env[name] ?? def)
  if (!Number.isInteger(value) || value < 0 || value > 65535) throw new Error(`${name} must be a port number`)
  return value
}

const aitoearn = await startAitoearnSandbox({ port: port('SANDBOX_AITOEARN_PORT', 4010) })
const douyin = await startDouyinSandbox({ port: port('SANDBOX_DOUYIN_PORT', 4020) })
console.log(`sandbox AiToEarn: ${aitoearn.url}`)
console.log(`sandbox Douyin bill files: ${douyin.cdn.url} (DOUYIN_BILL_HOSTS=byteimg.com,${douyin.cdn.url})`)
console.log(`sandbox Douyin:   ${douyin.url}`)
console.log('faults: POST {"kind":"status","status":502,"times":3} to <url>/__sandbox/faults')

const stop = async () => {
  await Promise.all([aitoearn.close(), douyin.close()])
  process.exit(0)
}
process.once('SIGINT', stop)
process.once('SIGTERM', stop)
