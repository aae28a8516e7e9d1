/**
 * How long the CLI takes to answer when it does no work: `rolling-restart --version` and `--help`
 * against `node -e 0`, the floor of any Node program, each the median of N runs taken in turns
 * (so a busy moment of the machine falls on all three alike).
 */
import { spawnSync } from 'node:child_process'
import { join } from 'node:path'

export interface StartupFigures {
  runs: number
  /** medians, ms from spawn to exit */
  nodeMs: number
  versionMs: number
  helpMs: number
}

function timed(args: string[]): number {
  const t = process.hrtime.bigint()
  const r = spawnSync(process.execPath, args, { stdio: 'ignore' })
  if (r.status !== 0) throw new Error(`node ${args.join(' ')} exited ${r.status ?? r.signal}`)
  return Number(process.hrtime.bigint() - t) / 1e6
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b)
  return s.length % 2 ? (s[(s.length - 1) / 2] as number) : ((s[s.length / 2 - 1] as number) + (s[s.length / 2] as number)) / 2
}

export function measureStartup(repo: string, runs: number): StartupFigures {
  const bin = join(repo, 'bin', 'rolling-restart')
  const node: number[] = []
  const version: number[] = []
  const help: number[] = []
  timed(['-e', '0']) // a first run warms the page cache for all
  for (let i = 0; i < runs; i++) {
    node.push(timed(['-e', '0']))
    version.push(timed([bin, '--version']))
    help.push(timed([bin, '--help']))
  }
  const r = (n: number) => Math.round(n * 10) / 10
  return { runs, nodeMs: r(median(node)), versionMs: r(median(version)), helpMs: r(median(help)) }
}
