/**
 * The bench's parameters: `node dist/bench/run.js --help` lists them.
 */
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { findGunicorn } from '../src/demo/server.js'
import { packageRoot } from '../src/paths.js'
import { SCENARIOS, type ScenarioKind } from './scenarios.js'

export const HELP = `npm run bench -- [options]      (or: node dist/bench/run.js [options])

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
  --scale LIST         worker counts of the scale runs (rolling-restart replace; default 4,16,32,64; "" for none)
  --scale-boot S       boot time in the scale runs (default 0.3)
  --scale-batch N      one more scale run at the largest count with --batch N (default 4; 0 for none)
  --scale-loop N       1: the hand-made loop at each scale count too, for the tool's time over it (default 1; 0 for none)
  --startup-runs N     runs of node -e 0, rolling-restart --version and --help, for their medians (default 15; 0 for none)
  --out DIR            where the JSON and the SVG go (default bench/results)
  --gunicorn PATH      the gunicorn to run (default /usr/bin/gunicorn, else PATH)
`

export interface Params {
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
  scaleLoop: boolean
  startupRuns: number
  out: string
  gunicorn: string
}

/** argv -> the parameters; null after --help. Throws an Error naming the flag and the range on a bad value. */
export function parseParams(argv: string[]): Params | null {
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
      scale: { type: 'string', default: '4,16,32,64' },
      'scale-boot': { type: 'string', default: '0.3' },
      'scale-batch': { type: 'string', default: '4' },
      'scale-loop': { type: 'string', default: '1' },
      'startup-runs': { type: 'string', default: '15' },
      out: { type: 'string', default: join(packageRoot(), 'bench', 'results') },
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
    scaleLoop: num('scale-loop', values['scale-loop'], 0, 1) === 1,
    startupRuns: num('startup-runs', values['startup-runs'], 0, 200),
    out: values.out,
    gunicorn: findGunicorn(values.gunicorn),
  }
}
