import t from 'tap'
import { spawnSync } from 'node:child_process'
import { existsSync, readdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs'
import { EXIT, RefusedError } from '../../src/errors.js'
import { acquireLock, lockPath } from '../../src/state/lock.js'
import {
  emptyState,
  readState,
  stateKey,
  statePath,
  updateState,
  writeState,
} from '../../src/state/state-file.js'
import { writeFileAtomic } from '../../src/fs/atomic-write.js'

t.test('state keys are file-name safe and distinct per server', async (t) => {
  t.equal(stateKey('mod_wsgi', 'app:blue'), 'mod_wsgi--app%3Ablue')
  t.equal(stateKey('gunicorn', '../etc/passwd'), 'gunicorn--%2E%2E%2Fetc%2Fpasswd')
  t.not(stateKey('gunicorn', 'a'), stateKey('uwsgi', 'a'))
})

t.test('write, read, update round trip', async (t) => {
  const dir = t.testdir({})
  const key = stateKey('gunicorn', 'app')
  t.equal(readState(dir, key), null, 'no file: no state')
  const s = emptyState(key, 'app', 'gunicorn', 123)
  s.surplus = 1
  writeState(dir, s)
  const back = readState(dir, key)
  t.equal(back?.masterPid, 123)
  t.equal(back?.surplus, 1)
  updateState(dir, { key, group: 'app', server: 'gunicorn', masterPid: 456 }, (st) => {
    st.errorResistance = {
      reason: 'not-ready',
      message: 'm',
      at: 'now',
      runPid: 1,
      oldPid: 2,
      newPid: 3,
      replaced: [],
      untouched: [4, 5],
      surplus: 0,
    }
  })
  const after = readState(dir, key)
  t.equal(after?.masterPid, 456, 'the master pid follows the live master')
  t.same(after?.errorResistance?.untouched, [4, 5])
  t.same(readdirSync(dir).sort(), [`${key}.json`], 'no temporary files left behind')
})

t.test('a corrupt or foreign state file is refused with advice, not overwritten', async (t) => {
  const dir = t.testdir({ 'gunicorn--app.json': '{not json', 'gunicorn--old.json': '{"version": 9, "key": "x"}' })
  t.throws(() => readState(dir, 'gunicorn--app'), /not valid JSON.*move it aside/)
  t.throws(() => readState(dir, 'gunicorn--old'), /unknown format/)
  t.equal(readFileSync(statePath(dir, 'gunicorn--app'), 'utf8'), '{not json')
})

t.test('files written by an older version gain the new fields', async (t) => {
  const dir = t.testdir({ 'k.json': JSON.stringify({ version: 1, key: 'k', group: 'g', server: 'gunicorn', masterPid: 1 }) })
  const s = readState(dir, 'k')
  t.same(s?.workers, {})
  t.equal(s?.surplus, 0)
  t.same(s?.releases.history, [])
})

t.test('atomic write replaces the file by rename (new inode)', async (t) => {
  const dir = t.testdir({ 'f.txt': 'old' })
  const path = `${dir}/f.txt`
  const { statSync } = await import('node:fs')
  const before = statSync(path).ino
  writeFileAtomic(path, 'new')
  t.equal(readFileSync(path, 'utf8'), 'new')
  t.not(statSync(path).ino, before)
})

t.test('lock: one holder at a time, released on release()', async (t) => {
  const dir = t.testdir({})
  const a = acquireLock(dir, 'k', 'app:blue')
  t.equal(a.recoveredFrom, null)
  const second = () => acquireLock(dir, 'k', 'app:blue')
  t.throws(second, RefusedError)
  try {
    second()
  } catch (err) {
    t.match((err as Error).message, new RegExp(`pid ${process.pid}.*app:blue`), 'names the holder pid and the group')
    t.equal((err as RefusedError).exitCode, EXIT.REFUSED)
  }
  a.release()
  t.notOk(existsSync(lockPath(dir, 'k')), 'release() removed the lock file')
  const b = acquireLock(dir, 'k', 'app:blue')
  t.equal(b.recoveredFrom, null, 'free again after release: taken cleanly, nothing to recover')
  b.release()
})

t.test('lock: a lock left by a dead run is recovered', async (t) => {
  const dir = t.testdir({})
  // a real process that has exited: its pid no longer runs (or runs something with another start time)
  const child = spawnSync(process.execPath, ['-e', 'console.log(process.pid)'], { encoding: 'utf8' })
  const deadPid = Number(child.stdout.trim())
  writeFileSync(lockPath(dir, 'k'), JSON.stringify({ pid: deadPid, startTicks: 1, since: 'then', command: 'rolling-restart' }))
  const l = acquireLock(dir, 'k', 'g')
  t.equal(l.recoveredFrom?.pid, deadPid)
  t.equal(JSON.parse(readFileSync(lockPath(dir, 'k'), 'utf8')).pid, process.pid)
  l.release()
})

t.test('lock: a pid reused by another process does not keep the lock', async (t) => {
  const dir = t.testdir({})
  // our own pid, but a start time that is not ours: the original holder died and the pid was reused
  writeFileSync(lockPath(dir, 'k'), JSON.stringify({ pid: process.pid, startTicks: 1, since: 'then', command: 'x' }))
  const l = acquireLock(dir, 'k', 'g')
  t.equal(l.recoveredFrom?.pid, process.pid)
  l.release()
})

t.test('lock: a half-written lock is respected briefly, then recovered', async (t) => {
  const dir = t.testdir({})
  writeFileSync(lockPath(dir, 'k'), '{"pi')
  t.throws(() => acquireLock(dir, 'k', 'g'), /taking the lock/)
  const old = new Date(Date.now() - 60_000)
  utimesSync(lockPath(dir, 'k'), old, old)
  const l = acquireLock(dir, 'k', 'g')
  t.equal(JSON.parse(readFileSync(lockPath(dir, 'k'), 'utf8')).pid, process.pid, 'recovered after the grace period')
  l.release()
})
