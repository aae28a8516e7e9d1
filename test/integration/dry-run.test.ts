// `--dry-run` against a real Gunicorn: the plan is printed, and nothing is touched (no signal, no
// state directory, no lock, no listener).
import t from 'tap'
import { existsSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { makeAppDir } from '../helpers/apps.js'
import { runCli } from '../helpers/cli.js'
import { startGunicorn } from '../helpers/gunicorn.js'
import { freeUdpPort } from '../helpers/ports.js'
import { childrenOf } from '../helpers/procs.js'
import { tempDir } from '../helpers/tmp.js'

t.test('--dry-run prints the plan and touches nothing', async (t) => {
  const notifyPort = await freeUdpPort()
  const server = await startGunicorn(t, { appDir: makeAppDir(t, 'good', { revision: 'r1' }), workers: 3, name: 'dry-run', notifyPort, env: { BOOT_DELAY: '0.2' } })
  const before = childrenOf(server.masterPid).sort()
  const stateDir = join(tempDir(t, 'state'), 'not-made-yet')
  const common = ['--group', 'dry-run', '--notify', `127.0.0.1:${notifyPort}`, '--state-dir', stateDir, '--dry-run']

  const json = await runCli([...common, '--max-workers', '2', '--json'])
  t.equal(json.code, 0, json.stderr.slice(-800))
  const plan = json.json as { dryRun: boolean; selected: number[]; workers: number[]; replaced: unknown[]; strategy: string; batch: number; preflight: { would: string } }
  t.equal(plan.dryRun, true)
  t.equal(plan.workers.length, 3)
  t.equal(plan.selected.length, 2, '--max-workers 2: the two oldest')
  t.same(plan.selected, plan.workers.slice(0, 2), 'oldest first, in the order they would be signalled')
  t.same(plan.replaced, [])
  t.equal(plan.strategy, 'replace')
  t.equal(plan.batch, 1)
  t.ok(['run', 'skip', 'not-needed'].includes(plan.preflight.would), 'says what the preflight would do')

  const text = await runCli(common)
  t.equal(text.code, 0)
  t.match(text.stdout, /^dry run: nothing will be touched\./)
  t.match(text.stdout, /strategy replace, batch 1/)
  t.match(text.stdout, new RegExp(`1\\. worker ${before[0]}`))
  t.match(text.stdout, /preflight: /)

  t.same(childrenOf(server.masterPid).sort(), before, 'every worker is still the one it was: none signalled')
  t.notOk(existsSync(stateDir), 'no state directory made, so no lock and no state file')

  // the port is free: a dry run binds nothing, so a real run right after it can listen
  const real = await runCli(['--group', 'dry-run', '--notify', `127.0.0.1:${notifyPort}`, '--state-dir', stateDir, '--no-preflight', '--max-workers', '1'])
  t.equal(real.code, 0, real.stderr.slice(-800))
  t.ok(readdirSync(stateDir).length > 0, 'the real run did write its state')
})
