// Failures told as they are (issue 11, item 3): a failed new worker that takes requests, a master
// that exited for a reason other than a broken release, a run killed in the middle of a roll.
import t from 'tap'
import { renderStatus, type StatusReport } from '../../src/commands/status.js'
import { afterRollbackNote, failingInState, failingWorkers, releaseRootOf, tellFailing } from '../../src/run/failing-workers.js'
import { unfinishedRunNote } from '../../src/run/killed-run.js'
import { masterExitFromLog, stopLine } from '../../src/servers/gunicorn/master-gone.js'
import { emptyState } from '../../src/state/state-file.js'
import type { StepRecord } from '../../src/roll/records.js'

const step = (o: Partial<StepRecord>): StepRecord =>
  ({ index: 1, oldPid: 11, state: 'failed', newPid: 21, status: '500 Internal Server Error', release: 'r2', claimedAt: 5, ...o }) as StepRecord

t.test('failing workers: a claimed datagram that said the check failed, from a worker still alive', async (t) => {
  const steps = [
    step({}),
    step({ newPid: 22, status: 'error: RuntimeError: boom', release: null }),
    step({ newPid: 23, status: '200 OK' }), // wrong release: runs old code, not a failed check
    step({ newPid: 24, claimedAt: null, status: null }), // never reported (timeout)
    step({ newPid: 25, state: 'ready', status: '200 OK' }),
    step({ newPid: 26 }), // failed its check, but has died since
    step({ newPid: 27, status: 'boot failed: ImportError: x (exit status 3: ...)' }), // never loaded the app: never took a request
  ]
  const alive = (pid: number) => pid !== 26
  t.same(failingWorkers({ steps }, alive), [
    { pid: 21, release: 'r2', status: '500 Internal Server Error', serving: true },
    { pid: 22, release: null, status: 'error: RuntimeError: boom', serving: true },
  ])
})

t.test('the sentence names the worker, what it runs, its check, that it takes requests, and what to do', async (t) => {
  const one = [{ pid: 21, release: 'r2', status: '500 Internal Server Error', serving: true }]
  t.equal(
    tellFailing(one, '--group app', null),
    'Worker 21 runs release r2, failed its check (500 Internal Server Error), and is taking requests. ' +
      'To stop serving it, fix the release (or put the old code back), then `rolling-restart resume --group app` and run again: the next run replaces it too.',
  )
  t.match(tellFailing(one, '--group app', '/srv/app'), /roll back with `rolling-restart rollback --root \/srv\/app --group app`, or fix the release/)
  const two = [...one, { pid: 22, release: null, status: null, serving: true }]
  t.match(tellFailing(two, '--group app', null), /^Worker 21 runs release r2, failed its check \(500 Internal Server Error\); and worker 22 runs the new code, failed its check \(no status\), and are taking requests\./)
  t.equal(tellFailing([], '--group app', null), '')
})

t.test('after a deploy rolled back: the failing worker it restarted, and any it could not', async (t) => {
  const run = { flags: { group: 'app' }, prior: null, layout: { root: '/srv/app' } }
  const failing = [{ pid: 21, release: 'bad', status: '500 Internal Server Error', serving: true }]
  t.equal(afterRollbackNote(failing, [], 'r1', run), ' Worker 21, which ran bad and failed its check (500 Internal Server Error), was restarted on r1 by the rollback.')
  t.match(afterRollbackNote(failing, failing, 'r1', run), /^ Worker 21 runs release bad, failed its check .*taking requests\. .*rolling-restart rollback --root \/srv\/app --group app/)
})

t.test('status: the state file knows the failed new worker; the text says so', async (t) => {
  const s = emptyState('k', 'app', 'gunicorn', 1)
  s.workers['21'] = { pid: 21, ready: false, replacedPid: 11, readyAt: 1, readyMs: null, bootMs: 5, status: '500 Internal Server Error', release: 'r2', root: null }
  s.workers['22'] = { pid: 22, ready: true, replacedPid: 12, readyAt: 1, readyMs: 9, bootMs: 5, status: '200 OK', release: 'r2', root: null }
  s.releases.history.push({ release: 'r2', at: 'x', action: 'deploy', root: '/srv/app' })
  t.same(failingInState(s, new Set([21, 22])), [{ pid: 21, release: 'r2', status: '500 Internal Server Error', serving: true }])
  t.same(failingInState(s, new Set([22])), [], 'not when it has gone')
  t.equal(releaseRootOf(s), '/srv/app')
  const failing = failingInState(s, new Set([21, 22]))
  const r: StatusReport = {
    group: 'app',
    server: 'gunicorn',
    masterPid: 1,
    mode: 'error-resistance',
    detail: 'not-ready: ...',
    errorResistance: null,
    surplus: 0,
    lastRun: null,
    workers: [{ pid: 21, uptimeMs: 5000, cpuPercent: null, rssBytes: null, release: 'r2', role: 'failed' }],
    failing,
    attention: tellFailing(failing, '--group app', '/srv/app'),
  }
  const out = renderStatus(r)
  t.match(out, /Attention: Worker 21 runs release r2, failed its check \(500 Internal Server Error\), and is taking requests\. To stop serving it, roll back/)
  t.match(out, /21 +5s +- +- +r2 +failed, serving/)
})

t.test("the master's end, from its log: only a boot failure is the release's", async (t) => {
  const boot = [
    '[2026-12-01 09:04:38 +0000] [30970] [ERROR] Exception in worker process',
    'Traceback (most recent call last):',
    '  File "/tmp/r11/bad.py", line 1, in <module>',
    'ImportError: boom at import',
    '[2026-12-01 09:04:38 +0000] [30970] [INFO] Worker exiting (pid: 30970)',
    '[2026-12-01 09:04:38 +0000] [30958] [INFO] Shutting down: Master',
    '[2026-12-01 09:04:38 +0000] [30958] [INFO] Reason: Worker failed to boot.',
  ].join('\n')
  t.same(masterExitFromLog(boot, 30958), { kind: 'boot-failure', reason: 'Worker failed to boot.', status: 3, error: 'ImportError: boom at import' })
  t.match(masterExitFromLog(boot.replace('Worker failed to boot.', 'App failed to load.'), 30958), { status: 4 })
  t.same(masterExitFromLog(boot, 999), { kind: 'silent' }, "another master's lines are not this one's")
  const term = '[x] [30972] [INFO] Booting worker with pid: 30974\n[x] [30972] [INFO] Handling signal: term\n[x] [30972] [INFO] Shutting down: Master\n'
  t.same(masterExitFromLog(term, 30972), { kind: 'stopped', signal: 'SIGTERM' })
  t.same(masterExitFromLog('[x] [30972] [INFO] Booting worker with pid: 30974\n', 30972), { kind: 'silent' }, 'SIGKILL leaves nothing')
  t.equal(stopLine(term, 30972), '[x] [30972] [INFO] Handling signal: term', 'a master told to stop: its workers exit with it')
  t.equal(stopLine(term, 30974), null, "another process's lines are not the master's")
  t.equal(stopLine('[x] [30972] [INFO] Handling signal: hup\n', 30972), null, 'a reload is not a stop')
  // a surge step's ttin, or a reload's hup, then SIGKILL: the master was not stopped, it was killed
  for (const sig of ['ttin', 'ttou', 'hup', 'usr2']) {
    const killed = `[x] [30972] [INFO] Booting worker with pid: 30974\n[x] [30972] [INFO] Handling signal: ${sig}\n`
    t.same(masterExitFromLog(killed, 30972), { kind: 'silent' }, `"Handling signal: ${sig}" is not a stop`)
  }
})

t.test('a run killed mid-roll: the next run says what it left', async (t) => {
  const s = emptyState('k', 'app', 'gunicorn', 1)
  s.roll = { runPid: 77, startedAt: '2026-12-01T09:00:00Z', strategy: 'replace', total: 4, done: 1, inFlight: [12], oldPids: [11, 12, 13, 14] }
  const holder = { pid: 77, startTicks: 1, since: 'then', command: 'rolling-restart' }
  t.equal(
    unfinishedRunNote(s, new Set([21, 13, 14, 30]), holder),
    'the previous run (pid 77, started 2026-12-01T09:00:00Z) was killed (it left its lock behind) at step 2 of 4, after 1 replaced: ' +
      '2 worker(s) still run the code from before it (13, 14); it was replacing 12. This run starts from the workers there are now',
  )
  t.match(unfinishedRunNote(s, new Set([13]), null), /did not finish \(killed, or stopped before it could record its end\)/)
  t.equal(unfinishedRunNote(emptyState('k', 'app', 'gunicorn', 1), new Set(), null), null, 'the last run finished')
  t.match(unfinishedRunNote(null, new Set(), holder), /died holding the lock before it signalled any worker/)
})
