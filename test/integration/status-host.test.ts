// `status` without a target finds what runs on the host, rolled or not (issue 14, item 3): a
// Gunicorn never rolled is listed with its master, listen address and memory; after a roll, and
// another, each worker's slot shows how many times this tool replaced it.
import t from 'tap'
import { makeAppDir } from '../helpers/apps.js'
import { runCli } from '../helpers/cli.js'
import { startGunicorn } from '../helpers/gunicorn.js'
import { freeUdpPort } from '../helpers/ports.js'
import { tempDir } from '../helpers/tmp.js'

interface Group {
  group: string
  server: string
  masterPid: number
  mode: string
  master: { pid: number; uptimeMs: number; rssBytes: number; pssBytes: number | null }
  memory: { bytes: number; measure: string; processes: number }
  listen: { addresses: string[] | null; why?: string }
  requests: { why?: string; from?: string }
  replaced: { total: number; runs: number }
  workers: Array<{ pid: number; replacements: number; requests: number | null }>
}

interface Listing {
  stateDir: string
  host: { running: number; inStateDir: number }
  groups: Group[]
}

async function listed(t: Tap.Test, stateDir: string, masterPid: number): Promise<Group> {
  const r = await runCli(['status', '--state-dir', stateDir, '--json'])
  t.equal(r.code, 0, 'status without a target', { stderr: r.stderr.slice(-1000) })
  const g = (r.json as Listing).groups.find((x) => x.masterPid === masterPid)
  if (!g) throw new Error(`master ${masterPid} not listed: ${r.stdout.slice(0, 2000)}`)
  return g
}

t.test('status with no target lists an un-rolled Gunicorn, then its replacements per slot', async (t) => {
  const stateDir = tempDir(t, 'state')
  const notifyPort = await freeUdpPort()
  const server = await startGunicorn(t, { appDir: makeAppDir(t, 'good', { revision: 'r1' }), workers: 2, name: 'status-host', notifyPort, env: { BOOT_DELAY: '0.3' } })

  const g = await listed(t, stateDir, server.masterPid)
  t.match(g, { group: 'status-host', server: 'gunicorn', mode: 'never rolled', listen: { addresses: [`127.0.0.1:${server.port}`] } })
  t.ok(g.master.uptimeMs > 0 && g.master.rssBytes > 1024 * 1024, "the master's own uptime and RSS")
  t.equal(g.memory.measure, 'PSS', 'as root every process can be read, so the total is PSS')
  t.equal(g.memory.processes, 3, 'master + 2 workers')
  t.ok(g.memory.bytes > 0 && g.memory.bytes < g.master.rssBytes * 3, 'PSS counts the pages the workers share with the master once')
  t.same(g.workers.map((w) => w.pid).sort((a, b) => a - b), server.workerPids())
  t.ok(g.workers.every((w) => w.replacements === 0 && w.requests === null))
  t.match(g.requests.why, /^not exposed by Gunicorn/)
  t.same(g.replaced, { total: 0, runs: 0 })

  const text = await runCli(['status', '--state-dir', stateDir])
  t.match(text.stdout, /^-+ this host -+\nRunning {2}: \d+ group\(s\)/)
  const block = text.stdout.slice(text.stdout.indexOf('gunicorn group: status-host'))
  t.match(block, new RegExp(`^gunicorn group: status-host -+\\nMaster {3}: ${server.masterPid}, up \\d+[smh]`))
  t.match(block, /\nMode {5}: never rolled\n/)
  t.match(block, new RegExp(`\\nListen {3}: 127\\.0\\.0\\.1:${server.port}\\n`))
  t.match(block, /\nMemory {3}: [\d.]+ MiB PSS, master \+ 2 worker\(s\)\n/)

  // another user (nobody) may not read root's /proc/PID/fd or smaps_rollup: status says so instead of leaving it out
  const asNobody = await runCli(['status', '--group', 'status-host', '--state-dir', `/tmp/rr-status-nobody-${process.pid}`, '--json'], { user: { uid: 65534, gid: 65534 } })
  t.equal(asNobody.code, 0, 'status as nobody', { stderr: asNobody.stderr.slice(-1000) })
  t.match(asNobody.json, {
    masterPid: server.masterPid,
    listen: { addresses: null, why: new RegExp(`cannot read /proc/${server.masterPid}/fd \\(EACCES\\): run status as the server's user or as root`) },
    memory: { measure: 'RSS', note: /^summed RSS, since no process's PSS can be read/ },
  })

  for (const run of [1, 2]) {
    const roll = await runCli(['--group', 'status-host', '--notify', `127.0.0.1:${notifyPort}`, '--state-dir', stateDir, '--no-preflight'])
    t.equal(roll.code, 0, `roll ${run}`, { stderr: roll.stderr.slice(-1000) })
    const after = await listed(t, stateDir, server.masterPid)
    t.equal(after.mode, 'normal')
    t.same(after.workers.map((w) => w.replacements), [run, run], `after ${run} roll(s), each slot was replaced ${run} time(s)`)
    t.same(after.replaced, { total: 2 * run, runs: run })
  }
  const rolled = await runCli(['status', '--group', 'status-host', '--state-dir', stateDir])
  t.match(rolled.stdout, /\n {2}PID +Uptime +CPU +RSS +Replaced +Release +State\n/)
  t.match(rolled.stdout, /\n {2}\d+ +\S+ +\S+ +[\d.]+ MiB +2 +r1 +new\n/)
  t.match(rolled.stdout, /\nReplaced : 4 worker\(s\) by rolling-restart over the last 2 run\(s\)/)

  const fresh = await runCli(['status', '--group', 'status-host', '--state-dir', tempDir(t, 'fresh'), '--json'])
  t.match(fresh.json, { mode: 'never rolled', masterPid: server.masterPid }, 'another state directory has no record of it')
})
