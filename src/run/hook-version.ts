/**
 * Say when a replacement's hook is not this CLI's version (src/version.ts decides what differs
 * enough): one `hook-version` log event per version heard in a run, and one warning line on the
 * terminal per run, however many workers and rolls (a deploy's rollback is a second roll).
 */
import type { Output } from '../output/logger.js'
import { hookDrift, packageVersion } from '../version.js'

const heard = new WeakMap<Output, Set<string | null>>()

/** `hookVersion`: the HOOK a claimed datagram carried; null when it had none. */
export function checkHookVersion(out: Output, pid: number | null, hookVersion: string | null, cli: string = packageVersion()): void {
  const drift = hookDrift(cli, hookVersion)
  if (!drift) return
  let seen = heard.get(out)
  if (!seen) heard.set(out, (seen = new Set()))
  if (seen.has(hookVersion)) return
  const first = seen.size === 0
  seen.add(hookVersion)
  out.logger.warn({ event: 'hook-version', pid, hookVersion, version: cli, fix: drift.fix }, `worker ${pid ?? '?'}: ${drift.message}`)
  if (first) out.progress(`  warning: worker ${pid ?? '?'}: ${drift.message}; ${drift.fix}`)
}
