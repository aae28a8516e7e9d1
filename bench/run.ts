/**
 * `npm run bench`: restart every worker of a real Gunicorn under steady load, in each of the ways
 * people do it, and measure what the clients saw. Prints a table, writes
 * bench/results/<date>.json and bench/results/<date>.svg.
 *
 * Each scenario runs on a fresh server: start Gunicorn (bench/app, the bundled hook) -> start the
 * load (a separate process) -> `--steady` seconds -> trigger the restart -> wait until it is
 * complete -> `--after` seconds -> stop the load -> stop the server, by pid.
 *
 * Run `node dist/bench/run.js --help` for the parameters.
 */
import { fork, type ChildProcess } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { loadavg, tmpdir } from 'node:os'
import { dirname, join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { RequestRecord } from '../src/demo/load.js'
import { freeUdpPort, launchGunicorn, type Server } from '../src/demo/server.js'
import { packageRoot } from '../src/paths.js'
import { sleep } from '../src/proc/procfs.js'
import { renderChart } from './chart.js'
import { machine } from './machine.js'
import { parseParams, type Params } from './params.js'
import { compareToLoop, scenarioResult, type RunSpec, type ScenarioResult } from './result.js'
import { Collector, LABELS, trigger } from './scenarios.js'
import { measureStartup } from './startup.js'
import { round, series, windowStats } from './stats.js'
import { mainTable, marginalCpuMs, ms, scaleTable, startupLine } from './tables.js'

const HERE = dirname(fileURLToPath(import.meta.url))
const REPO = packageRoot()

// --- everything the bench started, so that Ctrl-C and failures stop it, by pid ---------------
const live = {
  servers: new Set<Server>(),
  loads: new Set<ChildProcess>(),
  dirs: new Set<string>(),
  tool: null as (() => void) | null,
}

async function cleanup(): Promise<void> {
  live.tool?.()
  for (const c of live.loads) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL')
  await Promise.all([...live.servers].map((s) => s.stop()))
  for (const d of live.dirs) rmSync(d, { recursive: true, force: true })
}

let interrupted = 0
function onSignal(sig: NodeJS.Signals): void {
  interrupted++
  if (interrupted > 1) {
    for (const s of live.servers) s.stopNow()
    process.exit(130)
  }
  process.stderr.write(`\nbench: ${sig}: stopping every server and client it started ...\n`)
  void cleanup().finally(() => process.exit(130))
}

// --- one scenario ----------------------------------------------------------------------------
async function runOne(p: Params, spec: RunSpec, progress: (s: string) => void): Promise<ScenarioResult> {
  const dir = mkdtempSync(join(tmpdir(), 'rr-bench-'))
  live.dirs.add(dir)
  const notifyPort = await freeUdpPort()
  const collector = await Collector.open(notifyPort)
  let server: Server | null = null
  let load: ChildProcess | null = null
  try {
    server = await launchGunicorn({
      gunicorn: p.gunicorn,
      appDir: join(REPO, 'bench', 'app'),
      appSpec: 'app:app',
      workers: spec.workers,
      name: `rr-bench-${spec.kind}-${process.pid}`,
      notifyPort,
      dir,
      env: {
        BENCH_BOOT_S: String(spec.bootS),
        BENCH_BOOT_CPU: p.bootCpu ? '1' : '0',
        BENCH_REQUEST_MS: String(p.requestMs),
        BENCH_REQUEST_CPU: p.requestCpu ? '1' : '0',
      },
    })
    live.servers.add(server)
    await server.ready({ timeoutMs: 60_000 + spec.workers * spec.bootS * 1000 })

    const recordsFile = join(dir, 'records.json')
    const maxDurationMs = (spec.steadyS + spec.afterS + 300) * 1000
    load = fork(join(HERE, 'load-client.js'), [
      JSON.stringify({ port: server.port, concurrency: p.concurrency, maxDurationMs, maxRequests: 2_000_000, timeoutMs: p.timeoutS * 1000, out: recordsFile }),
    ], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv: [] })
    live.loads.add(load)
    const loadStart = await message<{ at: number }>(load, 'started', 10_000)
    await sleep(spec.steadyS * 1000)

    progress('restarting ...')
    const result = await trigger(spec.kind, {
      server,
      collector,
      notifyPort,
      dir,
      workers: spec.workers,
      batch: spec.batch,
      repo: REPO,
      timeoutMs: Math.max(60_000, spec.workers * (spec.bootS + 5) * 1000),
      onChild: (stop) => (live.tool = stop),
    })
    await sleep(spec.afterS * 1000)
    const stopAt = Date.now()
    load.send({ type: 'stop' })
    await message(load, 'done', p.timeoutS * 1000 + 10_000)
    const records: RequestRecord[] = (JSON.parse(readFileSync(recordsFile, 'utf8')) as Array<[number, number, number, string?]>).map(
      ([start, ms, status, error]) => ({ start, ms, status, ...(error ? { error } : {}) }),
    )

    const warmup = 1000
    const stats = windowStats(records, { t0: result.t0, t1: result.t1 }, loadStart.at + warmup)
    return scenarioResult(spec, result, stats, series(records, result.t0, loadStart.at + warmup, stopAt, p.bucketMs))
  } finally {
    await collector.close()
    if (load) {
      if (load.exitCode === null && load.signalCode === null) load.kill('SIGKILL')
      live.loads.delete(load)
    }
    if (server) {
      const { killed } = await server.stop()
      if (killed.length) progress(`(had to SIGKILL ${killed.join(' ')})`)
      live.servers.delete(server)
    }
    rmSync(dir, { recursive: true, force: true })
    live.dirs.delete(dir)
  }
}

function message<T = unknown>(child: ChildProcess, type: string, timeoutMs: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => done(new Error(`the load client sent no '${type}' within ${timeoutMs / 1000} s`)), timeoutMs)
    const onMessage = (m: { type?: string }) => {
      if (m.type === type) done(null, m as T)
    }
    const onExit = (code: number | null) => done(new Error(`the load client exited (code ${code}) before '${type}'`))
    const done = (err: Error | null, value?: T) => {
      clearTimeout(timer)
      child.off('message', onMessage)
      child.off('exit', onExit)
      if (err) reject(err)
      else resolve(value as T)
    }
    child.on('message', onMessage)
    child.on('exit', onExit)
  })
}

/** The runs: the main scenarios, then per scale count the hand-made loop (with --scale-loop) and the tool, then one batched. */
function plan(p: Params): { main: RunSpec[]; scale: RunSpec[] } {
  const main: RunSpec[] = p.scenarios.map((kind) => ({ kind, label: LABELS[kind], workers: p.workers, bootS: p.bootS, batch: 1, steadyS: p.steadyS, afterS: p.afterS }))
  const at = (kind: 'loop' | 'replace', workers: number, batch: number): RunSpec => ({
    kind,
    label: `scale ${workers} workers ${kind === 'loop' ? 'hand-made loop' : `replace${batch > 1 ? ` batch ${batch}` : ''}`}`,
    workers,
    bootS: p.scaleBootS,
    batch,
    steadyS: 2,
    afterS: 1,
  })
  const scale = p.scale.flatMap((w) => [...(p.scaleLoop ? [at('loop', w, 1)] : []), at('replace', w, 1)])
  const maxScale = Math.max(0, ...p.scale)
  if (p.scaleBatch > 1 && maxScale > 0) scale.push(at('replace', maxScale, p.scaleBatch))
  return { main, scale }
}

async function main(): Promise<number> {
  const p = parseParams(process.argv.slice(2))
  if (!p) return 0
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)
  const specs = plan(p)

  const started = new Date()
  const load0 = loadavg()
  const info = machine(p.gunicorn)
  process.stdout.write(
    `rolling-restart benchmark: Gunicorn ${info.gunicorn} on ${info.cpus} CPU(s), ${info.os ?? 'unknown OS'}, node ${info.node}\n` +
      `main: ${p.workers} workers, ${p.bootS} s boot, ${p.requestMs} ms per request, ${p.concurrency} clients; load average ${load0.map((l) => l.toFixed(2)).join(' ')}\n`,
  )
  const startup = p.startupRuns > 0 ? measureStartup(REPO, p.startupRuns) : null
  if (startup) process.stdout.write(`${startupLine(startup)}\n`)
  const all = [...specs.main, ...specs.scale]
  const results: ScenarioResult[] = []
  const scale: ScenarioResult[] = []
  for (const [i, spec] of all.entries()) {
    const head = `[${i + 1}/${all.length}] ${spec.label} (${spec.workers} workers, ${spec.bootS} s boot${spec.batch > 1 ? `, batch ${spec.batch}` : ''})`
    process.stdout.write(`${head}: starting gunicorn\n`)
    const r = await runOne(p, spec, (s) => process.stdout.write(`${head}: ${s}\n`))
    process.stdout.write(
      `${head}: READY ${ms(r.readyMs)}, exit ${ms(r.exitMs)}, ${r.stats.served} served, ${r.stats.failed} failed, p99 ${ms(r.stats.p99)}, max ${ms(r.stats.max)}${r.ok ? '' : ` - ${r.note}`}\n`,
    )
    ;(i < specs.main.length ? results : scale).push(r)
  }
  compareToLoop(results)
  compareToLoop(scale)
  const marginal = marginalCpuMs(scale)

  const stamp = started.toISOString().replace(/:/g, '-').slice(0, 19)
  mkdirSync(p.out, { recursive: true })
  const jsonPath = join(p.out, `${stamp}.json`)
  const svgPath = join(p.out, `${stamp}.svg`)
  const { gunicorn: _g, out: _o, ...params } = p
  const doc = {
    date: started.toISOString(),
    durationS: round((Date.now() - started.getTime()) / 1000),
    command: `npm run bench -- ${process.argv.slice(2).join(' ')}`.trim(),
    machine: { ...info, loadAverageAtStart: load0, loadAverageAtEnd: loadavg() },
    params,
    startup,
    scenarios: results,
    scale,
    marginalCpuMsPerWorker: marginal,
  }
  writeFileSync(jsonPath, JSON.stringify(doc, null, 1) + '\n')
  if (results.length > 0) writeFileSync(svgPath, chart(p, info, started, results))
  report(p, results, scale, marginal)
  process.stdout.write(`JSON: ${relative(process.cwd(), jsonPath)}\n`)
  if (results.length) process.stdout.write(`chart: ${relative(process.cwd(), svgPath)}\n`)
  process.stdout.write(`took ${round((Date.now() - started.getTime()) / 1000)} s\n`)
  return 0
}

function chart(p: Params, info: ReturnType<typeof machine>, started: Date, results: ScenarioResult[]): string {
  return renderChart({
    title: `Restarting ${p.workers} Gunicorn workers (${p.bootS} s boot each) under steady load`,
    subtitle:
      `${started.toISOString().slice(0, 16).replace('T', ' ')} UTC · ${p.concurrency} closed-loop clients, ${p.requestMs} ms per request · ` +
      `Gunicorn ${info.gunicorn} sync workers · ${info.cpus} CPUs · ${info.os ?? ''} · node ${info.node}`,
    bucketMs: p.bucketMs,
    rows: results.map((r) => ({
      label: r.label,
      summary:
        `failed ${r.stats.failed} · p99 ${ms(r.stats.p99)} · max ${ms(r.stats.max)} · throughput ${Math.round(r.stats.throughputRel * 100)}% · ` +
        `complete ${ms(r.exitMs)}` +
        (r.exitPerBoot !== null ? ` = ${r.exitPerBoot.toFixed(2)} × Σboot` : ''),
      windowS: r.exitMs / 1000,
      buckets: r.series,
      failed: r.stats.failed,
    })),
  })
}

function report(p: Params, results: ScenarioResult[], scale: ScenarioResult[], marginal: number | null): void {
  process.stdout.write('\n')
  if (results.length) {
    process.stdout.write(
      `During the restart window (requests in flight between the trigger and complete; throughput against the ${p.steadyS} s before). ` +
        `first signal: trigger to the first signal (the tool: Node's start-up, its checks, the preflight); to READY: to the last new worker's READY; ` +
        `to exit: to complete (the tool: its exit); each over Σboot and over the hand-made loop's time:\n` +
        mainTable(results) +
        '\n\n',
    )
  }
  if (scale.length) {
    process.stdout.write(
      `Scale: rolling-restart replace (default window) and the hand-made loop, ${p.scaleBootS} s boot. first signal: spawn to the tool's first signal; ` +
        `peak RSS and CPU of the CLI process (GNU time):\n${scaleTable(scale)}\n` +
        (marginal !== null ? `CPU per worker beyond the fixed cost (slope between the fewest and the most workers, batch 1): ${marginal} ms\n` : '') +
        '\n',
    )
  }
}

main().then(
  (code) => {
    process.exitCode = code
  },
  async (err: unknown) => {
    process.stderr.write(`bench: ${err instanceof Error ? err.message : String(err)}\n`)
    await cleanup()
    process.exitCode = 1
  },
)
