// Rolling restarts of real Apache mod_wsgi daemon groups (Debian's apache2 + libapache2-mod-wsgi-py3),
// each Apache started from a generated config in a temp dir, with the bundled hook, under real load.
//
// Every run names its Apache with --apache-pidfile: other test suites may run an Apache with an
// `app:blue` group at the same time, and --group alone would then (rightly) be refused as ambiguous.
import t from 'tap'
import { createSocket } from 'node:dgram'
import { startApache, type Apache } from '../helpers/apache.js'
import { makeAppDir, swapApp, type Fixture } from '../helpers/apps.js'
import { runCli } from '../helpers/cli.js'
import { startLoad } from '../helpers/load.js'
import { freeUdpPort } from '../helpers/ports.js'
import { argv, childrenOf, isAlive, waitFor } from '../helpers/procs.js'
import { tempDir } from '../helpers/tmp.js'

interface Report {
  ok: boolean
  group: string
  server: string
  masterPid: number
  replaced: Array<{ oldPid: number; newPid: number; status: string; release: string | null }>
  aborted: { reason: string; message: string; oldPid: number | null; newPid: number | null } | null
  errorResistance: boolean
  untouched: number[]
  preflight: { ran: boolean; skipped: string | null } | null
}

const BOOT = { BOOT_DELAY: '1.0' }

/** One Apache with app:blue (3 processes, ~1 s boot) and app:green (1), and the CLI flags for app:blue. */
async function blueGreen(
  t: Tap.Test,
  opts: { blue?: Fixture; blueProcesses?: number; preload?: boolean; displayName?: boolean } = {},
): Promise<{ a: Apache; blueDir: string; flags: string[]; notifyPort: number; stateDir: string }> {
  const notifyPort = await freeUdpPort()
  const blueDir = makeAppDir(t, opts.blue ?? 'good', { revision: 'blue-1' })
  const greenDir = makeAppDir(t, 'good', { revision: 'green-1' })
  const a = await startApache(t, {
    groups: [
      { name: 'app:blue', processes: opts.blueProcesses ?? 3, appDir: blueDir, urlPrefix: '/blue' },
      { name: 'app:green', processes: 1, appDir: greenDir, urlPrefix: '/green' },
    ],
    notifyPort,
    env: BOOT,
    preload: opts.preload ?? true,
    displayName: opts.displayName ?? true,
  })
  const stateDir = tempDir(t, 'state')
  const flags = ['--group', 'app:blue', '--apache-pidfile', a.pidFile, '--notify', `127.0.0.1:${notifyPort}`, '--state-dir', stateDir]
  return { a, blueDir, flags, notifyPort, stateDir }
}

const withoutNotify = (flags: string[]) => flags.filter((f, i) => f !== '--notify' && flags[i - 1] !== '--notify')

function sendDatagram(port: number, text: string): Promise<void> {
  const s = createSocket('udp4')
  return new Promise((resolve, reject) =>
    s.send(Buffer.from(text), port, '127.0.0.1', (err) => {
      s.close()
      if (err) reject(err)
      else resolve()
    }),
  )
}

t.test('rolls app:blue under load: every process replaced, no failed request, app:green untouched', async (t) => {
  const { a, blueDir, flags, notifyPort } = await blueGreen(t)
  const blue = a.groupPids('app:blue')
  const green = a.groupPids('app:green')
  t.equal(blue.length, 3)
  t.equal(green.length, 1)
  swapApp(blueDir, 'good', { revision: 'blue-2' })

  const load = startLoad({ port: a.port, path: '/blue/', concurrency: 4, maxDurationMs: 120_000 })
  const greenLoad = startLoad({ port: a.port, path: '/green/', concurrency: 1, maxDurationMs: 120_000 })
  const run = runCli([...flags, '--json'])
  // While the roll runs, app:green's process (and a liar claiming to be app:blue) send datagrams to
  // the same port: neither is a process of app:blue, so both must be ignored.
  await waitFor(() => !isAlive(blue[0] as number), { timeoutMs: 60_000, what: 'the roll to stop the first blue process' })
  const greenPid = green[0] as number
  await sendDatagram(notifyPort, `READY=1\nPID=${greenPid}\nGROUP=app:green\nSTATUS=200 OK\n`)
  await sendDatagram(notifyPort, `READY=1\nPID=${greenPid}\nGROUP=app:blue\nSTATUS=200 OK\n`)
  const result = await run
  const traffic = await load.stop()
  const greenTraffic = await greenLoad.stop()

  t.equal(result.code, 0, 'exit 0', { stderr: result.stderr.slice(-3000) })
  const report = result.json as Report
  t.equal(report.server, 'mod_wsgi')
  t.equal(report.group, 'app:blue')
  t.equal(report.masterPid, a.parentPid, 'the master is the Apache parent')
  t.same(report.replaced.map((r) => r.oldPid).sort(), [...blue].sort(), 'every original app:blue process was replaced')
  t.ok(report.replaced.every((r) => r.status === '200 OK' && r.release === 'blue-2'), 'each new process reported 200 OK and release blue-2')
  t.same(blue.filter(isAlive), [], 'no original app:blue process still runs')
  t.same(a.groupPids('app:blue').sort(), report.replaced.map((r) => r.newPid).sort(), 'the group now is exactly the reported replacements')
  t.same(a.groupPids('app:green'), green, "app:green's process is the same pid: never signalled")
  t.ok(isAlive(a.parentPid), 'the Apache parent is untouched')

  t.match(result.stderr, /auto picked Apache mod_wsgi: mod_wsgi daemon group 'app:blue' of Apache \d+ \(3 daemon process\(es\) titled '\(wsgi:app:blue\)'\)/, 'says what auto picked')
  t.match(result.stderr, new RegExp(`"event":"datagram-ignored"[^\\n]*pid ${greenPid} is not a worker of mod_wsgi daemon group 'app:blue'`), "app:green's datagram was ignored")
  t.match(result.stderr, /"event":"signal","pid":\d+,"signal":"SIGUSR1","to":"worker"/, 'each process got SIGUSR1')

  t.ok(traffic.total > 30, `load on /blue/ ran during the roll (${traffic.total} requests, p99 ${traffic.p99} ms)`)
  t.equal(traffic.failed, 0, `no failed request on /blue/: ${JSON.stringify(traffic.failures.slice(0, 5))}`)
  t.equal(greenTraffic.failed, 0, 'no failed request on /green/')

  // the release changed, so the preflight ran; now the new daemon processes vouch for it: no preflight
  t.match(report.preflight, { ran: true })
  const again = await runCli([...flags, '--json'])
  t.equal(again.code, 0, { stderr: again.stderr.slice(-1500) })
  t.match((again.json as Report).preflight, { ran: false, skipped: /^preflight not needed: the 3 running workers passed their probe/ }, 'mod_wsgi daemon processes vouch for an unchanged release')

  const byPidfile = await runCli(['status', '--pidfile', a.pidFile, '--group', 'app:green', '--state-dir', tempDir(t, 'state2'), '--json'])
  t.equal(byPidfile.code, 0, "auto finds app:green through Apache's PidFile", { stderr: byPidfile.stderr.slice(-1000) })
  t.match(byPidfile.json, { server: 'mod_wsgi', group: 'app:green', masterPid: a.parentPid })
})

t.test('a new app:blue release that fails its status check stops the roll after one process', async (t) => {
  const { a, blueDir, flags } = await blueGreen(t)
  const blue = a.groupPids('app:blue')
  const green = a.groupPids('app:green')
  swapApp(blueDir, 'status_500', { revision: 'bad' })

  // --no-preflight: the preflight would catch this release before any process is touched; here the
  // roll's own readiness gate is what is under test.
  const load = startLoad({ port: a.port, path: '/blue/', concurrency: 3, maxDurationMs: 60_000 })
  const run = await runCli([...flags, '--no-preflight', '--json'])
  const traffic = await load.stop()

  t.equal(run.code, 4, 'exit 4', { stderr: run.stderr.slice(-2000) })
  const report = run.json as Report
  t.equal(report.errorResistance, true)
  t.equal(report.aborted?.reason, 'not-ready')
  t.match(report.aborted?.message, /reported READY=0.*500 Internal Server Error/)
  t.equal(report.aborted?.oldPid, blue[0], 'the oldest process was the one replaced')
  t.same(blue.filter(isAlive), blue.slice(1), 'exactly one app:blue process was stopped; the other two still run')
  t.same([...report.untouched].sort(), blue.slice(1).sort(), 'the report lists them as untouched')
  t.equal(a.groupPids('app:blue').length, 3, 'Apache still runs 3 app:blue processes (2 old, 1 new)')
  t.same(a.groupPids('app:green'), green, 'app:green untouched')
  t.ok(traffic.ok > 0, `app:blue kept serving (${traffic.ok} ok of ${traffic.total})`)

  const again = await runCli([...flags, '--json'])
  t.equal(again.code, 5, 'the next run is refused')
  t.match(again.stderr, /error-resistance mode.*rolling-restart resume/s)
  t.same(blue.filter(isAlive), blue.slice(1), 'the refused run touched nothing')

  swapApp(blueDir, 'good', { revision: 'fixed' })
  const resume = await runCli(['resume', ...withoutNotify(flags)])
  t.equal(resume.code, 0, 'resume', { stderr: resume.stderr.slice(-1000) })
  const fixed = await runCli([...flags, '--json'])
  t.equal(fixed.code, 0, 'after resume, the fixed release rolls', { stderr: fixed.stderr.slice(-2000) })
  t.ok((fixed.json as Report).replaced.every((r) => r.release === 'fixed'))
  t.same(blue.filter(isAlive), [], 'every original app:blue process is gone')
  t.same(a.groupPids('app:green'), green, 'app:green still untouched')
})

t.test('a release that fails to import leaves the new process up without the app: a failure, with the error log quoted', async (t) => {
  const { a, blueDir, flags } = await blueGreen(t, { blueProcesses: 2 })
  const blue = a.groupPids('app:blue')
  swapApp(blueDir, 'crash_on_import')
  const run = await runCli([...flags, '--no-preflight', '--ready-timeout', '5s', '--json'])
  t.equal(run.code, 4, 'exit 4', { stderr: run.stderr.slice(-2000) })
  const report = run.json as Report
  t.equal(report.aborted?.reason, 'ready-timeout')
  t.match(report.aborted?.message, /failed to load .*app\.wsgi \(ImportError: crash_on_import/, 'quotes the import error from the error log')
  t.match(report.aborted?.message, new RegExp(`Read Apache's error log \\(${a.errorLog.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\)`), 'names the error log')
  t.equal(a.groupPids('app:blue').length, 2, 'mod_wsgi kept the broken process running')
  t.same(blue.filter(isAlive), blue.slice(1), 'the other process was not touched')
})

t.test('without display-name=%{GROUP}: exit 3, saying which WSGIDaemonProcess line lacks it', async (t) => {
  const { a, flags } = await blueGreen(t, { displayName: false, blueProcesses: 1 })
  const run = await runCli([...flags, '--json'])
  t.equal(run.code, 3)
  t.match(run.stderr, new RegExp(`Apache \\(pid ${a.parentPid}\\) defines WSGIDaemonProcess app:blue \\(${a.confPath}:\\d+\\) without display-name=%\\{GROUP\\}`))
  t.match(run.stderr, /add display-name=%\{GROUP\} to that line and restart Apache/)
})

t.test('a script that is not preloaded: ready-timeout naming application-group; surge is refused', async (t) => {
  const { a, flags } = await blueGreen(t, { preload: false, blueProcesses: 2 })
  const blue = a.groupPids('app:blue')

  const surge = await runCli([...flags, '--strategy', 'surge'])
  t.equal(surge.code, 2, 'surge: exit 2')
  t.match(surge.stderr, /--strategy surge needs a server that can run one extra worker.*Apache mod_wsgi cannot.*Use --strategy replace/)
  t.same(blue.filter(isAlive), blue, 'the refused surge touched nothing')

  // no load: nothing makes the new process load the script, so its hook never runs
  const run = await runCli([...flags, '--no-preflight', '--ready-timeout', '5s', '--json'])
  t.equal(run.code, 4, 'exit 4', { stderr: run.stderr.slice(-2000) })
  const report = run.json as Report
  t.equal(report.aborted?.reason, 'ready-timeout')
  t.match(report.aborted?.message, /the WSGI script is not preloaded: WSGIScriptAlias \/blue \S+app\.wsgi \(\S+:\d+\) has process-group=app:blue but no application-group=/)
  t.match(report.aborted?.message, /Add application-group=%\{GLOBAL\} to that line/)
  t.same(blue.filter(isAlive), blue.slice(1), 'one process replaced, the other untouched')
})

t.test('group names cut to the same title are refused; a distinct group on the same Apache still rolls', async (t) => {
  const notifyPort = await freeUdpPort()
  // The two colliding groups come from extraConfig: the harness counts a group's processes by title,
  // which (like mod_wsgi) cannot tell them apart either.
  const a = await startApache(t, {
    groups: [{ name: 'app:green', processes: 1, appDir: makeAppDir(t, 'good', { revision: 'g' }), urlPrefix: '/green' }],
    extraConfig: [
      'WSGIDaemonProcess app:blue-long-name processes=1 threads=1 display-name=%{GROUP}',
      'WSGIDaemonProcess app:blue-lower processes=1 threads=1 display-name=%{GROUP}',
    ].join('\n'),
    notifyPort,
    env: { BOOT_DELAY: '0.3' },
  })
  const cutTitled = () => childrenOf(a.parentPid).filter((pid) => (argv(pid)[0] ?? '') === '(wsgi:app:blue-lo')
  const before = await waitFor(() => (cutTitled().length === 2 ? cutTitled() : null), { what: "two processes titled '(wsgi:app:blue-lo'" })
  const stateDir = tempDir(t, 'state')
  const common = ['--apache-pidfile', a.pidFile, '--notify', `127.0.0.1:${notifyPort}`, '--state-dir', stateDir]

  const cut = await runCli(['--group', 'app:blue-long-name', ...common])
  t.equal(cut.code, 3, 'ambiguous: exit 3')
  t.match(cut.stderr, /shows as '\(wsgi:app:blue-lo'.*groups 'app:blue-long-name', 'app:blue-lower' .* all show as '\(wsgi:app:blue-lo'/)
  t.match(cut.stderr, /Give the groups names whose first 11 characters differ/)
  const typo = await runCli(['--group', 'app:blue-lo', ...common])
  t.equal(typo.code, 3, 'a prefix that is no group: exit 3')
  t.match(typo.stderr, /defines no WSGIDaemonProcess app:blue-lo; the processes titled '\(wsgi:app:blue-lo' belong to 'app:blue-long-name', 'app:blue-lower'/)
  t.same(before.filter(isAlive), before, 'neither group was touched')

  const green = a.groupPids('app:green')
  const ok = await runCli(['--group', 'app:green', ...common, '--json'])
  t.equal(ok.code, 0, 'app:green rolls', { stderr: ok.stderr.slice(-1500) })
  t.same((ok.json as Report).replaced.map((r) => r.oldPid), green)
  t.same(before.filter(isAlive), before, 'the cut-title groups were still not touched')
})

t.test('a cut title that no other group shares is accepted', async (t) => {
  const notifyPort = await freeUdpPort()
  const a = await startApache(t, {
    groups: [{ name: 'app:blue-long-name', processes: 2, appDir: makeAppDir(t, 'good', { revision: 'l' }), urlPrefix: '/long' }],
    notifyPort,
    env: { BOOT_DELAY: '0.3' },
  })
  const before = a.groupPids('app:blue-long-name')
  t.equal(before.length, 2)
  const run = await runCli(['--group', 'app:blue-long-name', '--apache-pidfile', a.pidFile, '--notify', `127.0.0.1:${notifyPort}`, '--state-dir', tempDir(t, 'state'), '--json'])
  t.equal(run.code, 0, 'exit 0', { stderr: run.stderr.slice(-1500) })
  const report = run.json as Report
  t.equal(report.group, 'app:blue-long-name', 'the group keeps its full name')
  t.same(report.replaced.map((r) => r.oldPid).sort(), [...before].sort())
  t.same(before.filter(isAlive), [])
})
