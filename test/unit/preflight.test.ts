// The preflight: reading its verdict, and running the real hook module on fixture apps.
import t from 'tap'
import { copyFileSync, mkdirSync, realpathSync } from 'node:fs'
import { join } from 'node:path'
import { parsePreflightOutput, preflightArgs, runPreflight, tailLines, type PreflightInvocation } from '../../src/preflight/run.js'
import { venvFromMaps } from '../../src/preflight/plan.js'
import { preflightVerdict } from '../../src/preflight/verdict.js'
import { hookPath } from '../../src/paths.js'

const fixtures = new URL('../fixtures/apps/', import.meta.url).pathname

t.test('the verdict lines', async (t) => {
  t.same(parsePreflightOutput('READY=1\nSTATUS=200 OK\nRELEASE=r2\nROOT=/srv/app/releases/r2\n'), {
    ready: true,
    status: '200 OK',
    release: 'r2',
    root: '/srv/app/releases/r2',
  })
  t.same(parsePreflightOutput('noise from the app\nREADY=0\nSTATUS=error: cannot load app:app: ImportError: x\n'), {
    ready: false,
    status: 'error: cannot load app:app: ImportError: x',
    release: null,
    root: null,
  })
  t.equal(parsePreflightOutput(''), null, 'no READY line: it did not start')
  t.equal(parsePreflightOutput('READY=yes\n'), null)
  t.same(tailLines('a\n\nb\nc  \n\n', 2), ['b', 'c'])
  t.same(preflightArgs({ python: 'p', spec: 'app:app', chdir: '/d', pythonpath: ['/x'], env: {}, timeoutMs: 90_500 }), [
    '-m',
    'rolling_restart_hook.preflight',
    'app:app',
    '--chdir',
    '/d',
    '--pythonpath',
    '/x',
    '--import-timeout',
    '90',
  ])
})

t.test('a virtualenv is found from the extension modules the master has mapped', async (t) => {
  const exists = (p: string) => ['/srv/venv/pyvenv.cfg', '/srv/venv/bin/python'].includes(p)
  t.equal(venvFromMaps(['/usr/lib/x86_64-linux-gnu/libc.so.6', '/srv/venv/lib/python3.11/site-packages/setproctitle/_setproctitle.so'], exists), '/srv/venv/bin/python')
  t.equal(venvFromMaps(['/usr/lib/python3/dist-packages/setproctitle/_setproctitle.so'], exists), null, 'the system Python has no pyvenv.cfg')
  t.equal(venvFromMaps(['/opt/other/lib/python3.11/site-packages/x.so'], exists), null)
})

function appDir(t: Tap.Test, fixture: string): string {
  const dir = realpathSync(t.testdir({}))
  mkdirSync(join(dir, 'r1'))
  copyFileSync(join(fixtures, `${fixture}.py`), join(dir, 'r1', 'app.py'))
  copyFileSync(join(fixtures, '_common.py'), join(dir, 'r1', '_common.py'))
  return join(dir, 'r1')
}

function invocation(chdir: string, extra: Partial<PreflightInvocation> = {}): PreflightInvocation {
  return {
    python: '/usr/bin/python3',
    spec: 'app:app',
    chdir,
    pythonpath: [],
    env: { PATH: '/usr/bin:/bin', PYTHONPATH: hookPath(), PYTHONDONTWRITEBYTECODE: '1', BOOT_DELAY: '0', ROLLING_RESTART_RELEASE: 'r1' },
    timeoutMs: 30_000,
    ...extra,
  }
}

const plan = (inv: PreflightInvocation) => ({ kind: 'run' as const, invocation: inv, sources: { spec: 'test', python: 'test', env: 'test', chdir: 'test' } })

t.test('a good app: ok, with its release and real directory', async (t) => {
  const dir = appDir(t, 'good')
  const inv = invocation(dir)
  const r = await runPreflight(inv)
  t.equal(r.ok, true, r.stderrTail.join('\n'))
  t.equal(r.exitCode, 0)
  t.same(r.fields, { ready: true, status: '200 OK', release: 'r1', root: dir })
  const v = preflightVerdict(plan(inv), r)
  t.equal(v.failure, null)
  t.match(v.report, { ran: true, ok: true, status: '200 OK', release: 'r1', spec: 'app:app', chdir: dir, exitCode: 0, skipped: null })
})

t.test('an app that raises on import: exit 2, a release failure quoting the traceback', async (t) => {
  const inv = invocation(appDir(t, 'crash_on_import'))
  const r = await runPreflight(inv)
  t.equal(r.exitCode, 2)
  t.equal(r.started, true)
  t.equal(r.ok, false)
  const v = preflightVerdict(plan(inv), r)
  t.equal(v.failure?.kind, 'release')
  t.match(v.failure?.message, /could not load the app: STATUS=error: cannot load app:app: ImportError: crash_on_import.*last lines of its output:.*raise ImportError/s)
})

t.test('an app whose status page fails: exit 1', async (t) => {
  const inv = invocation(appDir(t, 'status_500'))
  const r = await runPreflight(inv)
  t.equal(r.exitCode, 1)
  const v = preflightVerdict(plan(inv), r)
  t.equal(v.failure?.kind, 'release')
  t.match(v.failure?.message, /loaded the app, but its status page failed: STATUS=500 Internal Server Error/)
  t.equal(v.report.status, '500 Internal Server Error')
})

t.test('an app that hangs on import is stopped by the timeout', async (t) => {
  const inv = invocation(appDir(t, 'hang_on_import'), { timeoutMs: 1_000 })
  const started = Date.now()
  const r = await runPreflight(inv)
  t.ok(Date.now() - started < 15_000, 'it did not wait for the app')
  t.equal(r.ok, false)
  const v = preflightVerdict(plan(inv), r)
  t.equal(v.failure?.kind, 'release')
  t.match(v.failure?.message, /took longer than|did not finish within/)
})

t.test('a preflight that cannot start is not blamed on the release', async (t) => {
  const dir = appDir(t, 'good')
  const noHook = invocation(dir, { env: { PATH: '/usr/bin:/bin', PYTHONDONTWRITEBYTECODE: '1' } })
  const r = await runPreflight(noHook)
  t.equal(r.started, false, 'no READY line')
  const v = preflightVerdict(plan(noHook), r)
  t.equal(v.failure?.kind, 'could-not-run')
  t.match(v.failure?.message, /No module named 'rolling_restart_hook'.*says nothing about the release.*--no-preflight/s)

  const noPython = invocation(dir, { python: '/nonexistent/python3' })
  const r2 = await runPreflight(noPython)
  t.equal(r2.spawnError !== null, true)
  t.match(preflightVerdict(plan(noPython), r2).failure, { kind: 'could-not-run', message: /could not start \/nonexistent\/python3: ENOENT/ })
})
