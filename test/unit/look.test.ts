// Looking at the workers at O(workers) per transition: the last look stands while the master's
// children stay the same, a reap is taken out without looking at anyone, a fork brings a look at
// the new child alone, a child that may still rename itself is looked at again, and a look before a
// signal re-reads each worker's stat.
import t from 'tap'
import type { ProcInfo, ProcStat } from '../../src/proc/procfs.js'
import { lookAtWorkers, newLook } from '../../src/roll/look.js'
import type { RollRun } from '../../src/roll/types.js'

const MASTER = 1

function table() {
  const procs = new Map<number, ProcStat & { title: string }>()
  let tick = 10_000
  const examined: number[] = []
  let whole = 0
  const add = (pid: number, title = 'worker', startTicks = tick) => procs.set(pid, { pid, comm: 'w', state: 'S', ppid: MASTER, startTicks, title })
  const info = (p: ProcStat & { title: string }): ProcInfo => ({ ...p, argv: [p.title], cmdline: p.title, startedAt: 0 })
  const isWorker = (p: ProcInfo) => p.state !== 'Z' && p.cmdline === 'worker'
  const run = {
    input: {
      target: { masterPid: MASTER },
      adapter: {
        workers: () => {
          whole++
          return [...procs.values()].map(info).filter(isWorker)
        },
        workersAmong: (_t: unknown, children: ProcInfo[]) => {
          examined.push(...children.map((c) => c.pid))
          return children.filter(isWorker)
        },
      },
    },
    proc: {
      readStat: (pid: number) => procs.get(pid) ?? null,
      procInfo: (pid: number) => {
        const p = procs.get(pid)
        return p ? info(p) : null
      },
      bootTick: () => tick,
      childPids: (ppid: number) => (ppid === MASTER ? [...procs.keys()] : []),
    },
    look: newLook(),
  } as unknown as RollRun
  return { procs, run, add, examined, whole: () => whole, later: (ticks: number) => (tick += ticks) }
}

const pids = (ws: ProcInfo[]) => ws.map((w) => w.pid)

t.test('the last look stands while the children stay the same', async (t) => {
  const s = table()
  s.add(101, 'worker', 1)
  s.add(102, 'worker', 2)
  t.same(pids(lookAtWorkers(s.run, false)), [101, 102])
  t.same(pids(lookAtWorkers(s.run, false)), [101, 102])
  t.same(s.examined, [101, 102], 'each child looked at once')
})

t.test('a reap is taken out without a look; a child the list skips is kept while its stat says it is one', async (t) => {
  const s = table()
  s.add(101, 'worker', 1)
  s.add(102, 'worker', 2)
  lookAtWorkers(s.run, false)
  s.procs.delete(101)
  t.same(pids(lookAtWorkers(s.run, false)), [102])
  s.run.proc.childPids = () => [] // 102 missing from the list once, but its stat still names the master
  t.same(pids(lookAtWorkers(s.run, false)), [102], 'kept')
  t.same(s.examined, [101, 102])
})

t.test('a fork brings a look at the new child alone', async (t) => {
  const s = table()
  s.add(101, 'worker', 1)
  lookAtWorkers(s.run, false)
  s.add(103, 'worker')
  t.same(pids(lookAtWorkers(s.run, false)), [101, 103], 'oldest first')
  t.same(s.examined, [101, 103])
})

t.test('a young child the adapter left out is looked at again until it has settled', async (t) => {
  const s = table()
  s.add(101, 'worker', 1)
  s.add(104, 'master') // just forked: still carries the master's title
  t.same(pids(lookAtWorkers(s.run, false)), [101])
  ;(s.procs.get(104) as { title: string }).title = 'worker'
  t.same(pids(lookAtWorkers(s.run, false)), [101, 104], 'renamed: now a worker')
  s.add(105, 'dirty', 1) // an old child that is not a worker (a dirty arbiter): looked at once
  lookAtWorkers(s.run, false)
  lookAtWorkers(s.run, false)
  t.same(s.examined, [101, 104, 104, 105])
})

t.test('before a signal each worker is read again: one that exited and is not reaped is not counted', async (t) => {
  const s = table()
  s.add(101, 'worker', 1)
  s.add(102, 'worker', 2)
  lookAtWorkers(s.run, false)
  ;(s.procs.get(101) as { state: string }).state = 'Z'
  t.same(pids(lookAtWorkers(s.run, false)), [101, 102], 'a zombie stays in a look that stands')
  t.same(pids(lookAtWorkers(s.run, true)), [102], 'not in a verified one')
})

t.test('without a list of children every look is a whole one', async (t) => {
  const s = table()
  s.add(101, 'worker', 1)
  s.run.proc.childPids = undefined
  lookAtWorkers(s.run, false)
  lookAtWorkers(s.run, false)
  t.equal(s.whole(), 2)
  t.same(s.examined, [])
})
