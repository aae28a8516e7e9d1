import t from 'tap'
import type { ProcInfo } from '../../src/proc/procfs.js'
import { findAll } from '../../src/servers/gunicorn/find-master.js'
import { gunicornArgIndex } from '../../src/servers/gunicorn/processes.js'

const proc = (pid: number, argv: string[], ppid = 1): ProcInfo => ({
  pid,
  ppid,
  comm: 'x',
  state: 'S',
  startTicks: pid,
  argv,
  cmdline: argv.join(' '),
  startedAt: 0,
})

t.test('a Gunicorn command line: the gunicorn script, or a Python running it', async (t) => {
  t.equal(gunicornArgIndex(['/usr/bin/gunicorn', '-c', 'g.py', 'app:app']), 0)
  t.equal(gunicornArgIndex(['/usr/bin/python3', '/usr/bin/gunicorn', 'app:app']), 1)
  t.equal(gunicornArgIndex(['/srv/venv/bin/python3.12', '-X', 'dev', '/srv/venv/bin/gunicorn', 'app:app']), 3)
  t.equal(gunicornArgIndex(['python3', '-u', '-m', 'gunicorn', 'app:app']), 3)
  t.equal(gunicornArgIndex(['python3', '-m', 'uvicorn', 'gunicorn']), -1, 'another module')
  t.equal(gunicornArgIndex(['python3', 'manage.py', 'gunicorn']), -1, 'another script')
  t.equal(
    gunicornArgIndex(['/usr/bin/node', '/usr/bin/rolling-restart', '--server', 'gunicorn', '--pidfile', '/run/g.pid']),
    -1,
    'a program whose arguments name gunicorn is not Gunicorn',
  )
})

t.test('findAll: every titled Gunicorn master among the processes, named by pid; never its workers', async (t) => {
  const procs = [
    proc(10, ['gunicorn: master [app]']),
    proc(11, ['gunicorn: worker [app]'], 10),
    proc(20, ['gunicorn: master [other]']),
    proc(30, ['/usr/bin/node', '/usr/bin/rolling-restart', '--server', 'gunicorn']),
    proc(40, ['uWSGI master']),
  ]
  t.same(findAll(procs), [
    { master: 10, server: 'gunicorn' },
    { master: 20, server: 'gunicorn' },
  ])
})

t.test('findAll (mod_wsgi): every titled daemon group of every Apache, named by its parent and group', async (t) => {
  const { findAll: modWsgiGroups } = await import('../../src/servers/mod-wsgi/find-target.js')
  const apache = (pid: number, argv: string[], ppid: number): ProcInfo => ({ ...proc(pid, argv, ppid), comm: 'apache2' })
  const procs = [
    apache(100, ['/usr/sbin/apache2', '-k', 'start'], 1),
    apache(101, ['/usr/sbin/apache2', '-k', 'start'], 100),
    apache(102, ['(wsgi:blue)       '], 100),
    apache(103, ['(wsgi:blue)       '], 100),
    apache(104, ['(wsgi:green)      '], 100),
    proc(200, ['gunicorn: master [x]']),
  ]
  t.same(modWsgiGroups(procs), [
    { master: 100, group: 'blue', server: 'mod_wsgi' },
    { master: 100, group: 'green', server: 'mod_wsgi' },
  ])
})
