/**
 * `switch`'s flags, checked before anything is read or written: where to (`--to` or `--back`),
 * which routing file (`--map` or `--dispatch`), the canary share and `--verify-url`.
 * Every error names the flag, the value and the fix (exit 2).
 */
import { resolve } from 'node:path'
import { parseChoice, parseDuration } from '../config.js'
import { UsageError } from '../errors.js'
import { CANARY_BY, parseCookieName, parseHeaderName, parsePercent, type CanaryBy } from './dispatch-script.js'
import { historyPathFor, type Mechanism } from './history.js'
import { parseGroupName } from './map-file.js'

export const DEFAULT_VERIFY_TIMEOUT_MS = 10_000

export interface SwitchFlags {
  to?: string
  back?: boolean
  map?: string
  dispatch?: string
  canary?: string
  stickyCookie?: string
  canaryHeader?: string
  canaryBy?: string
  verifyUrl?: string
  verifyTimeout?: string
  force?: boolean
  history?: string
  apachePidfile?: string
  stateDir?: string
  json?: boolean
}

export interface CanaryFlags {
  percent: number
  stickyCookie: string | null
  header: string | null
  by: CanaryBy
}

export interface SwitchPlan {
  action: 'to' | 'back'
  to: string | null
  mechanism: Mechanism
  /** the flag that named the file, for messages */
  fileFlag: '--map' | '--dispatch'
  file: string
  historyPath: string
  canary: CanaryFlags | null
  verifyUrl: string | null
  verifyTimeoutMs: number
  force: boolean
  apachePidfile: string | undefined
}

/** Every flag checked before anything is read or written. */
export function parseSwitchFlags(f: SwitchFlags): SwitchPlan {
  if (f.to !== undefined && f.back) throw new UsageError(`--to ${f.to} and --back both say where to switch: give one of them`)
  if (f.to === undefined && !f.back) {
    throw new UsageError('say where to send the traffic: --to GROUP (e.g. --to app:green), or --back to return to the previous target')
  }
  if (f.map !== undefined && f.dispatch !== undefined) {
    throw new UsageError(`--map ${f.map} and --dispatch ${f.dispatch} name two routing files: a switch writes one; give the one Apache reads`)
  }
  if (f.map === undefined && f.dispatch === undefined) {
    throw new UsageError('say which file routes the traffic: --map FILE (the RewriteMap txt file) or --dispatch FILE (the WSGIDispatchScript)')
  }
  for (const [flag, value] of [['--map', f.map], ['--dispatch', f.dispatch], ['--history', f.history]] as const) {
    if (value !== undefined && (value.trim() === '' || value.endsWith('/'))) {
      throw new UsageError(`${flag} ${JSON.stringify(value)} is not a file path: give the path of a file, e.g. ${flag} /etc/apache2/wsgi-live.txt`)
    }
  }
  const mechanism: Mechanism = f.map !== undefined ? 'map' : 'dispatch'
  const fileFlag = mechanism === 'map' ? '--map' : '--dispatch'
  const file = resolve((f.map ?? f.dispatch) as string)
  const canary = parseCanaryFlags(f, mechanism)
  const verifyUrl = f.verifyUrl !== undefined ? parseVerifyUrl(f.verifyUrl) : null
  return {
    action: f.back ? 'back' : 'to',
    to: f.to !== undefined ? parseGroupName('--to', f.to) : null,
    mechanism,
    fileFlag,
    file,
    historyPath: f.history !== undefined ? resolve(f.history) : historyPathFor(file),
    canary,
    verifyUrl,
    verifyTimeoutMs: f.verifyTimeout !== undefined ? parseDuration('--verify-timeout', f.verifyTimeout) : DEFAULT_VERIFY_TIMEOUT_MS,
    force: f.force ?? false,
    apachePidfile: f.apachePidfile,
  }
}

/** The canary flags, or null when none is given. They need --dispatch, and cannot go with --back. */
function parseCanaryFlags(f: SwitchFlags, mechanism: Mechanism): CanaryFlags | null {
  const canaryGiven: Array<[string, string]> = []
  if (f.canary !== undefined) canaryGiven.push(['--canary', f.canary])
  if (f.stickyCookie !== undefined) canaryGiven.push(['--sticky-cookie', f.stickyCookie])
  if (f.canaryHeader !== undefined) canaryGiven.push(['--canary-header', f.canaryHeader])
  if (f.canaryBy !== undefined && f.canaryBy !== 'random') canaryGiven.push(['--canary-by', f.canaryBy])
  if (!canaryGiven.length) return null
  const [flag, value] = canaryGiven[0] as [string, string]
  if (mechanism === 'map') {
    throw new UsageError(
      `${flag} ${value} needs --dispatch FILE: a RewriteMap file sends every request to one group; a canary share needs a WSGIDispatchScript`,
    )
  }
  if (f.back) throw new UsageError(`${flag} ${value} cannot go with --back: --back re-applies the previous switch as it was; drop ${flag}`)
  if (f.canary === undefined && (f.stickyCookie !== undefined || (f.canaryBy !== undefined && f.canaryBy !== 'random'))) {
    const shaping = f.stickyCookie !== undefined ? `--sticky-cookie ${f.stickyCookie}` : `--canary-by ${f.canaryBy}`
    throw new UsageError(`${shaping} only shapes a canary share: add --canary PERCENT (e.g. --canary 10)`)
  }
  return {
    // --canary-header alone: nobody goes to the new group unless the header asks for it
    percent: f.canary !== undefined ? parsePercent('--canary', f.canary) : 0,
    stickyCookie: f.stickyCookie !== undefined ? parseCookieName('--sticky-cookie', f.stickyCookie) : null,
    header: f.canaryHeader !== undefined ? parseHeaderName('--canary-header', f.canaryHeader) : null,
    by: parseChoice('--canary-by', f.canaryBy ?? 'random', CANARY_BY),
  }
}

/** --verify-url: a full http:// or https:// URL. */
function parseVerifyUrl(value: string): string {
  let u: URL
  try {
    u = new URL(value)
  } catch {
    throw new UsageError(`--verify-url ${JSON.stringify(value)} is not a URL: give a full http:// or https:// URL, e.g. --verify-url http://127.0.0.1/green/_status`)
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') {
    throw new UsageError(`--verify-url ${value} is not an http:// or https:// URL: give the URL of a page the target group serves`)
  }
  return u.href
}
