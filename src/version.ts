/**
 * The version: package.json is the one place it is written. The CLI reads it from its own
 * package; the Python hook reads the same file (or the copy its build wrote) and sends it in its
 * datagrams as HOOK, so a run can tell when the hook in a server is not the one it ships.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { packageRoot } from './paths.js'

let cached: string | null = null

/** This package's version, from its package.json. */
export function packageVersion(): string {
  if (cached === null) {
    const path = join(packageRoot(), 'package.json')
    const data = JSON.parse(readFileSync(path, 'utf8')) as { version?: unknown }
    if (typeof data.version !== 'string' || data.version === '') throw new Error(`${path} has no version`)
    cached = data.version
  }
  return cached
}

/** `1.4.2` (or `1.4.2-rc.1`) -> [1, 4]; null when it is not a version. */
export function majorMinor(version: string): [number, number] | null {
  const m = /^v?(\d+)\.(\d+)(?:\.\d+)?(?:[-+].*)?$/.exec(version.trim())
  return m ? [Number(m[1]), Number(m[2])] : null
}

export interface HookDrift {
  /** what is wrong, naming both versions */
  message: string
  fix: string
}

export const HOOK_UPGRADE_FIX =
  "install this version's hook where the server imports it (pip install \"$(rolling-restart hook-path)\" into the server's environment, " +
  'or put that directory on its PYTHONPATH), then restart the master once so new workers load it'

/**
 * Why a hook of version `hook` may not work with this CLI (`cli`): another major or minor version,
 * or no version at all (null: a hook from before the HOOK field, or `absent` says what it means).
 * Null when they match.
 */
export function hookDrift(cli: string, hook: string | null, absent = 'the hook sends no version (no HOOK field): an old hook'): HookDrift | null {
  if (hook === null) return { message: `${absent}, and rolling-restart is ${cli}`, fix: HOOK_UPGRADE_FIX }
  const ours = majorMinor(cli)
  const theirs = majorMinor(hook)
  if (ours && theirs && ours[0] === theirs[0] && ours[1] === theirs[1]) return null
  const why = theirs ? 'another major or minor version' : 'not a version number'
  return { message: `the hook is version ${JSON.stringify(hook)} and rolling-restart is ${cli} (${why})`, fix: HOOK_UPGRADE_FIX }
}
