// A small closed-loop HTTP load generator: `concurrency` loops, each sending one GET and waiting
// for the answer before the next, on a new connection each time or (keepAlive) reusing its
// connection the way a pooling client does (Node's keep-alive Agent: a connection the server
// closed is dropped from the pool, one it answered `Connection: close` on is not reused). Bounded
// in request count and time, and loopback only. Every non-2xx answer and every network error is
// recorded as a failure; nothing is retried.
import { Agent } from 'node:http'
import type { Socket } from 'node:net'
import { httpGet, assertLoopback } from './http.js'

export interface LoadOptions {
  port: number
  host?: string
  path?: string
  concurrency?: number
  maxDurationMs?: number
  maxRequests?: number
  requestTimeoutMs?: number
  /** reuse connections (HTTP keep-alive) instead of one connection per request */
  keepAlive?: boolean
  /** the Host header (default host:port) */
  hostHeader?: string
}

export interface LoadFailure {
  /** ms since the load started */
  at: number
  status?: number
  error?: string
}

export interface LoadResult {
  total: number
  ok: number
  failed: number
  failures: LoadFailure[]
  latenciesMs: number[]
  p50: number
  p99: number
  max: number
  /** connections opened: equal to total without keep-alive */
  connections: number
}

export interface Load {
  /** Stops sending, waits for requests in flight, returns the totals. */
  stop(): Promise<LoadResult>
  /** Counts so far, without stopping. */
  snapshot(): { total: number; ok: number; failed: number }
  /** Resolves when the load ends by itself (count or time bound reached) or is stopped. */
  readonly done: Promise<LoadResult>
}

export const LOAD_DEFAULTS = {
  host: '127.0.0.1',
  path: '/',
  concurrency: 8,
  maxDurationMs: 120_000,
  maxRequests: 200_000,
  requestTimeoutMs: 15_000,
} as const

const percentile = (sorted: number[], p: number): number =>
  sorted.length === 0 ? 0 : (sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0)

export const startLoad = (options: LoadOptions): Load => {
  const o = { ...LOAD_DEFAULTS, ...options }
  assertLoopback(o.host)
  const started = Date.now()
  const latencies: number[] = []
  const failures: LoadFailure[] = []
  let sent = 0
  let ok = 0
  let stopping = false
  const timer = setTimeout(() => (stopping = true), o.maxDurationMs)
  timer.unref()
  const agent = o.keepAlive ? new Agent({ keepAlive: true, maxSockets: o.concurrency }) : undefined
  const sockets = new WeakSet<Socket>()
  let connections = 0
  const onSocket = (s: Socket): void => {
    if (!sockets.has(s)) connections++
    sockets.add(s)
  }

  const loop = async (): Promise<void> => {
    while (!stopping && sent < o.maxRequests) {
      sent++
      const t0 = Date.now()
      try {
        const { status } = await httpGet(o.port, o.path, {
          host: o.host,
          timeoutMs: o.requestTimeoutMs,
          onSocket,
          ...(agent ? { agent } : {}),
          ...(o.hostHeader !== undefined ? { hostHeader: o.hostHeader } : {}),
        })
        if (status >= 200 && status < 300) ok++
        else failures.push({ at: t0 - started, status })
      } catch (error) {
        failures.push({ at: t0 - started, error: error instanceof Error ? error.message : String(error) })
      }
      latencies.push(Date.now() - t0)
    }
  }

  const done = Promise.all(Array.from({ length: o.concurrency }, loop)).then((): LoadResult => {
    clearTimeout(timer)
    agent?.destroy()
    const sorted = [...latencies].sort((a, b) => a - b)
    return {
      total: latencies.length,
      ok,
      failed: failures.length,
      failures,
      latenciesMs: latencies,
      p50: percentile(sorted, 50),
      p99: percentile(sorted, 99),
      max: sorted.at(-1) ?? 0,
      connections,
    }
  })

  return {
    done,
    stop: () => {
      stopping = true
      return done
    },
    snapshot: () => ({ total: latencies.length, ok, failed: failures.length }),
  }
}
