import t from 'tap'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import {
  configLocation,
  errorLogOf,
  expandInclude,
  keyValues,
  readApacheConfig,
  scriptsOf,
  tokenize,
} from '../../src/servers/mod-wsgi/apache-config.js'
import { daemonTitle, evidenceFor, groupOfTitle, isTruncated, modWsgi } from '../../src/servers/mod-wsgi/index.js'
import type { Readiness } from '../../src/readiness/protocol.js'
import type { Target } from '../../src/servers/types.js'

t.test('titles: mod_wsgi pads or cuts (wsgi:NAME) to the length of Apache argv[0]', async (t) => {
  t.equal(daemonTitle('app:blue', '/usr/sbin/apache2'.length), '(wsgi:app:blue)')
  t.equal(daemonTitle('app:blue-long-name', 17), '(wsgi:app:blue-lo')
  t.equal(daemonTitle('app:blue', 'apache2'.length), '(wsgi:a', 'plain `apache2` leaves room for one letter')
  t.notOk(isTruncated('app:blue', 17))
  t.notOk(isTruncated('app:blue-l', 17), '(wsgi:app:blue-l) is exactly 17')
  t.ok(isTruncated('app:blue-lo', 17))
  t.equal(groupOfTitle('(wsgi:app:blue)  '), 'app:blue')
  t.equal(groupOfTitle('(wsgi:app:blue-lo'), null, 'a cut title names no group')
  t.equal(groupOfTitle('/usr/sbin/apache2'), null)
})

t.test('config location: -f and -d on the command line, else Debian / Red Hat defaults', async (t) => {
  t.same(configLocation(['/usr/sbin/apache2', '-f', '/tmp/x/httpd.conf', '-k', 'start'], {}, '/usr/sbin/apache2'), {
    file: '/tmp/x/httpd.conf',
    serverRoot: '/etc/apache2',
  })
  t.same(configLocation(['/usr/sbin/apache2', '-k', 'start'], { APACHE_CONFDIR: '/etc/apache2-blue' }, '/usr/sbin/apache2'), {
    file: '/etc/apache2-blue/apache2.conf',
    serverRoot: '/etc/apache2-blue',
  })
  t.same(configLocation(['/usr/sbin/httpd', '-DFOREGROUND'], {}, '/usr/sbin/httpd'), { file: '/etc/httpd/conf/httpd.conf', serverRoot: '/etc/httpd' })
  t.same(configLocation(['apache2', '-d', '/srv/www', '-f', 'conf/site.conf'], {}, null), { file: '/srv/www/conf/site.conf', serverRoot: '/srv/www' })
})

t.test('directive words: quotes and key=value options', async (t) => {
  t.same(tokenize('WSGIScriptAlias /blue "/srv/my app/app.wsgi" process-group=app:blue'), [
    'WSGIScriptAlias',
    '/blue',
    '/srv/my app/app.wsgi',
    'process-group=app:blue',
  ])
  t.same(keyValues(['processes=3', 'display-name=%{GROUP}', 'python-path=/a:/b', 'plain']), {
    processes: '3',
    'display-name': '%{GROUP}',
    'python-path': '/a:/b',
  })
})

function site(t: Tap.Test): string {
  const root = t.testdir({
    'apache2.conf': [
      '# main',
      'ServerRoot "ROOT"',
      'Define APPS /srv/apps',
      'ErrorLog ${APACHE_LOG_DIR}/error.log',
      'IncludeOptional sites-enabled/*.conf',
      'Include conf.d',
      'WSGIScriptReloading Off',
    ].join('\n'),
    'sites-enabled': {
      'blue.conf': [
        '<VirtualHost *:80>',
        '  ErrorLog /var/log/apache2/blue-error.log',
        '  WSGIDaemonProcess app:blue processes=3 threads=1 \\',
        '      display-name=%{GROUP} python-path=${APPS}/blue',
        '  WSGIScriptAlias /blue ${APPS}/blue/app.wsgi process-group=app:blue application-group=%{GLOBAL}',
        '  SetEnv ROLLING_RESTART_NOTIFY 127.0.0.1:4012',
        '</VirtualHost>',
      ].join('\n'),
      'green.conf': [
        'WSGIDaemonProcess app:green processes=1',
        'WSGIScriptAlias /green /srv/apps/green/app.wsgi process-group=app:green',
      ].join('\n'),
      'notes.txt': 'WSGIDaemonProcess ignored',
    },
    'conf.d': {
      'red.conf': ['WSGIDaemonProcess app:red display-name=%{GROUP}', 'WSGIImportScript /srv/apps/red/app.wsgi process-group=app:red application-group=%{GLOBAL}'].join('\n'),
    },
  })
  const main = join(root, 'apache2.conf')
  writeFileSync(main, readFileSync(main, 'utf8').replace('ROOT', root))
  return root
}

t.test('reading a site: includes (glob, directory), variables, virtual hosts, preloading', async (t) => {
  const root = site(t)
  const cfg = readApacheConfig({ file: join(root, 'apache2.conf'), serverRoot: root }, { APACHE_LOG_DIR: '/var/log/apache2' })
  t.equal(cfg.files.length, 4, 'apache2.conf, the two *.conf sites and conf.d/red.conf; notes.txt is not *.conf')
  t.same(cfg.unreadable, [])
  t.same(cfg.daemons.map((d) => d.name), ['app:blue', 'app:green', 'app:red'])
  const blue = cfg.daemons[0]
  t.equal(blue?.options['display-name'], '%{GROUP}', 'a continued line is joined')
  t.equal(blue?.options['python-path'], '/srv/apps/blue', 'Define substitutes ${APPS}')
  t.equal(cfg.errorLog, '/var/log/apache2/error.log', "the parent's environment substitutes ${APACHE_LOG_DIR}")
  t.equal(errorLogOf(cfg, 'app:blue'), '/var/log/apache2/blue-error.log', "a group in a <VirtualHost> logs to that host's ErrorLog")
  t.equal(errorLogOf(cfg, 'app:green'), '/var/log/apache2/error.log')
  t.same(cfg.scriptReloading?.on, false)
  t.same(cfg.setEnv.map((s) => s.name), ['ROLLING_RESTART_NOTIFY'])

  t.equal(scriptsOf(cfg, 'app:blue').preloaded.length, 1, 'process-group= and application-group= preload')
  const green = scriptsOf(cfg, 'app:green')
  t.equal(green.scripts.length, 1)
  t.equal(green.preloaded.length, 0, 'process-group= alone loads the script at the first request')
  t.equal(scriptsOf(cfg, 'app:red').preloaded[0]?.directive, 'WSGIImportScript')
})

t.test('includes: a missing Include is unreadable, a missing IncludeOptional is not', async (t) => {
  const root = t.testdir({ 'a.conf': 'Include missing.conf\nIncludeOptional nothing/*.conf\n' })
  const cfg = readApacheConfig({ file: join(root, 'a.conf'), serverRoot: root })
  t.same(cfg.unreadable, [join(root, 'missing.conf')])
  t.same(expandInclude('nothing/*.conf', root), [])
  const none = readApacheConfig({ file: join(root, 'nope.conf'), serverRoot: root })
  t.same(none.files, [])
  t.same(none.unreadable, [join(root, 'nope.conf')])
  t.equal(errorLogOf(none, null), join(root, 'logs/error_log'), "httpd's compiled-in default")
})

t.test("the error log's account of one daemon process", async (t) => {
  const log = [
    "[Sun Nov 22 02:39:18.539454 2026] [wsgi:info] [pid 23990:tid 23990] mod_wsgi (pid=23990, process='app:blue', application=''): Loading Python script file '/srv/blue/app.wsgi'.",
    "[Sun Nov 22 02:39:18.540993 2026] [wsgi:error] [pid 23990:tid 23990] mod_wsgi (pid=23990): Failed to exec Python script file '/srv/blue/app.wsgi'.",
    '[Sun Nov 22 02:39:18.554685 2026] [wsgi:error] [pid 23990:tid 23990] Traceback (most recent call last):',
    '[Sun Nov 22 02:39:18.556098 2026] [wsgi:error] [pid 23990:tid 23990]   File "/srv/blue/app.wsgi", line 1, in <module>',
    '[Sun Nov 22 02:39:18.556145 2026] [wsgi:error] [pid 23990:tid 23990] ImportError: crash_on_import: this release cannot be imported',
    "[Sun Nov 22 02:39:18.561643 2026] [wsgi:info] [pid 23991:tid 23991] mod_wsgi (pid=23991, process='app:green', application=''): Loading Python script file '/srv/green/app.wsgi'.",
    '[Sun Nov 22 02:39:18.788530 2026] [wsgi:error] [pid 23991:tid 23991] rolling-restart-hook: pid 23991 READY=1 200 OK -> 127.0.0.1:4012',
    "[Sun Nov 22 02:40:00.000000 2026] [wsgi:info] [pid 23992:tid 23992] mod_wsgi (pid=23992, process='app:blue', application=''): Loading Python script file '/srv/blue/app.wsgi'.",
  ].join('\n')
  t.same(evidenceFor(log, 23990), {
    failedScript: '/srv/blue/app.wsgi',
    exception: 'ImportError: crash_on_import: this release cannot be imported',
    hook: null,
    loading: '/srv/blue/app.wsgi',
  })
  t.same(evidenceFor(log, 23991), { failedScript: null, exception: null, hook: 'pid 23991 READY=1 200 OK -> 127.0.0.1:4012', loading: '/srv/green/app.wsgi' })
  t.same(evidenceFor(log, 23992), { failedScript: null, exception: null, hook: null, loading: '/srv/blue/app.wsgi' }, 'still loading: a hang')
  t.same(evidenceFor(log, 1), { failedScript: null, exception: null, hook: null, loading: null })
})

t.test('only datagrams of the group count; SIGUSR1 is the stop signal; no surge', async (t) => {
  const target = { group: 'app:blue' } as Target
  const r = (group: string | null): Readiness => ({ kind: 'full', ready: true, pid: 1, ppid: null, group, status: '200 OK', statusCode: 200, release: null, root: null, bootMs: null, mac: null })
  t.ok(modWsgi.groupMatches?.(target, r('app:blue')))
  t.notOk(modWsgi.groupMatches?.(target, r('app:green')))
  t.notOk(modWsgi.groupMatches?.(target, r('app:blue-long-name')), 'a longer name that shares the cut title is another group')
  t.equal(modWsgi.stopSignal, 'SIGUSR1')
  t.equal(modWsgi.canSurge, false)
})

t.test('no Apache named: mod_wsgi answers nothing for a Gunicorn pidfile in auto mode', async (t) => {
  const dir = t.testdir({})
  mkdirSync(join(dir, 'x'))
  writeFileSync(join(dir, 'x', 'self.pid'), `${process.pid}\n`)
  t.equal(modWsgi.resolve({ server: 'auto', pidfile: join(dir, 'x', 'self.pid') }), null, 'this node process is not Apache')
  t.throws(() => modWsgi.resolve({ server: 'mod_wsgi', pidfile: join(dir, 'x', 'self.pid') }), /is not Apache/)
  t.throws(() => modWsgi.resolve({ server: 'auto', apachePidfile: join(dir, 'x', 'self.pid') }), /--apache-pidfile .* is not Apache/, '--apache-pidfile can only be Apache')
})
