/**
 * Closed-loop HTTP load for the demo and the benchmark: `concurrency` loops, each sending one GET
 * on a new connection and waiting for its answer before sending the next. Every request is kept as
 * a record (when it started, how long it took, its status or error), so a run can be cut into time
 * buckets afterwards. Loopback only, and bounded in time and in request count.
 */
import { request } from 'node:http'
import { performance } from 'node:perf_hooks'
import { errnoCode } from '../errors.js'

export interface RequestRecord {
  /** epoch ms when the request was sent */
  start: number
  /** ms until the whole answer arrived, or until the error */
  ms: number
  /** HTTP status, or 0 for a network error or a timeout */
  status: number
  /** `timeout`, `ECONNREFUSED`, `ECONNRESET`, ... */
  error?: string
}

export interface LoadOptions {
  port: number
  host?: string
  path?: string
  concurrency: number
  /** the load stops by itself after this long */
  maxDurationMs: number
  /** ... or after this many requests */
  maxRequests: number
  /** a request without an answer after this long is a failure (`timeout`) */
  timeoutMs: number
}

export interface Load {
  readonly records: readonly RequestRecord[]
  /** Stop sending; resolves once the requests in flight have ended. */
  stop(): Promise<readonly RequestRecord[]>
  /** Resolves when the load ends, by itself or through stop(). */
  readonly done: Promise<readonly RequestRecord[]>
}

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost'])

export const isFailure = (r: RequestRecord): boolean => r.status < 200 || r.status >= 300

export function startLoad(o: LoadOptions): Load {
  const host = o.host ?? '127.0.0.1'
  if (!LOOPBACK.has(host)) throw new Error(`load is for loopback only, not ${host}`)
  const records: RequestRecord[] = []
  let sent = 0
  let stopping = false
  const timer = setTimeout(() => (stopping = true), o.maxDurationMs)
  timer.unref()

  const once = (): Promise<RequestRecord> =>
    new Promise((resolve) => {
      const start = Date.now()
      const t0 = performance.now()
      const end = (status: number, error?: string) =>
        resolve({ start, ms: Math.round((performance.now() - t0) * 100) / 100, status, ...(error ? { error } : {}) })
      const req = request({ host, port: o.port, path: o.path ?? '/', agent: false, timeout: o.timeoutMs }, (res) => {
        res.resume()
        res.on('end', () => end(res.statusCode ?? 0))
        res.on('error', (err) => end(0, errnoCode(err) ?? err.message))
      })
      req.on('timeout', () => req.destroy(Object.assign(new Error('timeout'), { code: 'timeout' })))
      req.on('error', (err) => end(0, errnoCode(err) ?? err.message))
      req.end()
    })

  const loop = async (): Promise<void> => {
    while (!stopping && sent < o.maxRequests) {
      sent++
      records.push(await once())
    }
  }
  const done = Promise.all(Array.from({ length: o.concurrency }, loop)).then(() => {
    clearTimeout(timer)
    return records as readonly RequestRecord[]
  })
  return {
    records,
    done,
    stop: () => {
      stopping = true
      return done
    },
  }
}

/** The p-th percentile (0-100) of already sorted values, nearest rank; 0 for none. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0
  const rank = Math.ceil((p / 100) * sorted.length)
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))] ?? 0
}
