/**
 * From per-request records to the figures of one scenario: the restart window's counts and
 * latencies, throughput against the steady state before it, and a time series in buckets.
 */
import { isFailure, percentile, type RequestRecord } from '../src/demo/load.js'

export interface Window {
  /** epoch ms: the restart was triggered */
  t0: number
  /** epoch ms: the restart was complete (every new worker ready, every old one gone; or the tool exited) */
  t1: number
}

export interface WindowStats {
  /** requests in flight at some point of the window that got a 2xx */
  served: number
  /** ... that did not: errors, non-2xx, timeouts */
  failed: number
  failures: { timeouts: number; errors: number; non2xx: number }
  /** latency of the requests in flight during the window, every one of them (ms) */
  p50: number
  p99: number
  max: number
  /** 2xx answers per second before the restart (after warm-up) */
  steadyRps: number
  /** 2xx answers per second completed inside the window */
  windowRps: number
  /** windowRps / steadyRps */
  throughputRel: number
  /** the steady state's own latencies, for comparison */
  steadyP50: number
  steadyP99: number
  /** failures over the whole run, window or not */
  failedTotal: number
  requestsTotal: number
}

export interface Bucket {
  /** bucket start, seconds relative to t0 */
  t: number
  /** 2xx answers completed in the bucket, per second */
  rps: number
  /** p99 latency of the answers completed in the bucket (ms), null when none completed */
  p99: number | null
  /** failures completed in the bucket */
  failed: number
}

const end = (r: RequestRecord) => r.start + r.ms

export function windowStats(records: readonly RequestRecord[], w: Window, steadyFrom: number): WindowStats {
  const inFlight = records.filter((r) => r.start < w.t1 && end(r) > w.t0)
  const bad = inFlight.filter(isFailure)
  const lat = inFlight.map((r) => r.ms).sort((a, b) => a - b)
  const steady = records.filter((r) => r.start >= steadyFrom && end(r) <= w.t0)
  const steadyOk = steady.filter((r) => !isFailure(r))
  const steadySpan = Math.max(1, w.t0 - steadyFrom) / 1000
  const steadyRps = steadyOk.length / steadySpan
  const windowOk = records.filter((r) => !isFailure(r) && end(r) >= w.t0 && end(r) <= w.t1).length
  const windowRps = windowOk / Math.max(0.001, (w.t1 - w.t0) / 1000)
  const steadyLat = steady.map((r) => r.ms).sort((a, b) => a - b)
  return {
    served: inFlight.length - bad.length,
    failed: bad.length,
    failures: {
      timeouts: bad.filter((r) => r.error === 'timeout').length,
      errors: bad.filter((r) => r.status === 0 && r.error !== 'timeout').length,
      non2xx: bad.filter((r) => r.status !== 0).length,
    },
    p50: percentile(lat, 50),
    p99: percentile(lat, 99),
    max: lat.at(-1) ?? 0,
    steadyRps: round(steadyRps),
    windowRps: round(windowRps),
    throughputRel: steadyRps > 0 ? round(windowRps / steadyRps, 3) : 0,
    steadyP50: percentile(steadyLat, 50),
    steadyP99: percentile(steadyLat, 99),
    failedTotal: records.filter(isFailure).length,
    requestsTotal: records.length,
  }
}

/** Answers bucketed by completion time, whole buckets from `from` to `to` (epoch ms), times relative to t0. */
export function series(records: readonly RequestRecord[], t0: number, from: number, to: number, bucketMs: number): Bucket[] {
  const n = Math.max(1, Math.floor((to - from) / bucketMs))
  const lat: number[][] = Array.from({ length: n }, () => [])
  const failed = new Array<number>(n).fill(0)
  for (const r of records) {
    const i = Math.floor((end(r) - from) / bucketMs)
    if (i < 0 || i >= n) continue
    if (isFailure(r)) failed[i] = (failed[i] ?? 0) + 1
    else lat[i]?.push(r.ms)
  }
  return lat.map((l, i) => {
    const sorted = l.sort((a, b) => a - b)
    return {
      t: round((from + i * bucketMs - t0) / 1000, 3),
      rps: round(l.length / (bucketMs / 1000)),
      p99: l.length ? percentile(sorted, 99) : null,
      failed: failed[i] ?? 0,
    }
  })
}

export function round(n: number, digits = 1): number {
  const f = 10 ** digits
  return Math.round(n * f) / f
}
