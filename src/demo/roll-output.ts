/**
 * What the demo reads back from the rolling-restart it ran: the JSON report on its stdout and the
 * boot times in its JSON log.
 */
import { readFileSync } from 'node:fs'

/** The fields of the CLI's JSON report the demo shows. */
export interface Report {
  ok: boolean
  replaced: Array<{ oldPid: number; newPid: number; readyMs: number; status: string | null; release: string | null }>
  durationMs: number
  message: string
  aborted: { reason: string; message: string } | null
}

/** The report, or null when stdout holds none (the CLI failed before it could write one). */
export function parseReport(stdout: string): Report | null {
  try {
    const r = JSON.parse(stdout) as Report
    return Array.isArray(r.replaced) ? r : null
  } catch {
    return null
  }
}

/** newPid -> BOOT_MS from the `ready` events in the CLI's JSON log. */
export function bootTimes(logFile: string): Map<number, number> {
  const out = new Map<number, number>()
  let text = ''
  try {
    text = readFileSync(logFile, 'utf8')
  } catch {
    return out
  }
  for (const line of text.split('\n')) {
    try {
      const e = JSON.parse(line) as { event?: string; newPid?: number; bootMs?: number | null }
      if (e.event === 'ready' && typeof e.newPid === 'number' && typeof e.bootMs === 'number') out.set(e.newPid, e.bootMs)
    } catch {
      // not a JSON line
    }
  }
  return out
}
