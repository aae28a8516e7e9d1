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
import { fork, spawnSync, type ChildProcess } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { cpus, loadavg, release as kernel, tmpdir, totalmem } from 'node:os'
import { dirname, join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import type { RequestRecord } from '../src/demo/load.js'
import { findGunicorn, freeUdpPort, gunicornVersion, launchGunicorn, type Server } from '../src/demo/server.js'
import { packageRoot } from '../src/paths.js'
import { sleep } from '../src/proc/procfs.js'
import { renderChart } from './chart.js'
import { Collector, LABELS, SCENARIOS, trigger, type ScenarioKind, type ToolUsage } from './scenarios.js'
import { round, series, windowStats, type Bucket, type WindowStats } from './stats.js'

const HERE = dirname(fileURLToPath(import.meta.url))
const REPO = packageRoot()

const HELP = `npm run bench -- [options]      (or: node dist/bench/run.js [options])

  --workers N          Gunicorn workers in the main scenarios (default 4)
  --boot S             seconds each worker takes to import the app (default 2)
  --boot-cpu           spend the boot time computing instead of sleeping
  --request-ms MS      time each request takes in the app (default 20)
  --request-cpu        spend it computing instead of waiting
  --concurrency N      closed-loop clients (default 8)
  --steady S           seconds of load before the trigger (default 4)
  --after S            seconds of load after the restart is complete (default 3)
  --timeout S          a request with no answer after S seconds is a failure (default 10)
  --bucket MS          time-series bucket (default 250)
  --scenarios LIST     comma-separated, from ${SCENARIOS.join(',')} (default all)
  --scale LIST         worker counts of the scale runs (rolling-restart replace; default 4,16,32; "" for none)
  --scale-boot S       boot time in the scale runs (default 0.3)
  --scale-batch N      one more scale run at the largest count with --batch N (default 4; 0 for none)
  --out DIR            where the JSON and the SVG go (default bench/results)
  --gunicorn PATH      the gunicorn to run (default /usr/bin/gunicorn, else PATH)
`

interface Params {
  workers: number
  bootS: number
  bootCpu: boolean
  requestMs: number
  requestCpu: boolean
  concurrency: number
  steadyS: number
  afterS: number
  timeoutS: number
  bucketMs: number
  scenarios: ScenarioKind[]
  scale: number[]
  scaleBootS: number
  scaleBatch: number
  out: string
  gunicorn: string
}

interface RunSpec {
  kind: ScenarioKind
  label: string
  workers: number
  bootS: number
  batch: number
  steadyS: number
  afterS: number
}

interface ScenarioResult {
  kind: ScenarioKind
  label: string
  workers: number
  bootS: number
  batch: number
  ok: boolean
  note: string | null
  exitCode: number | null
  /** trigger to complete, ms */
  restartMs: number
  /** the tool's own figure, from its report (excludes node's start-up) */
  toolDurationMs: number | null
  bootMs: number[]
  bootSumMs: number
  /** restartMs / bootSumMs: 1.0 is the floor for one worker at a time */
  perBootSum: number | null
  tool: ToolUsage | null
  stats: WindowStats
  series: Bucket[]
}

function parse(argv: string[]): Params | null {
  const { values } = parseArgs({
    args: argv,
    options: {
      workers: { type: 'string', default: '4' },
      boot: { type: 'string', default: '2' },
      'boot-cpu': { type: 'boolean', default: false },
      'request-ms': { type: 'string', default: '20' },
      'request-cpu': { type: 'boolean', default: false },
      concurrency: { type: 'string', default: '8' },
      steady: { type: 'string', default: '4' },
      after: { type: 'string', default: '3' },
      timeout: { type: 'string', default: '10' },
      bucket: { type: 'string', default: '250' },
      scenarios: { type: 'string', default: SCENARIOS.join(',') },
      scale: { type: 'string', default: '4,16,32' },
      'scale-boot': { type: 'string', default: '0.3' },
      'scale-batch': { type: 'string', default: '4' },
      out: { type: 'string', default: join(REPO, 'bench', 'results') },
      gunicorn: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  })
  if (values.help) {
    process.stdout.write(HELP)
    return null
  }
  const num = (flag: string, v: string, min: number, max: number) => {
    const n = Number(v)
    if (!/^\d+(\.\d+)?$/.test(v) || n < min || n > max) throw new Error(`--${flag} ${JSON.stringify(v)}: give a number from ${min} to ${max}`)
    return n
  }
  const scenarios = values.scenarios.split(',').filter(Boolean)
  for (const s of scenarios) {
    if (!(SCENARIOS as readonly string[]).includes(s)) throw new Error(`--scenarios: ${JSON.stringify(s)} is not one of ${SCENARIOS.join(', ')}`)
  }
  return {
    workers: num('workers', values.workers, 1, 64),
    bootS: num('boot', values.boot, 0, 30),
    bootCpu: values['boot-cpu'],
    requestMs: num('request-ms', values['request-ms'], 0, 5000),
    requestCpu: values['request-cpu'],
    concurrency: num('concurrency', values.concurrency, 1, 256),
    steadyS: num('steady', values.steady, 1, 120),
    afterS: num('after', values.after, 0, 120),
    timeoutS: num('timeout', values.timeout, 1, 120),
    bucketMs: num('bucket', values.bucket, 50, 5000),
    scenarios: scenarios as ScenarioKind[],
    scale: values.scale.split(',').filter(Boolean).map((v) => num('scale', v, 1, 128)),
    scaleBootS: num('scale-boot', values['scale-boot'], 0, 30),
    scaleBatch: num('scale-batch', values['scale-batch'], 0, 64),
    out: values.out,
    gunicorn: findGunicorn(values.gunicorn),
  }
}

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
    const bootSumMs = result.bootMs.reduce((a, b) => a + b, 0)
    const restartMs = result.t1 - result.t0
    return {
      kind: spec.kind,
      label: spec.label,
      workers: spec.workers,
      bootS: spec.bootS,
      batch: spec.batch,
      ok: result.ok,
      note: result.note,
      exitCode: result.exitCode,
      restartMs,
      toolDurationMs: result.toolDurationMs,
      bootMs: result.bootMs,
      bootSumMs,
      perBootSum: bootSumMs > 0 ? round(restartMs / bootSumMs, 2) : null,
      tool: result.tool,
      stats,
      series: series(records, result.t0, loadStart.at + warmup, stopAt, p.bucketMs),
    }
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

// --- output ----------------------------------------------------------------------------------
function machine(gunicorn: string) {
  const osRelease = (() => {
    try {
      return /^PRETTY_NAME="?([^"\n]*)"?/m.exec(readFileSync('/etc/os-release', 'utf8'))?.[1] ?? null
    } catch {
      return null
    }
  })()
  const python = spawnSync('/usr/bin/python3', ['--version'], { encoding: 'utf8' })
  return {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? null,
    memoryGiB: round(totalmem() / 1024 ** 3, 1),
    os: osRelease,
    kernel: kernel(),
    node: process.version,
    gunicorn: gunicornVersion(gunicorn),
    gunicornPath: gunicorn,
    python: `${python.stdout}${python.stderr}`.trim() || null,
  }
}

const ms = (n: number) => (n >= 10_000 ? `${(n / 1000).toFixed(1)}s` : n >= 1000 ? `${(n / 1000).toFixed(2)}s` : `${Math.round(n)}ms`)

function table(rows: string[][]): string {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? []
  return rows
    .map((r, ri) => {
      const line = r.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join('  ')
      return ri === 0 ? `${line}\n${widths.map((w) => '-'.repeat(w)).join('  ')}` : line
    })
    .join('\n')
}

function mainTable(results: ScenarioResult[]): string {
  return table([
    ['scenario', 'served', 'failed', 'p50', 'p99', 'max', 'throughput', 'restart', '/ Σboot', 'note'],
    ...results.map((r) => [
      r.label,
      String(r.stats.served),
      String(r.stats.failed),
      ms(r.stats.p50),
      ms(r.stats.p99),
      ms(r.stats.max),
      `${Math.round(r.stats.throughputRel * 100)}%`,
      ms(r.restartMs),
      r.perBootSum === null ? '-' : r.perBootSum.toFixed(2),
      r.ok ? '' : (r.note ?? 'failed'),
    ]),
  ])
}

function scaleTable(results: ScenarioResult[]): string {
  return table([
    ['workers', 'batch', 'restart', "tool's report", '/ Σboot', 'failed', 'p99', 'tool peak RSS', 'tool CPU', 'CPU / worker', 'note'],
    ...results.map((r) => [
      String(r.workers),
      String(r.batch),
      ms(r.restartMs),
      r.toolDurationMs === null ? '-' : ms(r.toolDurationMs),
      r.perBootSum === null ? '-' : r.perBootSum.toFixed(2),
      String(r.stats.failed),
      ms(r.stats.p99),
      r.tool ? `${(r.tool.maxRssKb / 1024).toFixed(1)} MiB` : '?',
      r.tool ? `${r.tool.cpuSeconds.toFixed(2)} s` : '?',
      r.tool ? `${((r.tool.cpuSeconds / r.workers) * 1000).toFixed(0)} ms` : '?',
      r.ok ? '' : (r.note ?? 'failed'),
    ]),
  ])
}

async function main(): Promise<number> {
  const p = parse(process.argv.slice(2))
  if (!p) return 0
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)

  const specs: RunSpec[] = p.scenarios.map((kind) => ({
    kind,
    label: LABELS[kind],
    workers: p.workers,
    bootS: p.bootS,
    batch: 1,
    steadyS: p.steadyS,
    afterS: p.afterS,
  }))
  const scaleSpecs: RunSpec[] = p.scale.map((w) => ({ kind: 'replace', label: `scale ${w} workers`, workers: w, bootS: p.scaleBootS, batch: 1, steadyS: 2, afterS: 1 }))
  const maxScale = Math.max(0, ...p.scale)
  if (p.scaleBatch > 1 && maxScale > 0) {
    scaleSpecs.push({ kind: 'replace', label: `scale ${maxScale} workers batch ${p.scaleBatch}`, workers: maxScale, bootS: p.scaleBootS, batch: p.scaleBatch, steadyS: 2, afterS: 1 })
  }

  const started = new Date()
  const load0 = loadavg()
  const info = machine(p.gunicorn)
  process.stdout.write(
    `rolling-restart benchmark: Gunicorn ${info.gunicorn} on ${info.cpus} CPU(s), ${info.os ?? 'unknown OS'}, node ${info.node}\n` +
      `main: ${p.workers} workers, ${p.bootS} s boot, ${p.requestMs} ms per request, ${p.concurrency} clients; load average ${load0.map((l) => l.toFixed(2)).join(' ')}\n`,
  )
  const all = [...specs, ...scaleSpecs]
  const results: ScenarioResult[] = []
  const scale: ScenarioResult[] = []
  for (const [i, spec] of all.entries()) {
    const head = `[${i + 1}/${all.length}] ${spec.label} (${spec.workers} workers, ${spec.bootS} s boot${spec.batch > 1 ? `, batch ${spec.batch}` : ''})`
    process.stdout.write(`${head}: starting gunicorn\n`)
    const r = await runOne(p, spec, (s) => process.stdout.write(`${head}: ${s}\n`))
    process.stdout.write(
      `${head}: restart ${ms(r.restartMs)}, ${r.stats.served} served, ${r.stats.failed} failed, p99 ${ms(r.stats.p99)}, max ${ms(r.stats.max)}${r.ok ? '' : ` - ${r.note}`}\n`,
    )
    ;(i < specs.length ? results : scale).push(r)
  }

  const stamp = started.toISOString().replace(/:/g, '-').slice(0, 19)
  mkdirSync(p.out, { recursive: true })
  const jsonPath = join(p.out, `${stamp}.json`)
  const svgPath = join(p.out, `${stamp}.svg`)
  const { gunicorn: _g, out: _o, ...params } = p
  writeFileSync(
    jsonPath,
    JSON.stringify(
      {
        date: started.toISOString(),
        durationS: round((Date.now() - started.getTime()) / 1000),
        command: `npm run bench -- ${process.argv.slice(2).join(' ')}`.trim(),
        machine: { ...info, loadAverageAtStart: load0, loadAverageAtEnd: loadavg() },
        params,
        scenarios: results,
        scale,
      },
      null,
      1,
    ) + '\n',
  )
  if (results.length > 0) {
    writeFileSync(
      svgPath,
      renderChart({
        title: `Restarting ${p.workers} Gunicorn workers (${p.bootS} s boot each) under steady load`,
        subtitle:
          `${started.toISOString().slice(0, 16).replace('T', ' ')} UTC · ${p.concurrency} closed-loop clients, ${p.requestMs} ms per request · ` +
          `Gunicorn ${info.gunicorn} sync workers · ${info.cpus} CPUs · ${info.os ?? ''} · node ${info.node}`,
        bucketMs: p.bucketMs,
        rows: results.map((r) => ({
          label: r.label,
          summary:
            `failed ${r.stats.failed} · p99 ${ms(r.stats.p99)} · max ${ms(r.stats.max)} · throughput ${Math.round(r.stats.throughputRel * 100)}% · ` +
            `restart ${ms(r.restartMs)}` +
            (r.perBootSum !== null ? ` = ${r.perBootSum.toFixed(2)} × Σboot` : ''),
          windowS: r.restartMs / 1000,
          buckets: r.series,
          failed: r.stats.failed,
        })),
      }),
    )
  }

  process.stdout.write('\n')
  if (results.length) {
    process.stdout.write(
      `During the restart window (requests in flight between the trigger and the last new worker ready; throughput against the ${p.steadyS} s before):\n` +
        mainTable(results) +
        '\n\n',
    )
  }
  if (scale.length) {
    process.stdout.write(
      `Scale: rolling-restart replace, ${p.scaleBootS} s boot. restart: spawn to exit of the CLI (node's start-up included); ` +
        `tool's report: its own durationMs; peak RSS and CPU of the CLI process (GNU time):\n${scaleTable(scale)}\n\n`,
    )
  }
  process.stdout.write(`JSON: ${relative(process.cwd(), jsonPath)}\n`)
  if (results.length) process.stdout.write(`chart: ${relative(process.cwd(), svgPath)}\n`)
  process.stdout.write(`took ${round((Date.now() - started.getTime()) / 1000)} s\n`)
  return 0
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
