import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t0 from 'tap'
import { chromium, type BrowserContext } from 'playwright-core'

/** Debian's Chromium: the browser tests run it headless (CI installs it). */
export const CHROMIUM = '/usr/bin/chromium'

/** The tap `skip` of a browser test: false, or why it cannot run here. */
export const noChromium = (what: string): string | false =>
  existsSync(CHROMIUM) ? false : `no Chromium at ${CHROMIUM}: install Debian's chromium to run the ${what} (CI does)`

let browser: BrowserContext | undefined

/**
 * One headless Chromium per test file, on a fresh profile removed when the file ends; each test
 * opens its own tab. `options`: the first call's locale and time zone.
 */
export async function launchChromium (options: { locale?: string, timezoneId?: string } = {}): Promise<BrowserContext> {
  if (browser) return browser
  const profile = mkdtempSync(join(tmpdir(), 'bff-chromium-'))
  browser = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
    ...options,
    viewport: { width: 1280, height: 900 }
  })
  t0.teardown(async () => {
    await browser?.close()
    rmSync(profile, { recursive: true, force: true })
  })
  return browser
}
