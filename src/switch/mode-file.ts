/**
 * The mode file read by `rolling_restart_hook.modes.ModeMiddleware`. Pure. The format is the
 * middleware's (python-hooks/rolling_restart_hook/modes.py, parse_mode): the first word is the
 * mode; a later line `retry-after=SECONDS` sets the Retry-After header (default 60); other lines
 * are ignored. No file, or an empty one, means normal.
 */
import { UsageError } from '../errors.js'

export const MODES = ['normal', 'maintenance', 'read-only'] as const
export type Mode = (typeof MODES)[number]
export const DEFAULT_RETRY_AFTER = 60
/** a week: longer than any sane maintenance window, small enough to catch a typo in ms */
export const MAX_RETRY_AFTER = 604_800

export function parseModeName(value: string): Mode {
  const v = value.trim().toLowerCase()
  if ((MODES as readonly string[]).includes(v)) return v as Mode
  const hint = /^read.?only$/.test(v) ? ' (did you mean read-only?)' : /^maint/.test(v) ? ' (did you mean maintenance?)' : ''
  throw new UsageError(`mode ${JSON.stringify(value)} is not one of: ${MODES.join(', ')}${hint}. Use e.g. \`rolling-restart mode maintenance --mode-file FILE\``)
}

export function parseRetryAfter(flag: string, value: string): number {
  if (!/^\s*\d+\s*$/.test(value) || Number(value) > MAX_RETRY_AFTER) {
    throw new UsageError(`${flag} ${JSON.stringify(value)} is not a number of seconds: use a whole number from 0 to ${MAX_RETRY_AFTER}, e.g. ${flag} 120`)
  }
  return Number(value)
}

export function renderModeFile(mode: Mode, retryAfter: number | null, at: Date = new Date()): string {
  // The mode word must come first: the middleware takes the file's first word.
  const lines: string[] = [mode]
  if (retryAfter !== null) lines.push(`retry-after=${retryAfter}`)
  lines.push(`# set by rolling-restart mode at ${at.toISOString()}`, '')
  return lines.join('\n')
}

/** What the middleware would make of `text`: same rules as parse_mode, unknown word -> normal. */
export function parseModeFile(text: string): { mode: Mode; retryAfter: number; unknown: string | null } {
  const first = text.split(/\s+/).find((w) => w !== '')
  const word = (first ?? 'normal').toLowerCase()
  let retryAfter = DEFAULT_RETRY_AFTER
  for (const line of text.split(/\r\n|\r|\n/).slice(1)) {
    const eq = line.indexOf('=')
    if (eq < 0 || line.slice(0, eq).trim().toLowerCase() !== 'retry-after') continue
    const v = line.slice(eq + 1).trim()
    if (/^[+-]?\d+$/.test(v) && Number(v) >= 0) retryAfter = Number(v)
  }
  if (!(MODES as readonly string[]).includes(word)) return { mode: 'normal', retryAfter, unknown: word }
  return { mode: word as Mode, retryAfter, unknown: null }
}
