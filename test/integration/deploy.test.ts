// deploy / rollback against real Gunicorn (Debian's 20.1) run from a `current` symlink:
//   ROOT/releases/NAME, ROOT/current -> releases/NAME, Gunicorn's chdir = ROOT/current.
import t from 'tap'
import { copyFileSync, mkdirSync, readdirSync, readFileSync, readlinkSync, symlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { runCli } from '../helpers/cli.js'
import { startGunicorn } from '../helpers/gunicorn.js'
import { httpGet } from '../helpers/http.js'
import { startLoad } from '../helpers/load.js'
import { fixturesDir, hooksDir } from '../helpers/paths.js'
import { freeUdpPort } from '../helpers/ports.js'
import { isAlive } from '../helpers/procs.js'
import { tempDir } from '../helpers/tmp.js'

/**
 * A release's app. `/` answers the release this worker *imported* (read at import from the REVISION
 * next to the real file), not what `current` points at when the request comes: so a worker still
 * running old code cannot hide behind the symlink.
 */
const releaseApp = (statusFails: boolean) => `"""A release for the deploy tests."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _common  # noqa: E402

with open(os.path.join(os.path.dirname(os.path.realpath(__file__)), "REVISION")) as handle:
    LOADED = handle.readline().strip()
_common.release = lambda: LOADED


def status(environ):
    return ("500 Internal Server Error", "release broken") if ${statusFails ? 'True' : 'False'} else ("200 OK", "ok")


_common.boot(0.5)
application = _common.make_app(status)
app = application
`

function makeRoot(t: Tap.Test, releases: Record<string, 'good' | 'status-fails'>, current: string): string {
  const root = tempDir(t, 'deploy')
  mkdirSync(join(root, 'releases'))
  for (const [name, kind] of Object.entries(releases)) addRelease(root, name, kind)
  symlinkCurrent(root, current)
  return root
}

function addRelease(root: string, name: string, kind: 'good' | 'status-fails'): void {
  const dir = join(root, 'releases', name)
  mkdirSync(dir)
  writeFileSync(join(dir, 'app.py'), releaseApp(kind === 'status-fails'))
  copyFileSync(join(fixturesDir, '_common.py'), join(dir, '_common.py'))
  writeFileSync(join(dir, 'REVISION'), `${name}\n`)
}

function symlinkCurrent(root: string, name: string): void {
  symlinkSync(`releases/${name}`, join(root, 'current'))
}

interface Replaced {
  oldPid: number
  newPid: number
  release: string | null
}
interface DeployReport {
  ok: boolean
  failing: unknown[]
  replaced: Replaced[]
  aborted: { reason: string; message: string; oldPid: number | null } | null
  errorResistance: boolean
  untouched: number[]
  message: string
  preflight: { ran: boolean; ok: boolean | null; release: string | null; root: string | null } | null
  deploy: {
    action: string
    release: string
    previous: string | null
    swapped: boolean
    current: string | null
    rolledBack: boolean
    rollback: { ok: boolean; current: string | null; replaced: Replaced[]; message: string } | null
    pruned: string[]
  }
}

/** GET / `n` times (new connection each): the release each answering worker imported, by pid. */
async function servedReleases(port: number, n = 24): Promise<Map<number, string>> {
  const seen = new Map<number, string>()
  for (let i = 0; i < n; i++) {
    const r = await httpGet(port, '/')
    const m = /^ok pid=(\d+) release=(\S+)/.exec(r.body)
    if (r.status !== 200 || !m) throw new Error(`GET / answered ${r.status} ${r.body}`)
    seen.set(Number(m[1]), m[2] as string)
  }
  return seen
}

async function setup(t: Tap.Test, name: string, releases: Record<string, 'good' | 'status-fails'>, current: string, appDirOf: (root: string) => string, env: Record<string, string> = {}) {
  const root = makeRoot(t, releases, current)
  const notifyPort = await freeUdpPort()
  // The working configuration (docs/deploy.md): chdir = the app directory (the helper writes it into
  // the config), and that directory NOT on PYTHONPATH: Gunicorn would then leave it behind the real
  // directory it was started in (see gunicornImportOrder in src/release/layout.ts).
  const server = await startGunicorn(t, { appDir: appDirOf(root), workers: 3, name, notifyPort, env: { BOOT_DELAY: '0.5', PYTHONPATH: hooksDir, ...env } })
  const stateDir = tempDir(t, 'state')
  const target = ['--pidfile', server.pidfile, '--notify', `127.0.0.1:${notifyPort}`, '--state-dir', stateDir]
  return { root, server, stateDir, target }
}

t.test('deploy, a failed deploy rolled back, rollback, --keep: every worker ends on the expected release', async (t) => {
  const { root, server, stateDir, target } = await setup(t, 'deploy-main', { r1: 'good', r2: 'good', bad: 'status-fails', r3: 'good' }, 'r1', (r) => join(r, 'current'))
  const flags = [...target, '--root', root, '--server-config', server.confPath, '--preflight-app', 'app:app', '--json']
  t.same([...(await servedReleases(server.port)).values()].every((r) => r === 'r1'), true, 'the server starts on r1')

  // 1. a good release, under load
  const load = startLoad({ port: server.port, concurrency: 4, maxDurationMs: 60_000 })
  const good = await runCli(['deploy', ...flags, '--release', 'r2'])
  const traffic = await load.stop()
  t.equal(good.code, 0, 'deploy r2: exit 0', { stderr: good.stderr.slice(-2000) })
  const r2 = good.json as DeployReport
  t.match(r2.deploy, { action: 'deploy', release: 'r2', previous: 'r1', swapped: true, current: 'releases/r2', rolledBack: false })
  t.match(r2.preflight, { ran: true, ok: true, release: 'r2', root: join(root, 'releases', 'r2') }, 'the preflight loaded the new release from its own directory')
  t.equal(r2.replaced.length, 3)
  t.ok(r2.replaced.every((w) => w.release === 'r2'), 'every new worker reported r2 in its datagram')
  t.equal(readlinkSync(join(root, 'current')), 'releases/r2')
  t.same(server.workerPids().sort(), r2.replaced.map((w) => w.newPid).sort(), 'the workers now are the reported ones')
  const afterGood = await servedReleases(server.port)
  t.same([...new Set(afterGood.values())], ['r2'], 'and they serve r2')
  t.equal(traffic.failed, 0, `no failed request during the deploy (${traffic.total} requests)`)

  // 2. a release whose /_status fails: current goes back to r2 and only r2 serves
  const workersOnR2 = server.workerPids()
  const bad = await runCli(['deploy', ...flags, '--release', 'bad', '--no-preflight'])
  t.equal(bad.code, 4, 'deploy bad: exit 4', { stderr: bad.stderr.slice(-2500) })
  const b = bad.json as DeployReport
  t.equal(b.aborted?.reason, 'not-ready')
  t.equal(b.aborted?.oldPid, workersOnR2[0], 'the first step failed')
  t.equal(b.errorResistance, true)
  t.match(b.deploy, { release: 'bad', previous: 'r2', swapped: true, rolledBack: true, current: 'releases/r2' })
  t.equal(readlinkSync(join(root, 'current')), 'releases/r2', 'current points back to r2')
  t.equal(b.deploy.rollback?.ok, true, b.deploy.rollback?.message)
  t.equal(b.deploy.rollback?.replaced.length, 1, 'the one worker that had loaded bad was restarted')
  t.ok(b.deploy.rollback?.replaced.every((w) => w.release === 'r2'), 'and its replacement reported r2')
  t.match(b.message, /deploy of bad failed.*READY=0.*Rolled back: .*current points to releases\/r2 again.*every worker now runs r2.*error-resistance mode/s)
  // issue 11: the failed new worker, which took requests with `bad`, is said to be restarted on r2
  t.match(b.message, /Worker \d+, which ran bad and failed its check \(500 Internal Server Error\), was restarted on r2 by the rollback\./)
  t.same(b.failing, [], 'no failing worker is left serving')
  const now = server.workerPids()
  t.equal(now.length, 3)
  t.same(now.filter((p) => workersOnR2.includes(p)).sort(), workersOnR2.slice(1).sort(), 'the two untouched r2 workers kept running')
  const afterBad = await servedReleases(server.port, 30)
  t.same([...new Set(afterBad.values())], ['r2'], 'every answer comes from r2 code')
  t.ok([...afterBad.keys()].every((p) => now.includes(p)))
  const status = await runCli(['status', '--pidfile', server.pidfile, '--state-dir', stateDir, '--json'])
  const st = status.json as { mode: string; workers: Array<{ pid: number; release: string | null }> }
  t.equal(st.mode, 'error-resistance')
  t.same(st.workers.map((w) => w.release), ['r2', 'r2', 'r2'], 'status: every worker reported r2')
  t.ok(isAlive(server.masterPid))

  // 3. resume, then rollback: back to r1 (the history says r2 followed r1)
  t.equal((await runCli(['resume', '--pidfile', server.pidfile, '--state-dir', stateDir])).code, 0)
  const back = await runCli(['rollback', ...flags])
  t.equal(back.code, 0, 'rollback: exit 0', { stderr: back.stderr.slice(-2000) })
  const rb = back.json as DeployReport
  t.match(rb.deploy, { action: 'rollback', release: 'r1', previous: 'r2', current: 'releases/r1' })
  t.ok(rb.replaced.length === 3 && rb.replaced.every((w) => w.release === 'r1'))
  t.same([...new Set((await servedReleases(server.port)).values())], ['r1'])

  // 4. deploy r3 with --keep 2: r3 live, r1 previous; r2 (once live) goes; `bad` never went live and stays
  const keep = await runCli(['deploy', ...flags, '--release', 'r3', '--keep', '2'])
  t.equal(keep.code, 0, { stderr: keep.stderr.slice(-2000) })
  t.same((keep.json as DeployReport).deploy.pruned, ['r2'])
  t.same(readdirSync(join(root, 'releases')).sort(), ['bad', 'r1', 'r3'])
  const state = JSON.parse(readFileSync(join(stateDir, 'gunicorn--deploy-main.json'), 'utf8')) as { releases: { history: Array<{ release: string; action: string }> } }
  t.same(
    state.releases.history.map((e) => [e.release, e.action]),
    [
      ['r1', 'found'],
      ['r2', 'deploy'],
      ['r1', 'rollback'],
      ['r3', 'deploy'],
    ],
    'the state file keeps the release history (r1 was found live by the first deploy); the failed deploy is not in it',
  )

  // 5. input errors name the flag
  const missing = await runCli(['deploy', ...flags, '--release', 'nope'])
  t.equal(missing.code, 2)
  t.match(missing.stderr, new RegExp(`--release nope: ${root}/releases/nope is not a directory`))
})

t.test('Gunicorn importing from a release directory instead of current: the release check stops the deploy; doctor and deploy then name it', async (t) => {
  // chdir = ROOT/releases/r1 (the real path), as a server started with a resolved path would have
  // no master record (ROLLING_RESTART_RECORD=off): with it, the chdir is visible from the first run and
  // deploy refuses up front, as it does below with --server-config
  const { root, server, stateDir, target } = await setup(t, 'deploy-stale', { r1: 'good', r2: 'good' }, 'r1', (r) => join(r, 'releases', 'r1'), { ROLLING_RESTART_RECORD: 'off' })
  const flags = [...target, '--root', root, '--json', '--no-preflight']
  const before = server.workerPids()

  // without the config file the chdir is not visible: nothing stops the deploy up front, but the first new worker reports r1
  const run = await runCli(['deploy', ...flags, '--release', 'r2'])
  t.equal(run.code, 4, { stderr: run.stderr.slice(-2000) })
  const r = run.json as DeployReport
  t.equal(r.aborted?.reason, 'wrong-release')
  t.match(r.aborted?.message, /runs the code in .*releases\/r1.*not release r2.*Likely cause/s)
  t.equal(r.aborted?.oldPid, before[0], 'it failed the first step')
  t.equal(readlinkSync(join(root, 'current')), 'releases/r1', 'current is back on r1')
  t.equal(r.deploy.rollback?.ok, true, r.deploy.rollback?.message)
  t.same([...new Set((await servedReleases(server.port)).values())], ['r1'])
  await runCli(['resume', '--pidfile', server.pidfile, '--state-dir', stateDir])

  // with the config file, doctor sees the chdir and says why
  const doctor = await runCli(['doctor', '--pidfile', server.pidfile, '--state-dir', stateDir, '--server-config', server.confPath, '--root', root, '--json'])
  t.equal(doctor.code, 6, 'doctor: exit 6 (hazards found)', { stdout: doctor.stdout })
  const hazards = (doctor.json as { hazards: Array<{ id: string; severity: string; message: string; fix: string }> }).hazards
  const stale = hazards.find((h) => h.id === 'stale-cwd')
  t.match(stale, { severity: 'error', message: /imports the app from .*releases\/r1 .*not through .*current/, fix: /chdir = '.*current'/ })

  // and deploy refuses before touching anything
  const workers = server.workerPids()
  const refused = await runCli(['deploy', ...flags, '--server-config', server.confPath, '--release', 'r2'])
  t.equal(refused.code, 5, { stderr: refused.stderr.slice(-1500) })
  t.match(refused.stderr, /refusing to deploy r2.*\[stale-cwd\].*Nothing was touched/s)
  t.equal(readlinkSync(join(root, 'current')), 'releases/r1')
  t.same(server.workerPids(), workers)
})
