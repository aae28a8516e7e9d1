// A state directory that refuses a write: the words (directory, cause, fix), the exit codes, and
// the roll's recorder stopping the roll at the first refused write.
import t from 'tap'
import { EXIT, UsageError } from '../../src/errors.js'
import { StepFailure, interruption } from '../../src/roll/failure.js'
import { describeFault, stateDirFault, type FaultProbe } from '../../src/state/state-fault.js'
import type { RollOutcome } from '../../src/roll/roller.js'

const probe: FaultProbe = {
  freeBytes: () => 8192,
  owner: () => ({ uid: 0, mode: 0o755 }),
  uid: () => 65534,
  userName: (uid) => (uid === 0 ? 'root' : uid === 65534 ? 'nobody' : null),
}
const sysErr = (code: string) => Object.assign(new Error(`${code}: oops, open '/x/.f.tmp'`), { code, syscall: 'open' })

t.test('each fault names its cause and its fix', async (t) => {
  t.match(describeFault('/x', 'ENOSPC', probe), { cause: 'the file system is full (8 KiB free)', fix: /free some space.*--state-dir DIR/ })
  t.match(describeFault('/x', 'EDQUOT', probe), { cause: /disk quota is used up/ })
  t.match(describeFault('/x', 'EROFS', probe), { cause: /read-only file system/, fix: /mount it read-write/ })
  t.match(describeFault('/x', 'EACCES', probe), {
    cause: 'it is owned by root (uid 0) with mode 0755 and rolling-restart runs as nobody (uid 65534)',
    fix: /as the user that owns it.*chown 65534 \/x.*--state-dir DIR/,
  })
  t.match(describeFault('/x', 'ENOENT', probe), { cause: /does not exist/, fix: /mkdir -p \/x/ })
  t.match(describeFault('/x', 'EIO', probe), { cause: /the system said EIO/ })
})

t.test('stateDirFault: exit 3 for the environment, nothing for anything else', async (t) => {
  const f = stateDirFault('/x', sysErr('ENOSPC'), { doing: 'writing /x/g.json', probe })
  t.ok(f)
  t.equal(f?.exitCode, EXIT.TARGET)
  t.equal(f?.code, 'state-dir')
  t.equal(f?.errno, 'ENOSPC')
  t.match(f?.message, /^cannot write the state directory \/x \(writing \/x\/g\.json\): ENOSPC: the file system is full \(8 KiB free\)\. Nothing was touched\. Fix: /)
  t.equal(stateDirFault('/x', new TypeError('a bug')), null, 'a bug is not the environment')
  t.equal(stateDirFault('/x', new UsageError('bad flag')), null, 'nor one of our own errors')
  t.equal(stateDirFault('/x', f), f, 'an already-told fault passes through')
  const later = f?.retold('The roll stopped', EXIT.ABORTED, 'state-write')
  t.equal(later?.exitCode, EXIT.ABORTED)
  t.match(later?.message, /ENOSPC.*\. The roll stopped\. Fix: free some space/)
})

t.test('the abort signal: a StepFailure given as its reason is the reason; anything else is an interruption', async (t) => {
  t.equal(interruption(new StepFailure('state-write', 'full')).reason, 'state-write')
  t.equal(interruption(undefined).reason, 'interrupted')
  t.equal(interruption(new Error('AbortError')).reason, 'interrupted')
})

t.test('the roll recorder: the first refused write stops the roll, later ones are not tried', async (t) => {
  let writes = 0
  let refuse = false
  const { RollRecorder } = await t.mockImport<typeof import('../../src/run/state-guard.js')>('../../src/run/state-guard.js', {
    '../../src/state/state-file.js': {
      probeStateWrite: () => undefined,
      updateState: () => {
        writes++
        if (refuse) throw stateDirFault('/x', sysErr('ENOSPC'), { probe })
      },
    },
  })
  const logged: unknown[] = []
  const out = { logger: { error: (o: unknown) => logged.push(o) } } as never
  const resolved = { target: { server: 'gunicorn', group: 'g', masterPid: 1 } } as never
  const ctrl = new AbortController()
  const r = new RollRecorder({ dir: '/x', resolved, out, interrupt: ctrl.signal })
  t.equal(r.record(() => undefined), true)
  t.equal(r.refusedAtStart(), null)
  refuse = true
  t.equal(r.record(() => undefined), false)
  t.equal(r.signal.aborted, true, 'the roll is told to stop')
  t.equal(interruption(r.signal.reason).reason, 'state-write')
  t.equal(r.record(() => undefined), false)
  t.equal(writes, 2, 'no write after the refused one')
  t.match(logged, [{ event: 'state-write-failed', errno: 'ENOSPC' }])
  t.equal(r.refusedAtStart()?.exitCode, EXIT.TARGET)
  const outcome = {
    ok: false,
    steps: [
      { state: 'ready', oldPid: 11, newPid: 21, status: '200 OK', release: null, signaledAt: 1, readyAt: 2 },
      { state: 'pending', oldPid: 12, newPid: null },
      { state: 'pending', oldPid: 13, newPid: null },
    ],
    aborted: { reason: 'state-write', message: 'full', oldPid: null, newPid: null },
    untouched: [12, 13],
    surplus: 0,
    durationMs: 5,
  } as unknown as RollOutcome
  const stopped = r.stopped(outcome)
  t.equal(stopped?.exitCode, EXIT.ABORTED)
  t.equal(stopped?.code, 'state-write')
  t.match(stopped?.message, /after 1 of 3 workers \(new: 21\); 2 old worker\(s\) were not touched and keep serving \(12, 13\)\. .*not in error-resistance mode/)

  const quiet = new RollRecorder({ dir: '/x', resolved, out })
  refuse = false
  quiet.record(() => undefined)
  t.equal(quiet.stopped(outcome), null, 'no refused write: nothing to say')
  t.equal(ctrl.signal.aborted, false, "the run's own interrupt is not fired by the recorder")
})
