// Issue 10: a restart of a master known to preload is refused before any worker is touched,
// unless --recycle; what the tool knows comes from the adapter's hazard or an earlier run's PRELOAD=1.
import t from 'tap'
import { UsageError } from '../../src/errors.js'
import { preloadKnown, preloadReported, recordPreload, recycleSkipsPreflight, refusePreloadedRestart } from '../../src/run/preload-guard.js'
import type { Hazard, Target } from '../../src/servers/types.js'
import { emptyState } from '../../src/state/state-file.js'

const target: Target = { server: 'gunicorn', group: 'g', masterPid: 50, masterStartTicks: 777, description: 'Gunicorn master 50 [g]', via: 'group', meta: {} }
const hazard: Hazard = { id: 'preload-app', severity: 'error', message: 'Gunicorn master 50 [g] runs with preload_app (from the config file /x.py)', fix: 'turn it off' }

t.test('what the tool knows about preloading', async (t) => {
  const s = emptyState('k', 'g', 'gunicorn', 50)
  t.equal(preloadKnown([], s, target), null, 'nothing known')
  t.match(preloadKnown([hazard], null, target), /runs with preload_app \(from the config file/, 'from the config or command line')
  recordPreload(s, { reportedBy: 61, masterPid: 50, masterStartTicks: 777, at: '2026-12-01T00:00:00Z' })
  t.match(preloadKnown([], s, target), /^worker 61 of Gunicorn master 50 \[g\] reported PRELOAD=1 at 2026-12-01T00:00:00Z/)
  t.equal(preloadReported(s, { ...target, masterStartTicks: 999 }), null, 'a report by a worker of an earlier master (restarted since) says nothing')
  t.equal(preloadKnown([{ ...hazard, severity: 'warning' }], null, target), null, 'only the hazard of severity error')
})

t.test('a plain restart is refused (exit 2, naming --recycle); --recycle goes ahead', async (t) => {
  t.throws(() => refusePreloadedRestart({ recycle: false }, [hazard], null, target), UsageError)
  try {
    refusePreloadedRestart({ recycle: false }, [hazard], null, target)
  } catch (err) {
    t.equal((err as UsageError).exitCode, 2)
    t.equal((err as UsageError).code, 'preloaded-master')
    t.match((err as Error).message, /brings no new code, so nothing was touched\. For memory recycling \(code unchanged\), pass --recycle/)
  }
  t.doesNotThrow(() => refusePreloadedRestart({ recycle: true }, [hazard], null, target))
  t.doesNotThrow(() => refusePreloadedRestart({ recycle: false }, [], null, target), 'not known to preload: the steps check PRELOAD=1 themselves')
})

t.test('--recycle of a master known to preload needs no preflight; anything else keeps it', async (t) => {
  t.match(recycleSkipsPreflight({ recycle: true }, [hazard], null, target), /^preflight not needed: .*preload_app.*load no code from disk \(--recycle\)$/)
  t.equal(recycleSkipsPreflight({ recycle: false }, [hazard], null, target), null, 'a plain restart (refused anyway) keeps its preflight')
  t.equal(recycleSkipsPreflight({ recycle: true }, [], null, target), null, 'not known to preload: the workers may load new code, so the preflight runs')
})
