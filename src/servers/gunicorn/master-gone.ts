/**
 * Why a Gunicorn master exited during a run, from what its log says, so that only a real boot
 * failure is blamed on the release. Gunicorn 20.1 logs, from the master's pid:
 *   boot failure    `Shutting down: Master` then `Reason: Worker failed to boot.` (exit status 3) or
 *                   `Reason: App failed to load.` (4), after the worker's traceback
 *   asked to stop   `Handling signal: term` (int, quit) then `Shutting down: Master`
 *   SIGKILL, crash  nothing at all
 */
import { clip, readTail } from '../shared/log-tail.js'
import { logFileOf } from '../shared/master-log.js'
import type { Target } from '../types.js'

export type MasterExit =
  | { kind: 'boot-failure'; reason: string; status: number | null; error: string | null }
  | { kind: 'stopped'; signal: string }
  | { kind: 'silent' }

const BOOT_STATUS: Record<string, number> = { 'Worker failed to boot.': 3, 'App failed to load.': 4 }

/**
 * `SIGTERM` for a master's "Handling signal: term" line (int, quit: the signals that stop it), else
 * null: ttin, ttou, hup, usr1, usr2, winch and chld are handled and the master lives on. Pure.
 */
function stopSignalOf(line: string): string | null {
  const sig = /\] Handling signal: (term|int|quit)\b/.exec(line)?.[1]
  return sig !== undefined ? `SIG${sig.toUpperCase()}` : null
}

/** What the log's tail says of master `pid`'s end. Pure. */
export function masterExitFromLog(text: string, pid: number): MasterExit {
  const lines = text.split('\n')
  const mine = (l: string) => l.includes(`[${pid}] [`)
  let result: MasterExit = { kind: 'silent' }
  let lastError: string | null = null
  for (const line of lines) {
    if (/^[A-Za-z_][\w.]*(Error|Exception)(: |$)/.test(line)) lastError = line.trim()
    if (!mine(line)) continue
    const reason = /\] Reason: (.*)$/.exec(line)?.[1]
    if (reason !== undefined) result = { kind: 'boot-failure', reason, status: BOOT_STATUS[reason] ?? null, error: lastError }
    const signal = stopSignalOf(line)
    if (signal !== null && result.kind !== 'boot-failure') result = { kind: 'stopped', signal }
  }
  return result
}

const PREFLIGHT_NOTE =
  'The preflight (on by default) loads the release in a throwaway interpreter first and catches this before any worker is touched'

/** The hint after `<master> exited during the run.`, in words, from its log when it can be read. */
export function masterGoneHint(target: Target): string {
  const log = typeof target.meta.log === 'string' ? target.meta.log : null
  const text = log ? readTail(log) : null
  const exit = text !== null ? masterExitFromLog(text, target.masterPid) : null
  const pid = target.masterPid
  if (exit === null) {
    return (
      `Master ${pid}'s log is not a file rolling-restart can read (its stderr goes to ${log ?? 'a pipe or the journal'}), so why it exited is not known. ` +
      'If the log says "Worker failed to boot" or "App failed to load", a new worker failed to load the app and Gunicorn halts the whole master when a worker fails to boot: ' +
      `fix the release and start the server again. ${PREFLIGHT_NOTE}`
    )
  }
  if (exit.kind === 'boot-failure') {
    return (
      `Master ${pid} exited${exit.status !== null ? ` with status ${exit.status}` : ''}: its log says "Reason: ${exit.reason}"` +
      (exit.error ? ` after ${clip(exit.error)}` : '') +
      '. Gunicorn halts the whole master when a worker fails to boot: the new release raises while importing the app. ' +
      `Fix the release and start the server again (${log}). ${PREFLIGHT_NOTE}`
    )
  }
  if (exit.kind === 'stopped') {
    return `Master ${pid} exited on ${exit.signal} (its log: "Handling signal: ${exit.signal.slice(3).toLowerCase()}"): it was stopped, which says nothing about the release. Start the server again and run again`
  }
  return (
    `Master ${pid} exited and its log (${log}) shows neither a boot error nor a stop signal: it was killed (SIGKILL, the OOM killer) or crashed, ` +
    'which says nothing about the release. Start the server again and run again'
  )
}

/** The master's own "Handling signal: term|int|quit" line in its log: it is stopping, and its workers exit with it. */
export function stopLine(text: string, pid: number): string | null {
  const lines = text.split('\n').filter((l) => l.includes(`[${pid}] [INFO] Handling signal: `))
  const last = lines[lines.length - 1]
  return last !== undefined && stopSignalOf(last) !== null ? last.trim() : null
}

/** Whether the master was told to stop, from its log (meta.log, else its stderr while it lives). */
export function masterStopping(target: Target): string | null {
  const log = (typeof target.meta.log === 'string' ? target.meta.log : null) ?? logFileOf(target.masterPid)
  const text = log ? readTail(log) : null
  return text ? stopLine(text, target.masterPid) : null
}
