/**
 * uWSGI's stats server (`stats = ADDRESS`, plugins/stats_pusher aside): on each connection the
 * master writes one JSON document and closes (with `stats-http`, behind an HTTP response header).
 * Its `workers` list has each worker's `pid` and `requests`, the count since that worker started.
 * It is the only server of the four that exposes per-worker request counts outside the workers.
 */
import { connect, type NetConnectOpts } from 'node:net'
import { isAbsolute, join } from 'node:path'
import { readCwd } from '../../proc/procfs.js'
import type { RequestCounts, Target } from '../types.js'
import { factsOf } from './master-facts.js'
import { boolOption, lastValue } from './options.js'

const STATS_TIMEOUT_MS = 1_000
const STATS_MAX_BYTES = 4 * 1024 * 1024

/** `127.0.0.1:1717`, `:1717` (every interface: asked on 127.0.0.1), `/run/stats.sock`, `@abstract` -> where to connect. */
export function statsAddress(value: string, cwd: string): NetConnectOpts | null {
  const v = value.trim()
  if (v.startsWith('@')) return { path: `\0${v.slice(1)}` }
  const tcp = /^(.*):(\d+)$/.exec(v)
  if (tcp) {
    const host = tcp[1] === '' || tcp[1] === '0.0.0.0' || tcp[1] === '*' ? '127.0.0.1' : (tcp[1] as string).replace(/^\[(.*)\]$/, '$1')
    return { host, port: Number(tcp[2]) }
  }
  if (v === '') return null
  return { path: isAbsolute(v) ? v : join(cwd, v) }
}

/** The requests per worker pid in a stats document, or null when it has no workers list. */
export function requestsOfStats(text: string): Record<string, number> | null {
  const body = text.startsWith('HTTP/') ? text.slice(text.indexOf('\r\n\r\n') + 4) : text
  let doc: unknown
  try {
    doc = JSON.parse(body)
  } catch {
    return null
  }
  const workers = (doc as { workers?: unknown }).workers
  if (!Array.isArray(workers)) return null
  const out: Record<string, number> = {}
  for (const w of workers as Array<{ pid?: unknown; requests?: unknown }>) {
    if (typeof w.pid === 'number' && w.pid > 0 && typeof w.requests === 'number') out[String(w.pid)] = w.requests
  }
  return out
}

/** One stats document, read to the end (the master closes the connection), or the error. */
export function readStats(to: NetConnectOpts, http: boolean, timeoutMs = STATS_TIMEOUT_MS): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    const sock = connect(to)
    sock.setTimeout(timeoutMs, () => sock.destroy(new Error(`no answer within ${timeoutMs} ms`)))
    sock.on('connect', () => {
      if (http) sock.write('GET / HTTP/1.0\r\n\r\n')
    })
    sock.on('data', (c: Buffer) => {
      size += c.length
      if (size > STATS_MAX_BYTES) sock.destroy(new Error('more than 4 MiB: not a stats document'))
      else chunks.push(c)
    })
    sock.on('error', reject)
    sock.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')))
  })
}

/** The requests each worker has served, from the stats server when the options configure one. */
export async function requestCounts(target: Target): Promise<RequestCounts> {
  const { options, complete } = factsOf(target)
  const value = lastValue(options, 'stats') ?? lastValue(options, 'stats-server')
  if (value === null) {
    const unknown = 'no stats option among the options that could be read (a process title hides the command line, and no hook record or ini names one)'
    return { byPid: null, why: `uWSGI exposes them on its stats server: ${complete ? 'none is configured' : unknown}; add stats = 127.0.0.1:1717 (or a socket path)` }
  }
  const to = statsAddress(value, readCwd(target.masterPid) ?? '/')
  if (!to) return { byPid: null, why: `stats = ${JSON.stringify(value)} is not an address` }
  try {
    const byPid = requestsOfStats(await readStats(to, boolOption(options, 'stats-http') === true))
    if (byPid) return { byPid, from: `the stats server at ${value}` }
    return { byPid: null, why: `the stats server at ${value} did not answer with uWSGI's stats JSON` }
  } catch (err) {
    return { byPid: null, why: `the stats server at ${value} could not be read: ${(err as Error).message}` }
  }
}
