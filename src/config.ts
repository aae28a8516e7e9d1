/**
 * Every default in one place, and the parsers that turn flag values into numbers.
 * Parse errors name the flag, the value and an example of a good value.
 */
import { UsageError } from './errors.js'

export const DEFAULTS = {
  notify: '127.0.0.1:4012',
  stateDir: '/var/lib/rolling-restart',
  /** how long a new worker may take to send READY after its predecessor exited (or after TTIN) */
  readyTimeoutMs: 60_000,
  /** how long an old worker may take to finish its requests and exit after the graceful signal */
  drainTimeoutMs: 60_000,
  /** how long we wait for the master to react to a signal sent to it (TTIN: a new child appears) */
  masterReactTimeoutMs: 15_000,
  /**
   * --min-ready auto: the new worker up longest must stay up 1 s after its READY (the release seen
   * to stay up); the others owe no time of their own, and all are watched until the run ends
   */
  minReady: { releaseMs: 1_000, eachMs: 0 },
  /** how long the preflight may take to import the app and probe its status page */
  preflightTimeoutMs: 120_000,
  pollIntervalMs: 50,
  batch: 1,
  strategy: 'replace' as const,
  maxDatagramBytes: 2048,
  /** status --watch without a value: how often the screen is redrawn */
  statusWatchMs: 2_000,
} as const

/**
 * How long the run's new workers must stay up after their READY before it may end (--min-ready).
 * Every new worker is watched until the end, whatever these are.
 */
export interface MinReady {
  /** the new worker up longest (the earliest READY still watched): the release seen to stay up */
  releaseMs: number
  /** every new worker, the last included */
  eachMs: number
}

export const STRATEGIES = ['replace', 'surge'] as const
export type Strategy = (typeof STRATEGIES)[number]

export const SERVER_KINDS = ['gunicorn', 'uvicorn', 'mod_wsgi', 'uwsgi'] as const
export type ServerKind = (typeof SERVER_KINDS)[number]

const DURATION_UNITS: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
}

/** What parseDuration takes: a number, and a unit or none (seconds). */
export const DURATION = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$/i

/** `90`, `90s`, `1.5s`, `500ms`, `2m`, `12h`, `1d` -> milliseconds. A bare number is seconds. */
export function parseDuration(flag: string, value: string): number {
  const m = DURATION.exec(value)
  if (!m) {
    throw new UsageError(
      `${flag} ${JSON.stringify(value)} is not a duration: use a number with a unit, such as 90s, 500ms, 5m or 12h`,
    )
  }
  const unit = (m[2] ?? 's').toLowerCase()
  const ms = Math.round(Number(m[1]) * (DURATION_UNITS[unit] ?? 1000))
  if (ms <= 0) throw new UsageError(`${flag} ${JSON.stringify(value)} must be greater than zero`)
  return ms
}

const SIZE_UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  k: 1024,
  kb: 1024,
  kib: 1024,
  m: 1024 ** 2,
  mb: 1024 ** 2,
  mib: 1024 ** 2,
  g: 1024 ** 3,
  gb: 1024 ** 3,
  gib: 1024 ** 3,
}

/** `512M`, `1.5G`, `800K`, `1048576` -> bytes (binary units: M = MiB). */
export function parseSize(flag: string, value: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(value)
  const mult = m ? SIZE_UNITS[(m[2] ?? '').toLowerCase()] : undefined
  if (!m || mult === undefined) {
    throw new UsageError(`${flag} ${JSON.stringify(value)} is not a size: use a number with K, M or G, such as 512M`)
  }
  const bytes = Math.round(Number(m[1]) * mult)
  if (bytes <= 0) throw new UsageError(`${flag} ${JSON.stringify(value)} must be greater than zero`)
  return bytes
}

export function parsePositiveInt(flag: string, value: string, { min = 1, max = 10_000 } = {}): number {
  if (!/^\s*\d+\s*$/.test(value)) {
    throw new UsageError(`${flag} ${JSON.stringify(value)} is not a whole number: use e.g. ${flag} ${min === 0 ? 0 : 2}`)
  }
  const n = Number(value)
  if (n < min || n > max) throw new UsageError(`${flag} ${value} is out of range: use a number from ${min} to ${max}`)
  return n
}

export function parsePid(flag: string, value: string): number {
  return parsePositiveInt(flag, value, { min: 1, max: 4_194_304 })
}

export interface NotifyAddress {
  host: string
  port: number
  family: 'udp4' | 'udp6'
}

/** `host:port` or `[v6]:port`, the same syntax as the hook's ROLLING_RESTART_NOTIFY. */
export function parseNotify(flag: string, value: string): NotifyAddress {
  const m = /^\[([0-9a-f:.]+)\]:(\d+)$/i.exec(value) ?? /^([^:\s]+):(\d+)$/.exec(value)
  const port = m ? Number(m[2]) : NaN
  if (!m || !(port > 0 && port < 65536)) {
    throw new UsageError(
      `${flag} ${JSON.stringify(value)} is not host:port: use e.g. ${flag} 127.0.0.1:4012 (the same value as ROLLING_RESTART_NOTIFY in the server's environment)`,
    )
  }
  const host = m[1] as string
  return { host, port, family: host.includes(':') ? 'udp6' : 'udp4' }
}

export function parseChoice<T extends string>(flag: string, value: string, choices: readonly T[]): T {
  if ((choices as readonly string[]).includes(value)) return value as T
  throw new UsageError(`${flag} ${JSON.stringify(value)} is not one of: ${choices.join(', ')}`)
}

export function formatMs(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`
  if (ms < 120_000) return `${(ms / 1000).toFixed(2)} s`
  if (ms < 7_200_000) return `${(ms / 60_000).toFixed(1)} min`
  return `${(ms / 3_600_000).toFixed(1)} h`
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`
  if (n < 1024 ** 2) return `${(n / 1024).toFixed(0)} KiB`
  if (n < 1024 ** 3) return `${(n / 1024 ** 2).toFixed(1)} MiB`
  return `${(n / 1024 ** 3).toFixed(2)} GiB`
}
