/**
 * `status --watch [INTERVAL]`: clear the terminal and redraw every INTERVAL (default 2 s), like
 * watch(1), until Ctrl-C. Leaving a watch is its normal end, not an interrupted job, so it exits 0
 * (nothing was being done that Ctrl-C cut short). It needs a terminal: on a pipe or a file, or with
 * --json, it is refused (exit 2), since a stream of screens with escape codes serves no reader.
 */
import { DEFAULTS, parseDuration } from '../config.js'
import { RollingRestartError, UsageError } from '../errors.js'

/** Home the cursor and clear the screen (ANSI). */
export const CLEAR_SCREEN = '\x1b[H\x1b[2J'
/** Redrawing faster than this only loads the host. */
const MIN_INTERVAL_MS = 200

export interface WatchFlags {
  /** commander: true for a bare --watch, the interval when one is given */
  watch?: string | boolean
  json?: boolean
}

/** The redraw interval, or null without --watch. Refuses --watch with --json, on a non-terminal, or too often. */
export function watchInterval(flags: WatchFlags, stdoutIsTTY: boolean): number | null {
  if (flags.watch === undefined || flags.watch === false) return null
  if (flags.json) throw new UsageError('--watch redraws a terminal and --json prints one report: give only one (for a JSON feed, run status --json from a loop)')
  if (!stdoutIsTTY) {
    throw new UsageError('--watch needs a terminal on stdout (it clears the screen and redraws), and stdout is a pipe or a file: drop --watch, or run it in a terminal')
  }
  const ms = flags.watch === true ? DEFAULTS.statusWatchMs : parseDuration('--watch', flags.watch)
  if (ms < MIN_INTERVAL_MS) throw new UsageError(`--watch ${flags.watch} is too often: give at least 0.2s (the default is ${DEFAULTS.statusWatchMs / 1000}s)`)
  return ms
}

export interface WatchIo {
  write(text: string): void
  /** resolves after `ms`, or at once when `signal` aborts */
  sleep(ms: number, signal: AbortSignal): Promise<void>
  now(): Date
}

export const realIo: WatchIo = {
  write: (text) => void process.stdout.write(text),
  sleep: (ms, signal) =>
    new Promise((resolve) => {
      const timer = setTimeout(done, ms)
      function done(): void {
        clearTimeout(timer)
        signal.removeEventListener('abort', done)
        resolve()
      }
      signal.addEventListener('abort', done, { once: true })
    }),
  now: () => new Date(),
}

/** What one screen shows: the status, or the error that stood in its way this time (a master gone, say). */
async function screen(draw: () => Promise<string>): Promise<string> {
  try {
    return await draw()
  } catch (err) {
    if (!(err instanceof RollingRestartError)) throw err
    return `rolling-restart: ${err.message}\n`
  }
}

/** Redraw until `signal` aborts (Ctrl-C, which main.ts turns into an abort). */
export async function watch(draw: () => Promise<string>, intervalMs: number, signal: AbortSignal, io: WatchIo = realIo): Promise<void> {
  const every = `${intervalMs / 1000}s`
  while (!signal.aborted) {
    const text = await screen(draw)
    if (signal.aborted) break
    io.write(`${CLEAR_SCREEN}Every ${every}: rolling-restart status    ${io.now().toISOString()}    (Ctrl-C to stop)\n\n${text}`)
    await io.sleep(intervalMs, signal)
  }
}
