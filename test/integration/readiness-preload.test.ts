// Issue 10: a preloading Gunicorn (preload_app = True) never ends in exit 0 with a claim of new
// code. A plain restart fails its first step on PRELOAD=1 (or, once the tool knows, is refused
// before touching anything); --recycle rolls it and says the code is unchanged.
import t from 'tap'
import { runCli } from '../helpers/cli.js'
import { isAlive } from '../helpers/procs.js'
import { gunicornGroup, rollRelease, type Report } from './readiness-shared.js'

t.test('a preloading master: fail on PRELOAD=1, then refused up front, --recycle says code unchanged', async (t) => {
  // no master record (ROLLING_RESTART_RECORD=off), so that the title really hides the config file: with
  // the record (issue 11) the first run already sees preload_app, as with --server-config below
  const g = await gunicornGroup(t, { name: 'preloaded', workers: 2, preload: true, env: { BOOT_DELAY: '0.3', ROLLING_RESTART_RECORD: 'off' } })
  const { server, flags, stateDir } = g
  // 1. nothing tells the tool yet (the title hides the command line), so the operator must say
  // --no-preflight (issue 11's refusal); the first new worker then says PRELOAD=1
  const { original, run: plain, report } = await rollRelease(g, 'good', 'r2', ['--no-preflight'])
  t.equal(plain.code, 4, 'exit 4, not 0', { stderr: plain.stderr.slice(-2000) })
  t.equal(report.aborted?.reason, 'wrong-release')
  t.match(report.aborted?.message, /reported PRELOAD=1.*brings no new code: pass --recycle/)
  t.same(report.replaced, [], 'no step claims release r2')
  t.notMatch(plain.stderr, /release r2/, 'r2 is printed nowhere')
  t.same(original.filter(isAlive), original.slice(1), 'one worker stopped, the other untouched')

  // 2. the state file now knows this master preloads: a plain run is refused before any worker is touched
  const resume = await runCli(['resume', '--group', 'preloaded', '--state-dir', stateDir])
  t.equal(resume.code, 0)
  const before = server.workerPids()
  const refused = await runCli(flags)
  t.equal(refused.code, 2, 'exit 2 (usage: the fix is on the command line)', { stderr: refused.stderr.slice(-1500) })
  t.match(refused.stderr, /reported PRELOAD=1 at .*brings no new code, so nothing was touched\. For memory recycling \(code unchanged\), pass --recycle/)
  t.same(server.workerPids(), before, 'nothing touched')

  // 3. --recycle: every worker recycled, exit 0, no release claimed; the dry run says so first
  const dry = await runCli([...flags.filter((f) => f !== '--json'), '--recycle', '--dry-run'])
  t.match(dry.stdout, /^preflight: not needed: .*reported PRELOAD=1.*load no code from disk/m, 'the dry run tells the same preflight decision as the run')
  const recycle = await runCli([...flags, '--recycle'])
  t.equal(recycle.code, 0, 'exit 0', { stderr: recycle.stderr.slice(-2000) })
  t.match(recycle.stderr, /preflight not needed: .*reported PRELOAD=1.*load no code from disk/, 'no preflight asked for: the workers fork the master\'s code')
  const r = recycle.json as Report
  t.match(r.message, /2 of 2 workers of .* recycled in .*: recycled, code unchanged \(2 reported PRELOAD=1/)
  t.ok(r.replaced.length === 2 && r.replaced.every((x) => x.release === null), 'no release recorded for a preloaded worker')
  t.same(before.filter(isAlive), [], 'every worker recycled')

  const status = await runCli(['status', '--group', 'preloaded', '--state-dir', stateDir])
  t.match(status.stdout, /preloaded: master's code/, 'status shows what the workers really run')
  t.notMatch(status.stdout, /\br2\b/)
})

t.test('a master whose config says preload_app (--server-config): refused before any worker is touched', async (t) => {
  const { server, flags } = await gunicornGroup(t, { name: 'preload-config', workers: 2, preload: true, env: { BOOT_DELAY: '0.3' } })
  const before = server.workerPids()
  const run = await runCli([...flags, '--server-config', server.confPath])
  t.equal(run.code, 2, { stderr: run.stderr.slice(-1500) })
  t.match(run.stderr, /runs with preload_app \(from the config file .*gunicorn\.conf\.py\).*pass --recycle/)
  t.same(server.workerPids(), before, 'nothing touched')
  const recycle = await runCli([...flags, '--server-config', server.confPath, '--recycle'])
  t.equal(recycle.code, 0, { stderr: recycle.stderr.slice(-1500) })
})
