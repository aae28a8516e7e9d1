import t from 'tap'
import { spawn, spawnSync } from 'node:child_process'
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { EXIT, RefusedError } from '../../src/errors.js'
import { acquireLock, lockPath } from '../../src/state/lock.js'
import { lockKeyPath } from '../../src/state/lock-key.js'
import { repoRoot } from '../helpers/paths.js'

const deadPid = (): number => Number(spawnSync(process.execPath, ['-e', 'console.log(process.pid)'], { encoding: 'utf8' }).stdout.trim())

t.test('one holder at a time, released on release()', async (t) => {
  const dir = t.testdir({})
  const a = await acquireLock(dir, 'k', 'app:blue')
  t.equal(a.recoveredFrom, null)
  const err = await acquireLock(dir, 'k', 'app:blue').then(
    () => null,
    (e: unknown) => e,
  )
  t.type(err, RefusedError)
  t.match((err as Error).message, new RegExp(`pid ${process.pid}.*app:blue`), 'names the holder pid and the group')
  t.equal((err as RefusedError).exitCode, EXIT.REFUSED)
  a.release()
  t.notOk(existsSync(lockPath(dir, 'k')), 'release() removed the lock file')
  const b = await acquireLock(dir, 'k', 'app:blue')
  t.equal(b.recoveredFrom, null, 'free again after release: taken cleanly, nothing to recover')
  b.release()
})

t.test('the record left by a dead run is reported and replaced', async (t) => {
  const dir = t.testdir({})
  const dead = deadPid()
  writeFileSync(lockPath(dir, 'k'), JSON.stringify({ pid: dead, startTicks: 1, since: 'then', command: 'rolling-restart' }))
  const l = await acquireLock(dir, 'k', 'g')
  t.equal(l.recoveredFrom?.pid, dead)
  t.equal(JSON.parse(readFileSync(lockPath(dir, 'k'), 'utf8')).pid, process.pid)
  l.release()
})

t.test('a pid reused by another process does not keep the lock', async (t) => {
  const dir = t.testdir({})
  writeFileSync(lockPath(dir, 'k'), JSON.stringify({ pid: process.pid, startTicks: 1, since: 'then', command: 'x' }))
  const l = await acquireLock(dir, 'k', 'g')
  t.equal(l.recoveredFrom?.pid, process.pid)
  l.release()
})

t.test('an empty or half-written lock file left by a killed run does not block the next run', async (t) => {
  for (const content of ['', '{"pi']) {
    const dir = t.testdir({})
    writeFileSync(lockPath(dir, 'k'), content)
    const l = await acquireLock(dir, 'k', 'g')
    t.equal(JSON.parse(readFileSync(lockPath(dir, 'k'), 'utf8')).pid, process.pid, `taken at once over ${JSON.stringify(content)}`)
    l.release()
  }
})

t.test('the lock key is private to the state directory owner and stable', async (t) => {
  const dir = t.testdir({})
  const l = await acquireLock(dir, 'k', 'g')
  l.release()
  const key = lockKeyPath(dir)
  t.equal(statSync(key).mode & 0o777, 0o600)
  const before = readFileSync(key)
  ;(await acquireLock(dir, 'k', 'g')).release()
  t.same(readFileSync(key), before, 'made once')
})

t.test('a holder killed with SIGKILL frees the lock at once', async (t) => {
  const dir = t.testdir({})
  const mod = join(repoRoot, 'dist', 'src', 'state', 'lock.js')
  const child = spawn(process.execPath, ['--input-type=module', '-e', `const { acquireLock } = await import(${JSON.stringify(mod)}); await acquireLock(${JSON.stringify(dir)}, 'k', 'g'); console.log('held'); setInterval(() => {}, 1000)`], { stdio: ['ignore', 'pipe', 'inherit'] })
  t.teardown(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
  })
  await new Promise<void>((resolve, reject) => {
    child.stdout.once('data', () => resolve())
    child.once('exit', (code) => reject(new Error(`holder exited early (${code})`)))
  })
  await t.rejects(acquireLock(dir, 'k', 'g'), RefusedError, 'held while the holder lives')
  child.kill('SIGKILL')
  await new Promise((r) => child.once('exit', r))
  const l = await acquireLock(dir, 'k', 'g')
  t.equal(l.recoveredFrom?.pid, child.pid, 'taken, and the killed holder is named')
  l.release()
})

t.test('two runs recovering the same dead holder on a barrier never both hold it (100 rounds)', async (t) => {
  const dir = t.testdir({})
  const rounds = 100
  const roundMs = 60
  const mod = join(repoRoot, 'dist', 'src', 'state', 'lock.js')
  const script = join(repoRoot, 'test', 'fixtures', 'lock', 'contender.mjs')
  const t0 = Date.now() + 1500
  const dead = deadPid()
  const run = (writeStale: boolean) =>
    new Promise<Array<{ round: number; held: boolean; from?: number; to?: number; code?: string }>>((resolve, reject) => {
      const c = spawn(process.execPath, [script, mod, dir, 'k', String(rounds), String(t0), String(roundMs), '20', writeStale ? '1' : '0', String(dead)], {
        stdio: ['ignore', 'pipe', 'inherit'],
      })
      t.teardown(() => {
        if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL')
      })
      let out = ''
      c.stdout.on('data', (d) => (out += d))
      c.once('exit', (code) => (code === 0 ? resolve(out.trim().split('\n').map((l) => JSON.parse(l))) : reject(new Error(`contender exited ${code}`))))
    })
  const [a, b] = await Promise.all([run(true), run(false)])
  t.equal(a.length, rounds)
  t.equal(b.length, rounds)
  let both = 0
  let one = 0
  for (let i = 0; i < rounds; i++) {
    const x = a[i]!
    const y = b[i]!
    if (x.held && y.held && x.from! < y.to! && y.from! < x.to!) both++
    if (x.held !== y.held) one++
    for (const r of [x, y]) if (!r.held) t.equal(r.code, 'locked', 'the loser is refused as locked, not failed')
  }
  t.equal(both, 0, 'never held by both at once')
  t.ok(one > rounds / 2, `most rounds were a real race with one winner (${one} of ${rounds})`)
})
