/**
 * The machine a bench run ran on, for its JSON and its heading.
 */
import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { cpus, release as kernel, totalmem } from 'node:os'
import { gunicornVersion } from '../src/demo/server.js'
import { round } from './stats.js'

export function machine(gunicorn: string) {
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

