// `status` without a target: every group the state directory knows, one table each.
import t from 'tap'
import { makeAppDir } from '../helpers/apps.js'
import { runCli } from '../helpers/cli.js'
import { startGunicorn } from '../helpers/gunicorn.js'
import { freeUdpPort } from '../helpers/ports.js'
import { tempDir } from '../helpers/tmp.js'

interface Listing {
  groups: Array<{ group: string; server: string; mode: string; workers: Array<{ role: string }>; gone?: string }>
}

t.test('status lists every group of the state directory, and says which master is gone', async (t) => {
  const stateDir = tempDir(t, 'state')
  const empty = await runCli(['status', '--state-dir', stateDir])
  t.equal(empty.code, 0)
  // the host scan lists any other server running here (a bench, another suite): only this state directory's part is asserted
  t.match(empty.stdout, /no group has been rolled with the state directory .* yet; name one with --group NAME|State dir: .*, 0 group\(s\) recorded/)

  const servers = []
  for (const name of ['status-a', 'status-b']) {
    const notifyPort = await freeUdpPort()
    const server = await startGunicorn(t, { appDir: makeAppDir(t, 'good', { revision: name }), workers: 2, name, notifyPort, env: { BOOT_DELAY: '0.3' } })
    const run = await runCli(['--group', name, '--notify', `127.0.0.1:${notifyPort}`, '--state-dir', stateDir, '--no-preflight'])
    t.equal(run.code, 0, `rolled ${name}`, { stderr: run.stderr.slice(-1000) })
    servers.push(server)
  }

  const all = await runCli(['status', '--state-dir', stateDir, '--json'])
  t.equal(all.code, 0)
  const own = (all.json as Listing).groups.filter((g) => g.group.startsWith('status-'))
  t.same(own.map((g) => [g.group, g.server, g.mode]), [['status-a', 'gunicorn', 'normal'], ['status-b', 'gunicorn', 'normal']])
  t.ok(own.every((g) => g.workers.length === 2 && g.workers.every((w) => w.role === 'new')))

  const text = await runCli(['status', '--state-dir', stateDir])
  t.match(text.stdout, /-+ gunicorn group: status-a -+[\s\S]*-+ gunicorn group: status-b -+/)
  const sections = text.stdout.split(/\n(?=-+ )/).filter((x) => /group: status-[ab] /.test(x))
  t.equal(sections.length, 2, 'one section per group')
  t.ok(sections.every((x) => (x.match(/PID +Uptime +CPU +RSS +Replaced +Release +State/g) ?? []).length === 1), 'one table per group')

  await servers[0]?.stop()
  const after = await runCli(['status', '--state-dir', stateDir, '--json'])
  const gone = (after.json as Listing).groups.find((g) => g.group === 'status-a')
  t.match(gone?.gone, /no .*group found for --group status-a/)
  t.same(gone?.workers, [])
  t.equal((after.json as Listing).groups.find((g) => g.group === 'status-b')?.workers.length, 2)
})
