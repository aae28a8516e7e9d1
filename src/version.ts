/** The version, from package.json: the one place the number is written. Read once, on demand. */
import { readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

let cached: string | undefined

export function version(): string {
  if (cached === undefined) {
    // dist/src/version.js -> the package root two levels up (src/version.ts under a loader: one)
    const here = dirname(fileURLToPath(import.meta.url))
    cached = readVersion(join(here, '..', '..', 'package.json')) ?? readVersion(join(here, '..', 'package.json')) ?? '0.0.0'
  }
  return cached
}

function readVersion(path: string): string | undefined {
  try {
    const v = (JSON.parse(readFileSync(path, 'utf8')) as { version?: unknown }).version
    return typeof v === 'string' ? v : undefined
  } catch {
    return undefined
  }
}
