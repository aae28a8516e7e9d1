// The benchmark's arithmetic: what counts as served, failed, in the window, and the time series.
import t from 'tap'
import { series, windowStats } from '../../bench/stats.js'
import { isFailure, percentile, type RequestRecord } from '../../src/demo/load.js'

const ok = (start: number, ms: number): RequestRecord => ({ start, ms, status: 200 })

t.test('percentile is nearest-rank on sorted input', async (t) => {
  const xs = Array.from({ length: 100 }, (_, i) => i + 1)
  t.equal(percentile(xs, 50), 50)
  t.equal(percentile(xs, 99), 99)
  t.equal(percentile(xs, 100), 100)
  t.equal(percentile([], 99), 0)
  t.equal(percentile([7], 50), 7)
})

t.test('failures are errors, timeouts and non-2xx answers', async (t) => {
  t.notOk(isFailure(ok(0, 1)))
  t.ok(isFailure({ start: 0, ms: 1, status: 503 }))
  t.ok(isFailure({ start: 0, ms: 10_000, status: 0, error: 'timeout' }))
  t.ok(isFailure({ start: 0, ms: 1, status: 0, error: 'ECONNRESET' }))
})

t.test('window: requests in flight during the restart, throughput against the steady state', async (t) => {
  const records: RequestRecord[] = []
  // steady state 0..10 s: 10 answers per second, 50 ms each
  for (let s = 0; s < 10_000; s += 100) records.push(ok(s, 50))
  // restart window 10..12 s: 5 answers per second, slower, and one timeout that started inside
  for (let s = 10_000; s < 12_000; s += 200) records.push(ok(s, 150))
  records.push({ start: 11_000, ms: 10_000, status: 0, error: 'timeout' })
  // a request that started before the window and ended inside it counts as in flight
  records.push(ok(9_990, 500))
  const w = windowStats(records, { t0: 10_000, t1: 12_000 }, 1_000)
  t.equal(w.failed, 1)
  t.same(w.failures, { timeouts: 1, errors: 0, non2xx: 0 })
  t.equal(w.served, 11, '10 inside the window plus the one that straddles t0')
  t.equal(w.max, 10_000, 'the timeout is the max latency')
  t.equal(w.steadyRps, 10, 'steady 2xx per second after the warm-up')
  t.ok(w.throughputRel > 0.4 && w.throughputRel < 0.7, `throughput relative to steady: ${w.throughputRel}`)
  t.equal(w.requestsTotal, records.length)
})

t.test('series buckets answers by completion time, relative to the trigger', async (t) => {
  const records = [ok(0, 100), ok(100, 100), { start: 250, ms: 100, status: 500 }, ok(600, 900)]
  const b = series(records, 500, 0, 1000, 250)
  t.equal(b.length, 4)
  t.same(b.map((x) => x.t), [-0.5, -0.25, 0, 0.25])
  t.same(b.map((x) => x.failed), [0, 1, 0, 0])
  t.same(b.map((x) => x.rps), [8, 0, 0, 0], 'two 2xx answers completed in the first 250 ms bucket: 8 per second; the slow one ends after the range')
  t.equal(b[1]?.p99, null, 'no 2xx answer completed in that bucket')
})
