// Reading a Gunicorn master's settings from outside: command line, GUNICORN_CMD_ARGS, config file.
import t from 'tap'
import {
  defaultChdir,
  gunicornSettings,
  parseConfigFile,
  parseGunicornArgs,
  parsePyLiteral,
  rawEnvVars,
  shellSplit,
} from '../../src/servers/gunicorn/settings.js'

t.test('command line: the app is the last positional, flags without values do not eat it', async (t) => {
  const a = parseGunicornArgs(['-c', 'conf.py', '--preload', 'myproj.wsgi:application'])
  t.equal(a.app, 'myproj.wsgi:application')
  t.equal(a.preload, true)
  t.equal(a.config, 'conf.py')
  const b = parseGunicornArgs(['-w', '4', '--chdir=/srv/app/current', '-b', '127.0.0.1:8000', 'app:create_app()'])
  t.equal(b.app, 'app:create_app()')
  t.equal(b.chdir, '/srv/app/current')
  t.equal(b.preload, null, 'no --preload: not said')
  const c = parseGunicornArgs(['-cconf.py', '--pythonpath', '/a,/b', '-e', 'A=1', '--env=B=2', '--reload', 'wsgi'])
  t.equal(c.config, 'conf.py', 'short option with its value attached')
  t.same(c.pythonpath, ['/a', '/b'])
  t.same(c.rawEnv, ['A=1', 'B=2'])
  t.equal(c.app, 'wsgi')
  t.equal(parseGunicornArgs(['-w', '4']).app, null, 'no positional: no app')
})

t.test('GUNICORN_CMD_ARGS is split like a shell', async (t) => {
  t.same(shellSplit(`--preload  -c '/etc/my conf.py' --chdir="/srv/a b" x\\ y`), ['--preload', '-c', '/etc/my conf.py', '--chdir=/srv/a b', 'x y'])
  t.same(shellSplit(''), [])
})

t.test('Python literals in a config file', async (t) => {
  t.equal(parsePyLiteral(` 'app:app'  # the app`), 'app:app')
  t.equal(parsePyLiteral('"a#b"'), 'a#b', 'a # inside a string is not a comment')
  t.equal(parsePyLiteral('True'), true)
  t.equal(parsePyLiteral('False'), false)
  t.equal(parsePyLiteral('4'), 4)
  t.same(parsePyLiteral("['A=1', \"B=2\",]"), ['A=1', 'B=2'])
  t.equal(parsePyLiteral("r'C:\\x'"), 'C:\\x')
  t.equal(parsePyLiteral('os.path.dirname(__file__)'), undefined, 'computed values are not guessed')
  t.equal(parsePyLiteral("'a' + 'b'"), undefined)

  const conf = parseConfigFile(
    [
      'from rolling_restart_hook.gunicorn import post_worker_init',
      "chdir = '/srv/old'",
      'preload_app = True  # fast boot',
      'raw_env = [',
      "    'DJANGO_SETTINGS_MODULE=site.settings',  # comment",
      "    'X=1',",
      ']',
      "wsgi_app = 'site.wsgi:application'",
      "chdir = '/srv/app/current'",
      'workers = multiprocessing.cpu_count() * 2',
      'if preload_app == True: pass',
    ].join('\n'),
  ).values
  t.equal(conf.get('chdir'), '/srv/app/current', 'the last assignment wins')
  t.equal(conf.get('preload_app'), true)
  t.same(conf.get('raw_env'), ['DJANGO_SETTINGS_MODULE=site.settings', 'X=1'], 'a list continued over lines')
  t.equal(conf.get('wsgi_app'), 'site.wsgi:application')
  t.ok(conf.has('workers') && conf.get('workers') === undefined, 'a computed value is known to be set, to something unknown')
  t.same(rawEnvVars(['A=1', 'B==2', 'bad']), { A: '1', B: '=2' })
})

const files = (m: Record<string, string>) => (p: string) => m[p] ?? null
const noLinks = (p: string) => p

t.test('effective settings: command line over GUNICORN_CMD_ARGS over the config file', async (t) => {
  const s = gunicornSettings({
    args: ['-c', 'gunicorn.conf.py', '--chdir', '/srv/cli', 'app:app'],
    env: { GUNICORN_CMD_ARGS: '--chdir /srv/env --preload', PWD: '/srv/start' },
    cwd: '/srv/start',
    readFile: files({ '/srv/start/gunicorn.conf.py': "chdir = '/srv/file'\npreload_app = False\npythonpath = 'lib,/opt/x'\n" }),
    realpath: noLinks,
  })
  t.equal(s.configFile, '/srv/start/gunicorn.conf.py', 'a relative -c is taken from the start directory')
  t.same(s.app, { value: 'app:app', from: 'command line' })
  t.same(s.chdir, { value: '/srv/cli', from: 'command line' })
  t.same(s.preload, { value: true, from: 'GUNICORN_CMD_ARGS' })
  t.same(s.pythonpath.value, ['/srv/cli/lib', '/opt/x'], 'pythonpath entries are made absolute after the chdir')
  t.same(s.blind, [])
})

t.test('a titled master: nothing but the config file named with --server-config', async (t) => {
  const hidden = gunicornSettings({ args: null, env: null, cwd: '/srv/app/releases/A', realpath: noLinks, readFile: files({}) })
  t.equal(hidden.app.value, null)
  t.equal(hidden.preload.from, 'unknown')
  t.equal(hidden.chdir.from, 'unknown')
  t.match(hidden.blind.join(' '), /process title.*environment is unreadable.*--server-config/)

  const named = gunicornSettings({
    args: null,
    env: null,
    cwd: '/srv/app/releases/A',
    explicitConfig: '/etc/gunicorn/site.py',
    readFile: files({ '/etc/gunicorn/site.py': "wsgi_app = 'site:app'\npreload_app = True\nchdir = '/srv/app/current'\n" }),
    realpath: noLinks,
  })
  t.same(named.app, { value: 'site:app', from: 'config file' })
  t.same(named.preload, { value: true, from: 'config file' })
  t.same(named.chdir, { value: '/srv/app/current', from: 'config file' })

  const silent = gunicornSettings({ args: null, env: null, cwd: '/x', explicitConfig: '/c.py', readFile: files({ '/c.py': 'workers = 2\n' }), realpath: noLinks })
  t.same(silent.preload, { value: false, from: 'default' }, 'a config file that does not set preload_app: the default')
  t.equal(silent.chdir.from, 'unknown', 'but chdir may have come from the hidden command line or $PWD: unknown')
})

t.test("Gunicorn's default chdir: $PWD when it named the same directory, so a symlink path survives", async (t) => {
  const links: Record<string, string> = { '/srv/app/current': '/srv/app/releases/B' }
  const realpath = (p: string) => links[p] ?? p
  t.equal(defaultChdir('/srv/app/releases/A', { PWD: '/srv/app/current' }, realpath), '/srv/app/current', 'current moved since: still the symlink path')
  t.equal(defaultChdir('/srv/app/releases/A', {}, realpath), '/srv/app/releases/A', 'no $PWD (systemd): the real path')
  t.equal(defaultChdir('/srv/app/releases/A', { PWD: '/elsewhere' }, realpath), '/srv/app/releases/A', '$PWD of another directory is ignored')
  const s = gunicornSettings({ args: ['app:app'], env: { PWD: '/srv/app/current' }, cwd: '/srv/app/releases/A', realpath, readFile: files({}) })
  t.same(s.chdir, { value: '/srv/app/current', from: 'default' })
  t.same(s.preload, { value: false, from: 'default' })
})
