/**
 * What a rolling-restart run's JSON log (--log-file FILE --log-format json) says about its timing:
 * when it sent its first signal, when its last replacement was ready, and each replacement's boot.
 */
import { existsSync, readFileSync } from 'node:fs'

export interface ToolLog {
  /** BOOT_MS of each accepted replacement (fork to its READY datagram) */
  bootMs: number[]
  /** epoch ms of the first `signal` event: to a worker (replace) or to the master (surge TTIN) */
  firstSignalAt: number | null
  /** epoch ms of the last `ready` event: from then on every worker runs the new code */
  lastReadyAt: number | null
}

export function readToolLog(path: string): ToolLog {
  const out: ToolLog = { bootMs: [], firstSignalAt: null, lastReadyAt: null }
  if (!existsSync(path)) return out
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    let e: { event?: string; bootMs?: number | null; time?: string }
    try {
      e = JSON.parse(line) as typeof e
    } catch {
      continue // not JSON
    }
    const at = typeof e.time === 'string' ? Date.parse(e.time) : NaN
    if (e.event === 'signal' && out.firstSignalAt === null && Number.isFinite(at)) out.firstSignalAt = at
    if (e.event !== 'ready') continue
    if (typeof e.bootMs === 'number') out.bootMs.push(e.bootMs)
    if (Number.isFinite(at)) out.lastReadyAt = Math.max(out.lastReadyAt ?? 0, at)
  }
  return out
}
