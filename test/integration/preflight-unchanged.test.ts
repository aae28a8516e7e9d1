// The running workers vouch for an unchanged release (issue 15): against real Gunicorn (Debian's
// 20.1), a restart whose workers all passed their probe with exactly the files on disk skips the
// preflight; every way of changing what a new worker would load makes it run again.
import { execFileSync } from 'node:child_process'
import { readFileSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { makeAppDir, swapApp } from '../helpers/apps.js'
import { runCli } from '../helpers/cli.js'
import { startGunicorn } from '../helpers/gunicorn.js'
import { freeUdpPort } from '../helpers/ports.js'
import { tempDir } from '../helpers/tmp.js'

interface Report {
  ok: boolean
  replaced: Array<{ oldPid: number; newPid: number }>
  aborted: { reason: string } | null
  preflight: { ran: boolean; ok: boolean | null; status: string | null; skipped: string | null } | null
}

const SKIPPED = /^preflight not needed: the 2 running workers passed their probe with the code on disk now \(\d+ files and \d+ directories unchanged since they loaded them\); --preflight-always runs it anyway$/

t.test('an unchanged release skips the preflight; an edit, a new module, a broken release or --preflight-always run it', async (t) => {
  const notifyPort = await freeUdpPort()
  const appDir = makeAppDir(t, 'good', { revision: 'r1' })
  const server = await startGunicorn(t, { appDir, workers: 2, name: 'preflight-vouch', notifyPort, env: { BOOT_DELAY: '0.3' } })
  const flags = ['--pidfile', server.pidfile, '--notify', `127.0.0.1:${notifyPort}`, '--state-dir', tempDir(t, 'state'), '--json']
  const roll = async (extra: string[] = []) => {
    const run = await runCli([...flags, ...extra])
    return { ...run, report: run.json as Report }
  }

  // 1. first run, nothing changed since the workers booted: they vouch for it
  const first = await roll()
  t.equal(first.code, 0, { stderr: first.stderr.slice(-1500) })
  t.match(first.report.preflight, { ran: false, ok: null, skipped: SKIPPED })
  t.match(first.stderr, /"event":"preflight-skipped","workers":2/)
  t.equal(first.report.replaced.length, 2, 'and both workers were replaced')

  // 2. --dry-run says the same, and --preflight-always runs it anyway
  const dry = await runCli(['--pidfile', server.pidfile, '--state-dir', tempDir(t, 'dry'), '--dry-run'])
  t.match(dry.stdout, /^preflight: not needed: the 2 running workers/m)
  const always = await roll(['--preflight-always'])
  t.match(always.report.preflight, { ran: true, ok: true, status: '200 OK' })

  // 3. app.py rewritten in place with the same size and its old modification time: the change time shows it
  const app = join(appDir, 'app.py')
  const ref = join(tempDir(t, 'ref'), 'app.py')
  execFileSync('cp', ['-p', app, ref]) // its times, to the nanosecond
  const source = readFileSync(app, 'utf8')
  writeFileSync(app, source.replace('A healthy', 'A HEALTHY'))
  execFileSync('touch', ['-r', ref, app])
  t.equal(statSync(app).size, Buffer.byteLength(source), 'same size')
  t.equal(statSync(app, { bigint: true }).mtimeNs, statSync(ref, { bigint: true }).mtimeNs, 'same modification time')
  const edited = await roll()
  t.match(edited.report.preflight, { ran: true, ok: true })
  t.match(edited.stderr, new RegExp(`preflight needed: ${app} changed since worker \\d+ loaded it \\(its change time\\)`))

  // 4. the new workers loaded the edit: unchanged again
  t.match((await roll()).report.preflight, { ran: false, skipped: SKIPPED })

  // 5. a new module beside app.py (it could shadow an installed one): the directory shows it
  writeFileSync(join(appDir, 'shadow.py'), 'X = 1\n')
  const added = await roll()
  t.match(added.report.preflight, { ran: true, ok: true })
  t.match(added.stderr, new RegExp(`preflight needed: an entry of ${appDir} was added, removed or renamed since worker \\d+ imported from it`))

  // 6. a broken release dropped in: the preflight runs and stops it, no worker touched
  swapApp(appDir, 'crash_on_import', { revision: 'r2' })
  const before = server.workerPids()
  const broken = await roll()
  t.equal(broken.code, 4, { stderr: broken.stderr.slice(-1500) })
  t.match(broken.report.preflight, { ran: true, ok: false, status: /ImportError: crash_on_import/ })
  t.same(server.workerPids(), before, 'no worker touched')
})

t.test('a worker that holds no record (ROLLING_RESTART_LOADED_RECORD=off) cannot vouch: the preflight runs', async (t) => {
  const notifyPort = await freeUdpPort()
  const appDir = makeAppDir(t, 'good', { revision: 'r1' })
  const server = await startGunicorn(t, { appDir, workers: 2, name: 'preflight-norecord', notifyPort, env: { BOOT_DELAY: '0.3', ROLLING_RESTART_LOADED_RECORD: 'off' } })
  const run = await runCli(['--pidfile', server.pidfile, '--notify', `127.0.0.1:${notifyPort}`, '--state-dir', tempDir(t, 'state'), '--json'])
  t.equal(run.code, 0, { stderr: run.stderr.slice(-1500) })
  t.match((run.json as Report).preflight, { ran: true, ok: true })
  t.match(run.stderr, /preflight needed: worker \d+ holds no record of what it loaded/)
})
