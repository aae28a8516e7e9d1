/**
 * Structured logs (pino, JSON, one event per transition) and human-readable progress for a terminal.
 *
 * Where they go:
 *   --log-file FILE         JSON lines appended to FILE
 *   stderr is a terminal    readable progress lines (`[2/4] 5154 -> 5160 ready in 1.21 s`), and a live
 *                           line below them with what is awaited and for how long (live-line.ts)
 *   stderr is not           JSON lines (cron, CI, systemd journal), unless --log-file took them
 *   --log-format json|text  forces the stderr format
 *   --quiet / --verbose     warnings and errors only / every event (JSON: log level warn / debug;
 *                           text: no progress but the warnings and errors / progress plus every event)
 */
import { pino, type Logger } from 'pino'
import type { RollEvent } from '../roll/events.js'
import { formatMs } from '../config.js'
import { LiveLine } from './live-line.js'

export type LogFormat = 'auto' | 'json' | 'text'
export type Verbosity = 'quiet' | 'normal' | 'verbose'

const LEVEL: Record<Verbosity, string> = { quiet: 'warn', normal: 'info', verbose: 'debug' }

export interface Output {
  logger: Logger
  /** human progress lines, or a no-op */
  progress: (line: string) => void
  event: (e: RollEvent) => void
  flush: () => void
}

export function createOutput(opts: { logFile?: string | undefined; format: LogFormat; quiet?: boolean; verbosity?: Verbosity }): Output {
  const verbosity: Verbosity = opts.quiet ? 'quiet' : (opts.verbosity ?? 'normal')
  const textOnStderr = opts.format === 'text' || (opts.format === 'auto' && process.stderr.isTTY === true)
  const jsonDest = opts.logFile
    ? pino.destination({ dest: opts.logFile, sync: true, append: true, mkdir: true })
    : textOnStderr
      ? null
      : pino.destination({ fd: 2, sync: true })
  const base = { base: { pid: process.pid, name: 'rolling-restart' }, timestamp: pino.stdTimeFunctions.isoTime, level: LEVEL[verbosity] }
  // on a terminal the progress lines speak; the log records add to them only when asked (--quiet: the
  // warnings and errors that progress is not showing; --verbose: every record), as text
  const logger = jsonDest ? pino(base, jsonDest) : textOnStderr && verbosity !== 'normal' ? pino(base, textRecords()) : pino({ enabled: false })
  // the live line only where a person watches: a real terminal, not `--log-format text` into a pipe
  const live = textOnStderr && verbosity !== 'quiet' && process.stderr.isTTY === true ? new LiveLine(process.stderr) : null
  const progress =
    textOnStderr && verbosity !== 'quiet' ? (line: string) => (live ? live.print(line) : process.stderr.write(line + '\n')) : () => undefined
  return {
    logger,
    progress,
    event(e: RollEvent) {
      const level = e.event === 'abort' ? 'error' : e.event === 'datagram-ignored' || e.event === 'group-mismatch' ? 'warn' : 'info'
      logger[level](e, describe(e))
      const line = progressLine(e)
      if (line) progress(line)
      live?.follow(e)
    },
    flush() {
      live?.stop()
      jsonDest?.flushSync?.()
    },
  }
}

/** The log line's `msg`: the event in words. */
export function describe(e: RollEvent): string {
  switch (e.event) {
    case 'run-start':
      return `rolling ${e.selected.length} of ${e.workers.length} workers of ${e.server} group ${e.group} (master ${e.masterPid}), strategy ${e.strategy}, batch ${e.batch}`
    case 'step-start':
      return `step ${e.step}/${e.total}: ` + (e.action === 'surge' ? `TTIN for a worker to take over from ${e.oldPid}` : e.via === 'master' ? `replacing ${e.oldPid} through the master (TTIN, then TTOU: it stops its oldest worker)` : `replacing ${e.oldPid}`)
    case 'signal':
      return `${e.signal} -> ${e.to} ${e.pid} (${e.outcome})`
    case 'exited':
      return `worker ${e.pid} exited after ${formatMs(e.ms)}`
    case 'spawned':
      return `new worker ${e.pid} is booting`
    case 'credited':
      return e.step !== null ? `new worker ${e.pid} is step ${e.step}'s replacement` : `new worker ${e.pid} is the master's respawn of ${e.respawnOf ?? '?'}, no step's`
    case 'adopted':
      return `[${e.step}] ${e.oldPid} exited on its own before its turn: the master's respawn of it is this step's replacement`
    case 'worker-gone':
      return `worker ${e.pid} ${e.detail}`
    case 'datagram-ignored':
      return `ignored a datagram from ${e.from}: ${e.detail}`
    case 'group-mismatch':
      return `warning: ${e.detail}`
    case 'ready':
      return `[${e.step}/${e.total}] ${e.oldPid ?? '?'} -> ${e.newPid ?? '?'} ready in ${formatMs(e.ms)}` + (e.preload ? ' (recycled, code unchanged)' : e.release ? ` (release ${e.release})` : '')
    case 'settling':
      return `waiting ${formatMs(e.ms)} more: ${e.pids.join(', ')} must stay up for --min-ready after READY`
    case 'retired':
      return `worker ${e.pid} retired after ${formatMs(e.ms)} (${e.why})`
    case 'abort':
      return `stopped: ${e.message}`
    case 'run-end':
      return e.ok ? `done: ${e.replaced} workers replaced in ${formatMs(e.durationMs)}` : `run ended after ${formatMs(e.durationMs)} with ${e.replaced} replaced`
  }
}

function progressLine(e: RollEvent): string | null {
  switch (e.event) {
    case 'run-start':
    case 'ready':
    case 'abort':
    case 'run-end':
    case 'retired':
    case 'settling':
      return describe(e)
    case 'step-start':
      return `[${e.step}/${e.total}] ` + (e.action === 'surge' ? `starting a new worker to take over from ${e.oldPid ?? 'the oldest'} ...` : `replacing ${e.oldPid} ...`)
    case 'datagram-ignored':
      return `  (${describe(e)})`
    default:
      return null
  }
}

/** A pino destination that writes each record's message as one text line on stderr. */
function textRecords(): { write: (record: string) => void } {
  return {
    write(record: string) {
      try {
        const r = JSON.parse(record) as { level?: number; msg?: string; event?: string }
        const tag = (r.level ?? 30) >= 50 ? 'error: ' : (r.level ?? 30) >= 40 ? 'warning: ' : r.event ? `${r.event}: ` : ''
        process.stderr.write(`${tag}${r.msg ?? ''}\n`)
      } catch {
        process.stderr.write(record)
      }
    },
  }
}
