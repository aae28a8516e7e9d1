// Surge keeps full capacity, batches go faster, selection picks only the workers that need it,
// and progress reads well on a terminal: against a real Gunicorn under load.
import t from 'tap'
import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { makeAppDir, swapApp } from '../helpers/apps.js'
import { runCli, type CliResult } from '../helpers/cli.js'
import { startGunicorn } from '../helpers/gunicorn.js'
import { httpGet } from '../helpers/http.js'
import { startLoad } from '../helpers/load.js'
import { binPath } from '../helpers/paths.js'
import { freeUdpPort } from '../helpers/ports.js'
import { isAlive } from '../helpers/procs.js'
import { tempDir } from '../helpers/tmp.js'

interface Report {
  ok: boolean
  durationMs: number
  selected: number[]
  skipped: Array<{ pid: number; why: string }>
  replaced: Array<{ oldPid: number; newPid: number; readyMs: number }>
  aborted: { reason: string } | null
  surplus: number
  message: string
}

async function group(t: Tap.Test, name: string, workers: number, bootDelay = '1.0') {
  const notifyPort = await freeUdpPort()
  const appDir = makeAppDir(t, 'good', { revision: 'r1' })
  const server = await startGunicorn(t, { appDir, workers, name, notifyPort, env: { BOOT_DELAY: bootDelay } })
  const stateDir = tempDir(t, 'state')
  const flags = ['--group', name, '--notify', `127.0.0.1:${notifyPort}`, '--state-dir', stateDir]
  return { appDir, server, stateDir, flags }
}

/** ms timestamps of each `ready` event in the run's JSON log, by new pid. */
function readyTimes(run: CliResult): Map<number, number> {
  const out = new Map<number, number>()
  for (const line of run.stderr.split('\n')) {
    if (!line.startsWith('{')) continue
    const e = JSON.parse(line) as { event?: string; newPid?: number; time?: string }
    if (e.event === 'ready' && e.newPid) out.set(e.newPid, Date.parse(e.time as string))
  }
  return out
}

/**
 * Sample the master's workers every 25 ms while `work` runs. Afterwards, a sampled worker counts as
 * ready if it was there before the run (booted and serving) or its READY was logged by then.
 */
async function sampleReady(workerPids: () => number[], work: () => Promise<CliResult>) {
  const original = new Set(workerPids())
  const samples: Array<{ at: number; pids: number[] }> = []
  let running = true
  const sampler = (async () => {
    while (running) {
      samples.push({ at: Date.now(), pids: workerPids() })
      await new Promise((r) => setTimeout(r, 25))
    }
  })()
  const run = await work()
  running = false
  await sampler
  const ready = readyTimes(run)
  const counts = samples.map((s) => s.pids.filter((p) => original.has(p) || (ready.get(p) ?? Infinity) <= s.at).length)
  return { run, counts, min: Math.min(...counts), max: Math.max(...counts), samples: samples.length }
}

t.test('surge never drops below N ready workers; replace dips to N-1 while a worker boots', async (t) => {
  const N = 3
  const { server, flags } = await group(t, 'surge-capacity', N)
  const load = startLoad({ port: server.port, concurrency: 6, maxDurationMs: 120_000 })

  const surge = await sampleReady(server.workerPids, () => runCli([...flags, '--strategy', 'surge', '--json', '--log-format', 'json']))
  t.equal(surge.run.code, 0, 'surge run exit 0', { stderr: surge.run.stderr.slice(-2000) })
  t.equal((surge.run.json as Report).replaced.length, N)
  t.ok(surge.samples > 40, `sampled ${surge.samples} times`)
  t.ok(surge.min >= N, `surge: ready workers stayed at ${N} or more (min ${surge.min}, max ${surge.max})`)
  t.equal(server.workerPids().length, N, 'the master is back to N workers after the surge')

  const replace = await sampleReady(server.workerPids, () => runCli([...flags, '--json', '--log-format', 'json']))
  t.equal(replace.run.code, 0)
  t.ok(replace.min < N, `replace, for contrast, dips to ${replace.min} ready workers while each replacement boots`)

  const traffic = await load.stop()
  t.equal(traffic.failed, 0, 'no failed request during either roll', { failures: traffic.failures.slice(0, 5) })
  t.comment(`surge: min ready ${surge.min}/${N}; replace: min ready ${replace.min}/${N}; ${traffic.total} requests, p99 ${traffic.p99} ms`)
})

t.test('--batch 2 on 6 workers takes about half the time of --batch 1, with no failed request', async (t) => {
  const { server, flags } = await group(t, 'batch', 6)
  const load = startLoad({ port: server.port, concurrency: 6, maxDurationMs: 120_000 })
  const one = await runCli([...flags, '--batch', '1', '--json'])
  const two = await runCli([...flags, '--batch', '2', '--json'])
  const traffic = await load.stop()
  t.equal(one.code, 0)
  t.equal(two.code, 0)
  const d1 = (one.json as Report).durationMs
  const d2 = (two.json as Report).durationMs
  t.equal((two.json as Report).replaced.length, 6)
  t.comment(`6 workers, 1.0 s boot: --batch 1 took ${d1} ms, --batch 2 took ${d2} ms (ratio ${(d2 / d1).toFixed(2)})`)
  t.ok(d2 < d1, 'batch 2 is faster than batch 1 (expected about half; asserted within a factor of 2 of that)')
  t.equal(traffic.failed, 0, 'no failed request', { failures: traffic.failures.slice(0, 5) })
})

function rssKiB(pid: number): number {
  const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
  return m ? Number(m[1]) : 0
}

t.test('selection: only the worker above --rss-above is recycled; --older-than and --max-workers', async (t) => {
  const { server, flags } = await group(t, 'select', 3, '0.3')
  const before = server.workerPids()
  // one request lands on one worker, which keeps 200 MiB
  const res = await httpGet(server.port, '/alloc?mb=200')
  t.equal(res.status, 200)
  const fat = before.filter((p) => rssKiB(p) > 150 * 1024)
  t.equal(fat.length, 1, 'exactly one worker grew above 150 MiB')

  const run = await runCli([...flags, '--rss-above', '150M', '--json'])
  t.equal(run.code, 0, 'exit 0', { stderr: run.stderr.slice(-1500) })
  const report = run.json as Report
  t.same(report.selected, fat, 'the fat worker is the only one selected')
  t.same(report.replaced.map((r) => r.oldPid), fat)
  t.same(before.filter((p) => !fat.includes(p)).filter(isAlive).sort(), before.filter((p) => !fat.includes(p)).sort(), 'the others are untouched')
  t.notOk(isAlive(fat[0] as number), 'the fat one is gone')
  t.ok(report.skipped.every((s) => /not above/.test(s.why)))

  const none = await runCli([...flags, '--older-than', '12h', '--json'])
  t.equal(none.code, 0, 'nothing selected is exit 0')
  t.match((none.json as Report).message, /nothing to do: none of the 3 workers/)
  t.same((none.json as Report).replaced, [])

  const capped = await runCli([...flags, '--max-workers', '1', '--json'])
  t.equal(capped.code, 0)
  t.equal((capped.json as Report).replaced.length, 1, '--max-workers 1 replaces one worker')

  const surgeAll = await runCli([...flags, '--strategy', 'surge', '--rss-above', '1K', '--json'])
  t.equal(surgeAll.code, 0, 'surge with a selection that is the oldest workers (here: all) is fine')
  t.equal((surgeAll.json as Report).replaced.length, 3)
})

t.test('a failed surge leaves its extra worker; the next good run hands it back', async (t) => {
  const { appDir, server, flags } = await group(t, 'surge-fail', 2, '0.5')
  swapApp(appDir, 'status_500')
  // --no-preflight: the point is the surge worker failing (the first run's preflight would catch this release)
  const bad = await runCli([...flags, '--strategy', 'surge', '--no-preflight', '--json'])
  t.equal(bad.code, 4)
  const report = bad.json as Report
  t.equal(report.aborted?.reason, 'not-ready')
  t.equal(report.surplus, 1, 'the report says one worker is left above the count')
  t.match(report.message, /1 worker\(s\) above its configured count/)
  t.equal(server.workerPids().length, 3, 'Gunicorn runs N+1 workers: the old two still serve')

  const st = await runCli(['status', ...flags.filter((f, i) => f !== '--notify' && flags[i - 1] !== '--notify'), '--json'])
  const status = st.json as { mode: string; surplus: number; workers: Array<{ role: string }> }
  t.equal(status.mode, 'error-resistance')
  t.equal(status.surplus, 1)
  t.same(status.workers.map((w) => w.role).sort(), ['failed', 'old', 'old'])

  swapApp(appDir, 'good')
  t.equal((await runCli(['resume', ...flags.filter((f, i) => f !== '--notify' && flags[i - 1] !== '--notify')])).code, 0)
  const good = await runCli([...flags, '--strategy', 'surge', '--json'])
  t.equal(good.code, 0, 'exit 0', { stderr: good.stderr.slice(-1500) })
  t.equal(server.workerPids().length, 2, 'the master is back to its configured 2 workers')
})

t.test('progress: readable lines on a terminal, JSON lines otherwise', async (t) => {
  const { flags } = await group(t, 'progress', 2, '0.3')
  // util-linux script(1) runs the CLI on a real pseudo-terminal
  const piped = await runCli(flags)
  const tty = spawnSync('script', ['-qec', [process.execPath, binPath, ...flags].map((a) => `'${a}'`).join(' '), '/dev/null'], {
    encoding: 'utf8',
    timeout: 120_000,
    env: { ...process.env, NODE_OPTIONS: '' },
  })
  t.equal(tty.status, 0, 'exit 0 on a terminal', { output: tty.stdout })
  t.match(tty.stdout, /\[1\/2\] replacing \d+ \.\.\./)
  t.match(tty.stdout, /\[2\/2\] \d+ -> \d+ ready in \d+(\.\d+)? (ms|s)/)
  t.match(tty.stdout, /done: 2 workers replaced in/)
  t.notMatch(tty.stdout, /"level":/, 'no JSON on the terminal')
  t.match(tty.stdout, /\[\d\/2\] \d+: waiting for its replacement to report READY \d+/, 'a live line says what is awaited and for how long')
  t.notMatch(piped.stderr ?? '', /\x1b\[2K/)

  t.equal(piped.code, 0)
  const lines = piped.stderr.trim().split('\n')
  t.ok(lines.length > 5 && lines.every((l) => JSON.parse(l).level !== undefined), 'every stderr line is a pino JSON record when not a terminal')
  t.ok(lines.some((l) => JSON.parse(l).event === 'ready'))
  t.equal(piped.stdout, '', 'nothing on stdout without --json')
})
