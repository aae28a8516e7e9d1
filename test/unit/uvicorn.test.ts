// Uvicorn's --workers supervisor from outside: its command line (uvicorn and fastapi run), its
// workers and its resource tracker, fastapi-cli's way of finding the app.
import t from 'tap'
import { appNameFromSource, moduleOf } from '../../src/servers/uvicorn/fastapi-app.js'
import { commandOf, isResourceTracker, isSpawnWorker, parseUvicornArgs, reportedSpec } from '../../src/servers/uvicorn/index.js'
import type { ProcInfo } from '../../src/proc/procfs.js'

const proc = (argv: string[]): ProcInfo => ({ pid: 2, ppid: 1, comm: 'python3', state: 'S', startTicks: 1, argv, cmdline: argv.join(' '), startedAt: 0 })

t.test('which command lines are uvicorn or fastapi, and where their arguments start', async (t) => {
  t.same(commandOf(['/srv/venv/bin/python3', '/srv/venv/bin/uvicorn', 'main:app', '--workers', '3']), { command: 'uvicorn', index: 1 })
  t.same(commandOf(['python3', '-m', 'uvicorn', 'main:app']), { command: 'uvicorn', index: 2 })
  t.same(commandOf(['/srv/venv/bin/python', '/srv/venv/bin/fastapi', 'run', '--workers', '4']), { command: 'fastapi', index: 1 })
  t.equal(commandOf(['/usr/bin/python3', '/usr/bin/gunicorn', '-k', 'uvicorn.workers.UvicornWorker', 'main:app']), null, 'Gunicorn with Uvicorn workers is Gunicorn')
  t.equal(commandOf(['/srv/venv/bin/python', '-B', '-c', 'from multiprocessing.spawn import spawn_main; spawn_main(tracker_fd=7, pipe_handle=9)', '--multiprocessing-fork']), null)
})

t.test('uvicorn options: which take a value, the app, --factory, --app-dir, reload, timeouts', async (t) => {
  const a = parseUvicornArgs('uvicorn', ['--host', '0.0.0.0', '--port', '8000', '--proxy-headers', 'main:app', '--workers', '3', '--timeout-keep-alive', '10', '--app-dir=/srv/app/current'])
  t.match(a, { app: 'main:app', workers: 3, keepAlive: 10, appDir: '/srv/app/current', reload: false, gracefulShutdown: null })
  t.equal(reportedSpec(parseUvicornArgs('uvicorn', ['--factory', 'main:create', '--workers', '2'])), 'main:create()', '--factory: the call form, as the hook reports it')
  t.equal(parseUvicornArgs('uvicorn', ['--no-access-log', '--header', 'x:y', 'main:app']).app, 'main:app', '--header takes a value that looks like a spec')
  t.equal(parseUvicornArgs('uvicorn', ['main:app', '--reload']).reload, true)
  t.match(parseUvicornArgs('uvicorn', ['--workers', '2'], { UVICORN_APP: 'env:app', UVICORN_TIMEOUT_GRACEFUL_SHUTDOWN: '30' }), { app: 'env:app', gracefulShutdown: 30 }, 'UVICORN_* variables')
  t.equal(parseUvicornArgs('uvicorn', ['main:app'], { WEB_CONCURRENCY: '4' }).workers, 4)
})

t.test('fastapi run and dev', async (t) => {
  t.match(parseUvicornArgs('fastapi', ['run', 'src/main.py', '--workers', '4', '--app', 'api']), { path: 'src/main.py', appName: 'api', workers: 4, reload: false, app: null })
  t.match(parseUvicornArgs('fastapi', ['run', '-e', 'pkg.main:app', '--workers', '2']), { app: 'pkg.main:app' })
  t.equal(parseUvicornArgs('fastapi', ['dev', 'main.py']).reload, true, 'fastapi dev reloads')
  t.equal(parseUvicornArgs('fastapi', ['dev', '--no-reload', 'main.py']).reload, false)
  const exists = (p: string) => ['/srv/proj/pkg/__init__.py', '/srv/proj/pkg/sub/__init__.py'].includes(p)
  t.same(moduleOf('/srv/proj/pkg/sub/main.py', exists), { module: 'pkg.sub.main', root: '/srv/proj' }, 'the module inside its packages, imported from above the top one')
  t.same(moduleOf('/srv/proj/main.py', exists), { module: 'main', root: '/srv/proj' })
  t.equal(appNameFromSource('from fastapi import FastAPI\napp = FastAPI(lifespan=x)\n'), 'app')
  t.equal(appNameFromSource('api: FastAPI = FastAPI()\n'), 'api')
  t.equal(appNameFromSource('application = FastAPI()\n'), null, 'fastapi-cli would find it, but not by a name we can tell: unknown')
})

t.test('workers are the spawned children; the resource tracker is not one', async (t) => {
  const worker = proc(['/srv/venv/bin/python3', '-B', '-c', 'from multiprocessing.spawn import spawn_main; spawn_main(tracker_fd=7, pipe_handle=9)', '--multiprocessing-fork'])
  const tracker = proc(['/srv/venv/bin/python3', '-B', '-c', 'from multiprocessing.resource_tracker import main;main(6)'])
  t.equal(isSpawnWorker(worker), true)
  t.equal(isResourceTracker(worker), false)
  t.equal(isSpawnWorker(tracker), false)
  t.equal(isResourceTracker(tracker), true)
})

t.test('a script that only mentions uvicorn is not uvicorn', async (t) => {
  t.equal(commandOf(['python3', 'serve.py', 'uvicorn']), null)
  t.same(commandOf(['/srv/venv/bin/uvicorn', 'main:app']), { command: 'uvicorn', index: 0 })
  t.same(commandOf(['/usr/bin/python3', '-u', '/srv/venv/bin/uvicorn', 'main:app']), { command: 'uvicorn', index: 2 })
  t.equal(commandOf(['python3', '-m', 'http.server']), null)
  t.equal(parseUvicornArgs('uvicorn', ['main:app'], { UVICORN_FACTORY: '1' }).factory, true)
})
