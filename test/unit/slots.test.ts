import t from 'tap'
import { nextReplacements, replacementsOf } from '../../src/state/slots.js'
import type { WorkerRecord } from '../../src/state/state-file.js'

const rec = (pid: number, replacedPid: number | null, slotReplacements?: number): WorkerRecord => ({
  pid,
  ready: true,
  replacedPid,
  readyAt: 1,
  readyMs: 10,
  bootMs: 5,
  status: '200 OK',
  release: 'r1',
  root: null,
  ...(slotReplacements !== undefined ? { slotReplacements } : {}),
})

t.test('a slot is the line of workers that replaced each other through this tool', async (t) => {
  t.equal(replacementsOf(undefined), 0, 'no record: never replaced by this tool (or respawned by the server on its own)')
  t.equal(replacementsOf(rec(21, 11, 3)), 3)
  t.equal(replacementsOf(rec(21, 11)), 1, 'a record from before the count: it replaced one worker, so at least 1')
  t.equal(replacementsOf(rec(21, null)), 0)
})

t.test('a new worker counts one more than the worker it replaced', async (t) => {
  const workers = { '21': rec(21, 11, 2), '22': rec(22, 12) }
  t.equal(nextReplacements(workers, 21), 3)
  t.equal(nextReplacements(workers, 22), 2, "from a record without the count")
  t.equal(nextReplacements(workers, 13), 1, 'an original worker (no record): its first replacement')
  t.equal(nextReplacements(workers, null), 1, 'a surge step that names no old worker starts a line at 1')
})
