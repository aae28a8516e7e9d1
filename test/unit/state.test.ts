import t from 'tap'
import { spawnSync } from 'node:child_process'
import { existsSync, readdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs'
import { EXIT, RefusedError } from '../../src/errors.js'
import {
  emptyState,
  probeStateWrite,
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

t.test('the probe before a run writes the record beside its file and removes it: the state file is left as it was', async (t) => {
  const dir = t.testdir({})
  const key = stateKey('gunicorn', 'app')
  const init = { key, group: 'app', server: 'gunicorn', masterPid: 9 }
  probeStateWrite(dir, init)
  t.same(readdirSync(dir).filter((f) => f !== '.lock-key'), [], 'first run: no state file made, no temporary one left')
  const s = emptyState(key, 'app', 'gunicorn', 7)
  s.surplus = 2
  writeState(dir, s)
  const before = readFileSync(statePath(dir, key), 'utf8')
  probeStateWrite(dir, init)
  t.equal(readFileSync(statePath(dir, key), 'utf8'), before, 'the state file is untouched')
  t.same(readdirSync(dir), [`${key}.json`], 'and nothing else is left')
})

t.test("a roll's progress: written on one line from the state this process wrote last; the record a run leaves is indented", async (t) => {
  const dir = t.testdir({})
  const key = stateKey('gunicorn', 'app')
  const init = { key, group: 'app', server: 'gunicorn', masterPid: 123 }
  const first = updateState(dir, init, (s) => (s.surplus = 1), false)
  const text = readFileSync(statePath(dir, key), 'utf8')
  t.equal(text.trim().split('\n').length, 1, 'progress: one line')
  t.equal(JSON.parse(text).surplus, 1)
  // with the lock held nobody else writes the file; the next progress write starts from what this one wrote
  const second = updateState(dir, init, (s) => (s.surplus = 2), false, first)
  t.equal(second, first, 'the same state, not a fresh read of the file')
  t.equal(readState(dir, key)?.surplus, 2)
  updateState(dir, init, (s) => (s.surplus = 3))
  const final = readFileSync(statePath(dir, key), 'utf8')
  t.ok(final.split('\n').length > 5, 'the durable record is indented, for a person reading it')
  t.equal(JSON.parse(final).surplus, 3)
})
