// A round of a wait watches the accepted replacements at O(1) reads while nothing changes: one the
// master stops listing is checked at once, one that exited and is not reaped yet within a second,
// and every one of them before a signal.
import t from 'tap'
import type { ProcStat } from '../../src/proc/procfs.js'
import { newLook } from '../../src/roll/look.js'
import { newRecords } from '../../src/roll/records.js'
import type { RollRun } from '../../src/roll/types.js'
import { ensureMaster, watchRound } from '../../src/roll/watch.js'

const MASTER = 1

function accepted(pids: number[]) {
  const procs = new Map<number, ProcStat>([[MASTER, { pid: MASTER, comm: 'm', state: 'S', ppid: 0, startTicks: 5 }]])
  for (const pid of pids) procs.set(pid, { pid, comm: 'w', state: 'S', ppid: MASTER, startTicks: 50 })
  const records = newRecords([11, 12], [11, 12])
  records.steps.forEach((s, i) => Object.assign(s, { state: 'ready', newPid: pids[i], newStartTicks: 50, readyAt: Date.now() }))
  let reads = 0
  const aborted: string[] = []
  const run = {
    input: {
      target: { masterPid: MASTER, masterStartTicks: 5, description: 'master 1' },
      adapter: { label: 'Sim', masterGoneHint: () => '' },
      emit: () => undefined,
    },
    proc: {
      isSameProcess: (pid: number, ticks: number) => {
        if (pid !== MASTER) reads++
        const s = procs.get(pid)
        return s !== undefined && s.state !== 'Z' && s.startTicks === ticks
      },
      bootTick: () => 100,
      childPids: () => [...procs.keys()].filter((p) => p !== MASTER),
    },
    records,
    look: newLook(),
    logMark: null,
    abort: (f: { reason: string }) => aborted.push(f.reason),
  } as unknown as RollRun
  return { procs, run, reads: () => reads, aborted }
}

t.test('nothing changed: no accepted replacement is read again before a second', async (t) => {
  const s = accepted([101, 102])
  watchRound(s.run)
  t.equal(s.reads(), 2, 'the first round checks every one')
  watchRound(s.run)
  watchRound(s.run)
  t.equal(s.reads(), 2, 'the next rounds read none')
  s.run.look.checkedAt -= 900
  watchRound(s.run)
  t.equal(s.reads(), 2, 'nor after 900 ms')
  s.run.look.checkedAt -= 200
  watchRound(s.run)
  t.equal(s.reads(), 4, 'every one again after a second')
})

t.test('one the master no longer lists is checked at once: died after READY', async (t) => {
  const s = accepted([101, 102])
  watchRound(s.run)
  s.procs.delete(102)
  t.throws(() => watchRound(s.run), { reason: 'died-after-ready' })
  t.same(s.aborted, ['died-after-ready'])
  t.equal(s.reads(), 3, 'only the missing one was read')
})

t.test('one that exited and is not reaped: found within a second, and before any signal', async (t) => {
  const s = accepted([101, 102])
  watchRound(s.run)
  ;(s.procs.get(101) as { state: string }).state = 'Z'
  t.doesNotThrow(() => watchRound(s.run), 'still listed by its master: not read this round')
  t.throws(() => ensureMaster(s.run), { reason: 'died-after-ready' }, 'the check before a signal reads every one')
})
