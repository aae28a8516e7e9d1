// A state directory that cannot take a write (full, read-only, owned by another user), against a
// real Gunicorn (Debian's 20.1): the run exits 3 before any signal, with a message naming the
// directory, the cause and the fix, no stack trace, and no lock file left. A directory that fills
// up mid-roll stops the roll before its next signal: exit 4, no half-written file.
import t from 'tap'
import { chmodSync, readdirSync, readFileSync, rmSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { makeAppDir } from '../helpers/apps.js'
import { runCli, spawnCli, type CliResult } from '../helpers/cli.js'
import { startGunicorn, type GunicornOptions } from '../helpers/gunicorn.js'
import { freeUdpPort } from '../helpers/ports.js'
import { isAlive } from '../helpers/procs.js'
import { tempDir } from '../helpers/tmp.js'
import { canMount, fillLeaving, freeBytes, mountTmpfs } from '../helpers/tmpfs.js'

const NOBODY = { uid: 65534, gid: 65534 }

async function setup(t: Tap.Test, name: string, extra: Partial<GunicornOptions> = {}) {
  const notifyPort = await freeUdpPort()
  const server = await startGunicorn(t, { appDir: makeAppDir(t, 'good', { revision: 'r1' }), workers: 3, name, notifyPort, env: { BOOT_DELAY: '0.3' }, ...extra })
  return { server, flags: ['--group', name, '--notify', `127.0.0.1:${notifyPort}`, '--no-preflight', '--json'] }
}

/** Nothing of ours left in the state directory but the lock key: no lock file, no temporary file. */
const leftovers = (dir: string): string[] => readdirSync(dir).filter((f) => f.endsWith('.lock') || f.endsWith('.tmp'))

const refusedBeforeAnySignal = (t: Tap.Test, run: CliResult, before: number[], now: number[], stateDir: string, cause: RegExp) => {
  t.equal(run.code, 3, 'exit 3', { stderr: run.stderr.slice(-1500) })
  t.match(run.stderr, new RegExp(`cannot write the state directory ${stateDir}`), 'the message names the directory')
  t.match(run.stderr, cause, 'and the cause')
  t.match(run.stderr, /Nothing was touched\. Fix: .*--state-dir DIR/, 'and the fix')
  t.notMatch(run.stderr, /\n\s+at .*\(.*:\d+:\d+\)|internal error/, 'no stack trace')
  t.equal((run.json as { error: { code: string } } | undefined)?.error.code, 'state-dir', 'the JSON error says why')
  t.same(now, before, 'every worker pid unchanged: none was signalled')
  t.ok(before.every(isAlive), 'and all are alive')
  t.same(leftovers(stateDir), [], 'no lock file or temporary file left')
}

t.test('a state directory on a full file system: exit 3 before any signal', { skip: !canMount() && 'needs root to mount a tmpfs' }, async (t) => {
  const { server, flags } = await setup(t, 'state-full')
  for (const leave of [8192, 0]) {
    const mount = mountTmpfs(t, { sizeKb: 64 })
    const stateDir = join(mount, 'state')
    mkdirSync(stateDir)
    fillLeaving(mount, leave)
    t.comment(`${freeBytes(mount)} bytes free`)
    const before = server.workerPids()
    const run = await runCli([...flags, '--state-dir', stateDir])
    refusedBeforeAnySignal(t, run, before, server.workerPids(), stateDir, /ENOSPC: the file system is full \(\d+(\.\d+)? (B|KiB) free\)/)
  }
})

t.test('a state directory on a read-only file system: exit 3 before any signal', { skip: !canMount() && 'needs root to mount a tmpfs' }, async (t) => {
  const { server, flags } = await setup(t, 'state-ro')
  const stateDir = mountTmpfs(t, { sizeKb: 64, readOnly: true })
  const before = server.workerPids()
  const run = await runCli([...flags, '--state-dir', stateDir])
  refusedBeforeAnySignal(t, run, before, server.workerPids(), stateDir, /EROFS: it is on a read-only file system.*mount it read-write/)
  // a state directory that does not exist yet, below a read-only one
  const below = join(stateDir, 'rolling-restart')
  const missing = await runCli([...flags, '--state-dir', below])
  t.equal(missing.code, 3)
  t.match(missing.stderr, new RegExp(`cannot write the state directory ${below} \\(making it\\): EROFS`))
  t.same(server.workerPids(), before)
})

t.test('a state directory owned by another user: exit 3 before any signal', { skip: !canMount() && 'needs root to run the server and the CLI as nobody' }, async (t) => {
  // the server and the CLI run as nobody; the state directory is root's (0755), as after `sudo rolling-restart` once
  const { server, flags } = await setup(t, 'state-owner', { user: NOBODY })
  const stateDir = tempDir(t, 'state')
  const before = server.workerPids()
  const run = await runCli([...flags, '--state-dir', stateDir], { user: NOBODY })
  refusedBeforeAnySignal(t, run, before, server.workerPids(), stateDir, /EACCES: it is owned by root \(uid 0\) with mode 0755 and rolling-restart runs as nobody \(uid 65534\).*chown 65534/)

  // and once the directory is theirs, the same run rolls (the refusal was the directory, nothing else)
  chmodSync(stateDir, 0o777)
  const ok = await runCli([...flags, '--state-dir', stateDir], { user: NOBODY })
  t.equal(ok.code, 0, 'exit 0 once the directory is writable', { stderr: ok.stderr.slice(-1500) })
  t.ok(before.every((p) => !isAlive(p)), 'every old worker replaced')
})

t.test('the state directory fills up mid-roll: the roll stops before its next signal, exit 4, no half-written file', { skip: !canMount() && 'needs root to mount a tmpfs' }, async (t) => {
  const { server, flags } = await setup(t, 'state-fills', { env: { BOOT_DELAY: '2.0' } })
  const mount = mountTmpfs(t, { sizeKb: 256 })
  const stateDir = join(mount, 'state')
  mkdirSync(stateDir)
  const original = server.workerPids()
  const run = spawnCli([...flags, '--state-dir', stateDir], { t })
  // the first worker was signalled and has exited: its replacement boots for 2 s; fill the disk now
  const deadline = Date.now() + 30_000
  while (isAlive(original[0] as number) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10))
  const filler = fillLeaving(mount, 0)
  const result = await run.result
  t.equal(result.code, 4, 'exit 4', { stderr: result.stderr.slice(-2000) })
  const error = (result.json as { error: { code: string; message: string } }).error
  t.equal(error.code, 'state-write')
  t.match(error.message, /cannot write the state directory .*ENOSPC: the file system is full.*The roll stopped before its next signal, after [01] of 3 workers.*2 old worker\(s\) were not touched and keep serving.*not in error-resistance mode/s)
  t.notMatch(result.stderr, /\n\s+at .*:\d+:\d+\)|internal error/, 'no stack trace')
  t.same(original.slice(1).filter(isAlive), original.slice(1), 'no worker after the first was signalled')
  t.notOk(isAlive(original[0] as number), 'the first one was')
  t.ok(isAlive(server.masterPid))
  t.same(leftovers(stateDir), [], 'no lock file or temporary file left')
  rmSync(filler)
  const state = JSON.parse(readFileSync(join(stateDir, 'gunicorn--state-fills.json'), 'utf8')) as { roll: { total: number } | null; errorResistance: unknown }
  t.equal(state.roll?.total, 3, 'the state file is the last whole one written (the roll in progress)')
  t.equal(state.errorResistance, null)
})
