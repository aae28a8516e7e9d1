// Issue 15: a Gunicorn replace goes through the master (TTIN, then TTOU: it stops its oldest
// worker), so each old worker's exit runs alongside its replacement's boot instead of before it.
// Against a real Gunicorn under load: the overlap is seen in the process table, every step signals
// the master only, the master is back at N, no request fails; a selection that is not the oldest
// workers is still honoured with a signal to each chosen worker; and --batch 2 through the master
// retires distinct workers (the master stops the oldest it still lists, a dying one included).
import t from 'tap'
import { readFileSync } from 'node:fs'
import { httpGet } from '../helpers/http.js'
import { startLoad } from '../helpers/load.js'
import { isAlive } from '../helpers/procs.js'
import { runCli } from '../helpers/cli.js'
import { events, gunicornGroup, ofKind, type Report } from './readiness-shared.js'

/** When each child of `master` was first and last seen, sampled every 5 ms while `work` runs. */
async function sampleLives<T>(children: () => number[], work: () => Promise<T>) {
  const lives = new Map<number, { first: number; last: number }>()
  let on = true
  const sampler = (async () => {
    while (on) {
      const at = Date.now()
      for (const pid of children()) {
        const l = lives.get(pid)
        if (l) l.last = at
        else lives.set(pid, { first: at, last: at })
      }
      await new Promise((r) => setTimeout(r, 5))
    }
  })()
  const result = await work()
  on = false
  await sampler
  return { result, lives }
}

t.test('replace through the master: each old worker exits while its replacement boots, N workers after, no failed request', async (t) => {
  const N = 4
  const g = await gunicornGroup(t, { name: 'handover', workers: N, env: { BOOT_DELAY: '0.5' } })
  const dry = await runCli([...g.flags.filter((f) => f !== '--json'), '--dry-run'])
  t.match(dry.stdout, /each step: TTIN then TTOU to the master, which stops its oldest worker/, 'the dry run says how each step stops its worker')

  const original = g.server.workerPids()
  const load = startLoad({ port: g.server.port, concurrency: 4, maxDurationMs: 60_000 })
  const { result: run, lives } = await sampleLives(g.server.workerPids, () => runCli(g.flags))
  const traffic = await load.stop()
  t.equal(run.code, 0, 'exit 0', { stderr: run.stderr.slice(-2000) })
  const report = run.json as Report
  t.equal(report.replaced.length, N, 'every worker replaced')
  t.same(report.replaced.map((r) => r.oldPid), original, 'oldest first, as planned')
  t.ok(original.every((p) => !isAlive(p)), 'every old worker is gone')
  t.equal(g.server.workerPids().length, N, `the master is back at ${N} workers`)
  t.equal(traffic.failed, 0, `no failed request (${traffic.total})`, { failures: traffic.failures.slice(0, 5) })

  const log = events(run)
  const signals = ofKind(log, 'signal')
  t.same(signals.filter((s) => s.to !== 'master'), [], 'no signal went to a worker')
  for (let step = 1; step <= N; step++) {
    t.same(signals.filter((s) => s.step === step).map((s) => s.signal), ['SIGTTIN', 'SIGTTOU'], `step ${step}: TTIN, then TTOU`)
  }
  let overlapped = 0
  for (const r of report.replaced) {
    const oldLife = lives.get(r.oldPid)
    const newLife = lives.get(r.newPid)
    t.ok(oldLife && newLife, `${r.oldPid} and ${r.newPid} were both sampled`)
    if (oldLife && newLife && newLife.first < oldLife.last) overlapped++
  }
  // the old worker tears its interpreter down for 60 to 110 ms after TERM, sampled every 5 ms
  t.equal(overlapped, N, `each replacement was running while its old worker was still there (${overlapped} of ${N})`)
  const retired = ofKind(log, 'retired').map((e) => e.pid)
  t.same(retired, original, 'the master retired the old workers, oldest first')
})

function rssKiB(pid: number): number {
  const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
  return m ? Number(m[1]) : 0
}

t.test('a selection that is not the oldest workers: each chosen worker is signalled itself', async (t) => {
  const g = await gunicornGroup(t, { name: 'handover-select', workers: 3, env: { BOOT_DELAY: '0.3' } })
  const before = g.server.workerPids()
  const oldest = before[0] as number
  // grown: 40 MiB above the oldest worker, so that a threshold between them leaves the oldest out
  const grown = () => before.filter((p) => p !== oldest && rssKiB(p) > rssKiB(oldest) + 40 * 1024)
  // a request lands on whichever idle worker accepts first (most often the same one): keep one busy
  // with a slow request while another takes the allocation
  for (let i = 0; i < 12 && grown().length === 0; i++) {
    const busy = httpGet(g.server.port, '/slow?ms=800')
    await new Promise((r) => setTimeout(r, 150))
    t.equal((await httpGet(g.server.port, '/alloc?mb=80')).status, 200)
    await busy
  }
  const cutMiB = Math.ceil(rssKiB(oldest) / 1024) + 20
  const fat = before.filter((p) => rssKiB(p) > cutMiB * 1024)
  t.ok(fat.length > 0 && !fat.includes(oldest), `the workers above ${cutMiB} MiB (${fat.join(', ')}) leave out the oldest, ${oldest}`)

  const dry = await runCli([...g.flags.filter((f) => f !== '--json'), '--rss-above', `${cutMiB}M`, '--dry-run'])
  t.match(dry.stdout, /each step: a graceful stop to the worker listed/, 'the dry run says each chosen worker is signalled')
  const run = await runCli([...g.flags, '--rss-above', `${cutMiB}M`])
  t.equal(run.code, 0, 'exit 0', { stderr: run.stderr.slice(-2000) })
  const report = run.json as Report
  t.same(report.replaced.map((r) => r.oldPid), fat, 'exactly the chosen workers replaced')
  const signals = ofKind(events(run), 'signal')
  t.same(signals.map((s) => [s.to, s.signal, s.pid]), fat.map((p) => ['worker', 'SIGTERM', p]), 'TERM to each chosen worker, nothing to the master')
  t.same(before.filter((p) => !fat.includes(p)).filter(isAlive), before.filter((p) => !fat.includes(p)), 'the others still serve')
})

t.test('--batch 2 through the master: distinct workers retired, none twice, the master back at N', async (t) => {
  const N = 4
  const g = await gunicornGroup(t, { name: 'handover-batch', workers: N, env: { BOOT_DELAY: '0.5' } })
  const original = g.server.workerPids()
  const run = await runCli([...g.flags, '--batch', '2'])
  t.equal(run.code, 0, 'exit 0', { stderr: run.stderr.slice(-2000) })
  const report = run.json as Report
  t.equal(report.replaced.length, N)
  t.same([...report.replaced.map((r) => r.oldPid)].sort(), [...original].sort(), 'each old worker replaced once')
  const retired = ofKind(events(run), 'retired').map((e) => e.pid as number)
  t.equal(new Set(retired).size, N, `${N} distinct retirements (${retired.join(', ')})`)
  t.equal(g.server.workerPids().length, N, `the master is back at ${N} workers`)
  t.ok(original.every((p) => !isAlive(p)), 'every old worker is gone')
})
