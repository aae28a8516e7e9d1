import t from 'tap'
import { isOldestPrefix, oldestFirst, selectWorkers, type WorkerView } from '../../src/roll/plan.js'

const now = 1_000_000_000
const MiB = 1024 * 1024
const workers: WorkerView[] = [
  { pid: 30, startedAt: now - 1_000, rssBytes: 900 * MiB }, // young, fat
  { pid: 10, startedAt: now - 50_000_000, rssBytes: 100 * MiB }, // oldest
  { pid: 20, startedAt: now - 20_000_000, rssBytes: 600 * MiB },
  { pid: 40, startedAt: now - 20_000_000, rssBytes: 200 * MiB }, // same start as 20: pid breaks the tie
]

t.test('no criteria: every worker, oldest first', async (t) => {
  const s = selectWorkers(workers, {}, now)
  t.same(s.selected.map((w) => w.pid), [10, 20, 40, 30])
  t.same(s.skipped, [])
})

t.test('--older-than keeps only workers running longer than the duration', async (t) => {
  const s = selectWorkers(workers, { olderThanMs: 12 * 3_600_000 }, now)
  t.same(s.selected.map((w) => w.pid), [10])
  t.same(s.skipped.map((x) => x.pid), [20, 40, 30])
  t.match(s.skipped[0]?.why, /not older than/)
})

t.test('--rss-above picks the fat ones, whatever their age', async (t) => {
  const s = selectWorkers(workers, { rssAboveBytes: 512 * MiB }, now)
  t.same(s.selected.map((w) => w.pid), [20, 30])
})

t.test('--rss-above skips workers whose memory is unknown', async (t) => {
  const s = selectWorkers([{ pid: 1, startedAt: 0 }], { rssAboveBytes: 1 }, now)
  t.same(s.selected, [])
  t.match(s.skipped[0]?.why, /unknown/)
})

t.test('--max-workers caps the run, oldest first', async (t) => {
  const s = selectWorkers(workers, { maxWorkers: 2 }, now)
  t.same(s.selected.map((w) => w.pid), [10, 20])
  t.match(s.skipped.find((x) => x.pid === 40)?.why, /--max-workers 2/)
})

t.test('criteria combine', async (t) => {
  const s = selectWorkers(workers, { olderThanMs: 1_000_000, rssAboveBytes: 150 * MiB, maxWorkers: 1 }, now)
  t.same(s.selected.map((w) => w.pid), [20])
})

t.test('nothing selected is an empty selection, not an error', async (t) => {
  const s = selectWorkers(workers, { olderThanMs: 100 * 86_400_000 }, now)
  t.equal(s.selected.length, 0)
  t.equal(s.skipped.length, 4)
})

t.test('surge can only honour the oldest k', async (t) => {
  const all = oldestFirst(workers)
  t.ok(isOldestPrefix(workers, all.slice(0, 2)))
  t.ok(isOldestPrefix(workers, []))
  t.notOk(isOldestPrefix(workers, [all[1] as WorkerView]))
  t.notOk(isOldestPrefix(workers, selectWorkers(workers, { rssAboveBytes: 512 * MiB }, now).selected))
})
