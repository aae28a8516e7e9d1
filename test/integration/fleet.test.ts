// A fleet roll with real parts only: a real HAProxy (Debian's 2.6) in front of three Gunicorn
// "hosts" (masters on loopback ports, each its own state dir and readiness port), rolled by a real
// ansible-playbook (ansible-core 2.14) running ansible/playbooks/fleet-roll.yml (serial: 1,
// max_fail_percentage: 0) with the bundled collection over one local-connection inventory host per
// master; the module runs the built CLI, bin/rolling-restart, with --haproxy-socket/--haproxy-server.
// Load goes through HAProxy the whole time.
//
//   (a) every host rolled: exit 0, every worker replaced, no failed request, every server ready
//   (c) a wrong --haproxy-server name: exit 3 at the first host, before any worker is touched
//   (b) a release that fails on host 2: the play stops there, host 3 untouched, web2 left in drain,
//       no failed request
//   (d) the resume of docs/fleet.md: fix web2, `rolling-restart resume`, roll web2 alone (it stays in
//       drain, as found), set it ready, roll the rest
//
// Check mode (ansible-playbook --check) is not run here: the module passes --dry-run, which the CLI
// does not have yet.
import t from 'tap'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { haproxyRuntime } from '../../src/haproxy/runtime.js'
import { runPlaybook, type PlayResult } from '../helpers/ansible.js'
import { makeAppDir, swapApp } from '../helpers/apps.js'
import { runCli } from '../helpers/cli.js'
import { startGunicorn, type Gunicorn } from '../helpers/gunicorn.js'
import { startHaproxy } from '../helpers/haproxy.js'
import { startLoad, type LoadResult } from '../helpers/load.js'
import { binPath } from '../helpers/paths.js'
import { freeUdpPort } from '../helpers/ports.js'
import { isAlive, waitFor } from '../helpers/procs.js'
import { tempDir } from '../helpers/tmp.js'

const NAMES = ['web1', 'web2', 'web3'] as const
type Name = (typeof NAMES)[number]

interface Host {
  name: Name
  server: Gunicorn
  appDir: string
  stateDir: string
  notifyPort: number
  logFile: string
}

const startHost = async (name: Name, logDir: string): Promise<Host> => {
  const notifyPort = await freeUdpPort()
  const appDir = makeAppDir(t, 'good', { revision: 'r1' })
  const server = await startGunicorn(t, { appDir, workers: 2, name: `fleet-${name}`, notifyPort, env: { BOOT_DELAY: '0.5' }, gracefulTimeoutSec: 10 })
  return { name, server, appDir, stateDir: tempDir(t, `state-${name}`), notifyPort, logFile: join(logDir, `${name}.jsonl`) }
}

const logDir = tempDir(t, 'fleet-logs')
const hosts: Host[] = []
for (const name of NAMES) hosts.push(await startHost(name, logDir))
const host = (name: Name): Host => hosts.find((h) => h.name === name) as Host
const haproxy = await startHaproxy(t, {
  backends: { app: hosts.map((h) => ({ name: h.name, port: h.server.port, check: true })) },
  httpCheck: '/_status',
})
const admin = haproxyRuntime(haproxy.adminSocket)
await waitFor(async () => (await admin.stat('app')).every((s) => s.status === 'UP'), { timeoutMs: 15_000, what: 'every server UP at HAProxy' })

/** One inventory host per master; `extra` adds CLI arguments for some hosts. */
const inventory = (servers: Partial<Record<Name, string[]>> = {}, extra: Partial<Record<Name, string[]>> = {}) => ({
  app: {
    vars: {
      ansible_connection: 'local',
      ansible_python_interpreter: '/usr/bin/python3',
      rolling_restart_path: binPath,
      rolling_restart_haproxy_socket: haproxy.adminSocket,
    },
    hosts: Object.fromEntries(
      hosts.map((h) => [
        h.name,
        {
          rolling_restart_pidfile: h.server.pidfile,
          rolling_restart_state_dir: h.stateDir,
          rolling_restart_notify: `127.0.0.1:${h.notifyPort}`,
          rolling_restart_haproxy_servers: servers[h.name] ?? [`app/${h.name}`],
          rolling_restart_extra_args: ['--server-config', h.server.confPath, '--haproxy-drain-timeout', '10s', '--log-file', h.logFile, ...(extra[h.name] ?? [])],
        },
      ]),
    ),
  },
})

const pids = (): Record<Name, number[]> => Object.fromEntries(hosts.map((h) => [h.name, h.server.workerPids()])) as Record<Name, number[]>
const adminStates = async (): Promise<Record<string, string>> =>
  Object.fromEntries((await admin.serversState('app')).map((s) => [s.server, s.admin]))

/** The play under load through HAProxy; the ansible output is kept for docs/fleet.md when RR_FLEET_OUTPUT names a directory. */
const playUnderLoad = async (label: string, inv: unknown, path = '/', args: string[] = []): Promise<{ play: PlayResult; traffic: LoadResult }> => {
  const load = startLoad({ port: haproxy.port, path, concurrency: 4, maxDurationMs: 150_000 })
  const play = await runPlaybook(t, inv, { args })
  const traffic = await load.stop()
  const saveTo = process.env.RR_FLEET_OUTPUT
  if (saveTo) {
    mkdirSync(saveTo, { recursive: true })
    writeFileSync(join(saveTo, `${label}.txt`), `$ ansible-playbook -i inventory.yml playbooks/fleet-roll.yml ${args.join(' ')}  # exit ${play.code}\n${play.stdout}`)
  }
  t.comment(`${label}: ansible-playbook exit ${play.code} in ${play.ms} ms; ${traffic.total} requests through HAProxy, ${traffic.failed} failed, p99 ${traffic.p99} ms`)
  return { play, traffic }
}

const events = (h: Host): Array<Record<string, unknown>> =>
  readFileSync(h.logFile, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>)

t.test('(a) every host rolled behind HAProxy: exit 0, every worker replaced, no failed request, every server ready', async (t) => {
  for (const h of hosts) swapApp(h.appDir, 'good', { revision: 'r2' })
  const before = pids()
  const { play, traffic } = await playUnderLoad('all-rolled', inventory())

  t.equal(play.code, 0, 'ansible-playbook exit 0', { stdout: play.stdout.slice(-3000), stderr: play.stderr.slice(-1500) })
  for (const h of hosts) {
    t.match(play.recap[h.name], { changed: 1, failed: 0 }, `${h.name}: changed, not failed`)
    const now = h.server.workerPids()
    t.same(before[h.name].filter(isAlive), [], `${h.name}: none of its workers ${before[h.name].join(', ')} still runs`)
    t.equal(now.length, 2, `${h.name}: the master runs 2 workers again (${now.join(', ')})`)
    t.ok(isAlive(h.server.masterPid), `${h.name}: its master is untouched`)
    const seen = events(h).map((e) => e.event)
    t.ok(seen.indexOf('haproxy-drained') < seen.indexOf('run-start') && seen.indexOf('run-end') < seen.indexOf('haproxy-ready'), `${h.name}: drained before the roll, ready after it`)
    t.match(play.stdout, new RegExp(`ok: \\[${h.name}\\] => \\{\\n\\s+"msg": "2 of 2 workers of .* replaced in .*\\\\nHAProxy: app/${h.name} ready again\\."`), `${h.name}: the debug task shows the report's message`)
  }
  t.match(play.stdout, /HAProxy: app\/web1 ready again\./)
  t.same(await adminStates(), { web1: 'ready', web2: 'ready', web3: 'ready' }, 'show servers state: every server ready')
  t.ok(traffic.total > 100, `the load ran throughout (${traffic.total} requests)`)
  t.equal(traffic.failed, 0, `no failed request through HAProxy: ${JSON.stringify(traffic.failures.slice(0, 5))}`)
  t.comment(play.stdout.slice(play.stdout.indexOf('PLAY RECAP')))
})

t.test('(c) a wrong --haproxy-server name: exit 3 on the first host, before any worker is touched', async (t) => {
  const before = pids()
  const logged = events(host('web1')).length
  const { play, traffic } = await playUnderLoad('wrong-server', inventory({ web1: ['app/web9'] }))

  t.not(play.code, 0, `ansible-playbook fails (exit ${play.code})`)
  const fatal = play.fatal.web1
  t.equal(fatal?.rc, 3, 'the CLI exited 3 on web1')
  t.match(fatal?.msg, /--haproxy-server app\/web9: backend "app" has no server "web9" .*\(servers of app: web1, web2, web3\)/)
  t.match(fatal?.report, { ok: false, error: { code: 'haproxy-no-server', exitCode: 3 } })
  t.same(Object.keys(play.recap).sort(), ['web1'], 'the play stopped at web1: no other host ran')
  t.same(pids(), before, 'no worker of any host was touched')
  t.same(await adminStates(), { web1: 'ready', web2: 'ready', web3: 'ready' }, 'no server was set to drain')
  t.notOk(events(host('web1')).slice(logged).some((e) => e.event === 'run-start'), 'the roll never started')
  t.equal(traffic.failed, 0)
  t.comment(`web1: ${String(fatal?.msg)}`)
})

t.test('(b) a release that fails on host 2: the play stops there, host 3 untouched, web2 left in drain, no failed request', async (t) => {
  swapApp(host('web1').appDir, 'good', { revision: 'r3' })
  swapApp(host('web3').appDir, 'good', { revision: 'r3' })
  // web2's new release answers its health check (/_status) with 500. --no-preflight on web2 so that
  // the release fails in the roll itself, where the drain matters (a preflight would have caught it
  // with nothing touched, neither a worker nor HAProxy: preflight.test.ts). The load asks /_status,
  // so a request that reached the broken worker would fail.
  swapApp(host('web2').appDir, 'status_500', { revision: 'bad' })
  const before = pids()
  const { play, traffic } = await playUnderLoad('fails-on-web2', inventory({}, { web2: ['--no-preflight'] }), '/_status')

  t.not(play.code, 0, `ansible-playbook fails (exit ${play.code})`)
  t.match(play.recap, { web1: { changed: 1, failed: 0 }, web2: { failed: 1 } })
  t.notOk('web3' in play.recap, 'the play stopped at web2: web3 never ran')
  t.match(play.stdout, 'NO MORE HOSTS LEFT')

  const fatal = play.fatal.web2
  t.equal(fatal?.rc, 4, 'the CLI exited 4 on web2')
  t.match(fatal?.msg, /stopped after 0 of 2 workers: .*READY=0.*500 Internal Server Error/s)
  t.match(fatal?.msg, /HAProxy: app\/web2 is left in drain/)
  t.match(fatal?.report, { ok: false, errorResistance: true, haproxy: { drained: ['app/web2'], restored: false, leftDrained: ['app/web2'] } })

  t.same(before.web1.filter(isAlive), [], 'web1: every worker replaced')
  const untouched = (fatal?.report as { untouched?: number[] } | undefined)?.untouched ?? []
  t.equal(untouched.length, 1, 'web2: the roll stopped at its first worker')
  t.same(before.web2.filter(isAlive), untouched, `web2: one old worker replaced, the other (${untouched.join(', ')}) untouched`)
  t.equal(host('web2').server.workerPids().length, 2)
  t.same(host('web3').server.workerPids(), before.web3, `web3: its workers ${before.web3.join(', ')} untouched`)
  t.same(await adminStates(), { web1: 'ready', web2: 'drain', web3: 'ready' }, 'show servers state: web2 left in drain, the others ready')
  t.ok(traffic.total > 50, `the load ran throughout (${traffic.total} requests)`)
  t.equal(traffic.failed, 0, `no failed request through HAProxy: ${JSON.stringify(traffic.failures.slice(0, 5))}`)
  t.comment(`web2: ${String(fatal?.msg)}`)
})

t.test('(d) resume after (b): fix web2, resume, roll web2 alone (still drained), set it ready, roll the rest', async (t) => {
  const web2 = host('web2')
  swapApp(web2.appDir, 'good', { revision: 'r3' })
  const target = ['--pidfile', web2.server.pidfile, '--state-dir', web2.stateDir]
  const resume = await runCli(['resume', ...target])
  t.equal(resume.code, 0, 'rolling-restart resume on web2')
  t.match(resume.stdout, /left error-resistance mode/)

  const before = pids()
  const again = await playUnderLoad('resume-web2', inventory(), '/', ['--limit', 'web2'])
  t.equal(again.play.code, 0, 'the play for web2 alone passes', { stdout: again.play.stdout.slice(-2000) })
  t.same(before.web2.filter(isAlive), [], 'web2: every worker replaced, the broken one too')
  t.match(again.play.stdout, /HAProxy: this run set no server to drain\. app\/web2 was in drain before this run and is left so: set it ready/)
  t.same(await adminStates(), { web1: 'ready', web2: 'drain', web3: 'ready' }, 'web2 stays in drain: the run found it so')
  t.equal(again.traffic.failed, 0)

  await admin.setState({ backend: 'app', server: 'web2' }, 'ready')
  const rest = await playUnderLoad('resume-rest', inventory(), '/', ['--limit', 'web3'])
  t.equal(rest.play.code, 0, 'the play for the rest (web3) passes')
  t.same(before.web3.filter(isAlive), [], 'web3: every worker replaced')
  t.same(await adminStates(), { web1: 'ready', web2: 'ready', web3: 'ready' }, 'every server ready')
  t.equal(rest.traffic.failed, 0, `no failed request through HAProxy: ${JSON.stringify(rest.traffic.failures.slice(0, 5))}`)
})
