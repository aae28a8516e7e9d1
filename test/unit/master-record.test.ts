// The master record (python-hooks/rolling_restart_hook/master_record.py) read back from /proc:
// found by its memfd name, checked field by field, turned into uWSGI options.
import t from 'tap'
import { spawn } from 'node:child_process'
import { join } from 'node:path'
import { masterRecord, parseRecord, readRecordOf } from '../../src/proc/master-record.js'
import { optionsFromRecord } from '../../src/servers/uwsgi/recorded-options.js'
import { lastValue } from '../../src/servers/uwsgi/options.js'

const hooks = join(import.meta.dirname, '..', '..', 'python-hooks')

t.test('a process that wrote a record: found by its memfd name, read whole', async (t) => {
  const code = 'import sys\nfrom rolling_restart_hook.master_record import record\nrecord("gunicorn")\nprint("ready", flush=True)\nsys.stdin.read()\n'
  const child = spawn('/usr/bin/python3', ['-c', code, 'app:app'], {
    cwd: hooks,
    env: { PATH: process.env.PATH ?? '', PYTHONPATH: hooks, PYTHONDONTWRITEBYTECODE: '1', MARKER: 'from the env' },
    stdio: ['pipe', 'pipe', 'inherit'],
  })
  t.teardown(() => {
    child.kill('SIGKILL')
  })
  await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()))
  const r = readRecordOf(child.pid as number)
  t.ok(r, 'found')
  t.match(r, { version: 1, server: 'gunicorn', pid: child.pid, argv: ['-c', 'app:app'], cwd: hooks, interpreter: '/usr/bin/python3', env: { MARKER: 'from the env' } })
  t.match(r?.from, new RegExp(`^/proc/${child.pid}/fd/\\d+$`))
  t.equal(masterRecord(child.pid as number)?.pid, child.pid, "the master's own record comes first")
  t.equal(readRecordOf(process.pid), null, 'a process without one')
  t.equal(readRecordOf(999_999_999), null, 'no such process')
})

t.test('parseRecord: only a whole record of a known version', async (t) => {
  const good = { version: 1, server: 'uwsgi', pid: 5, at: 1, argv: ['uwsgi'], cwd: '/srv', env: { A: 'b', N: 3 }, path: ['/srv', 7], uwsgi: { 'wsgi-file': 'w.py' } }
  const r = parseRecord(JSON.stringify(good), '/proc/5/fd/3')
  t.match(r, { server: 'uwsgi', argv: ['uwsgi'], cwd: '/srv', env: { A: 'b' }, path: [], origArgv: null, interpreter: null, from: '/proc/5/fd/3' })
  t.notOk('N' in (r?.env ?? {}), 'non-string variables dropped')
  t.equal(parseRecord('{"version":2,"argv":[],"cwd":"/"}', 'x'), null, 'another version')
  t.equal(parseRecord('{"version":1,"cwd":"/"}', 'x'), null, 'no argv')
  t.equal(parseRecord('{"version":1,"argv":[], "cwd"', 'x'), null, 'cut short')
  t.equal(parseRecord('null', 'x'), null)
})

t.test('uWSGI options from the record: flags, values, and the pythonpath the app ran with', async (t) => {
  const r = parseRecord(
    JSON.stringify({
      version: 1,
      argv: ['uwsgi'],
      cwd: '/srv/app',
      path: ['.', '', '/srv/app', '/srv/lib', '/usr/lib/python311.zip', '/usr/lib/python3.11', '/usr/lib/python3.11/lib-dynload', '/usr/lib/python3/dist-packages'],
      uwsgi: { 'wsgi-file': 'wsgi.py', 'lazy-apps': true, pythonpath: '/srv/lib', env: ['A=1', 'B=2'], master: 'true' },
    }),
    '/proc/9/fd/4',
  )
  const o = optionsFromRecord(r!)!
  t.equal(lastValue(o, 'wsgi-file'), 'wsgi.py')
  t.equal(lastValue(o, 'lazy-apps'), 'true')
  t.same(o.values.get('env'), ['A=1', 'B=2'])
  t.same(o.values.get('pythonpath'), ['/srv/lib', '/srv/app'], "sys.path adds what uwsgi.opt dropped, not Python's own directories")
  t.match(o.sources, [/uwsgi\.opt, as recorded by the hook .*\/proc\/9\/fd\/4/])
  t.equal(optionsFromRecord({ ...r!, uwsgi: null }), null, 'a Gunicorn record has no uWSGI options')
})
