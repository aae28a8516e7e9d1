// doctor's checks for the stacks people install: Django's Host check against the probe's Host,
// finding an app's source without importing it, the virtualenv a server runs from, ASGI sources;
// and the not-ready message when the probe names its own setting.
import t from 'tap'
import { djangoHostSettings, effectiveAllowedHosts, hostAllowed, hostDomain } from '../../src/doctor/django-hosts.js'
import { commandPath } from '../../src/preflight/plan.js'
import { refusal } from '../../src/roll/policy.js'
import { asgiMarker } from '../../src/servers/shared/asgi-source.js'
import { appSourceFile, moduleFile, specModule } from '../../src/servers/shared/python-module.js'
import { venvOfFile } from '../../src/servers/shared/venv.js'

t.test("Django's ALLOWED_HOSTS, as validate_host matches it", async (t) => {
  const prod = djangoHostSettings("DEBUG = False\nALLOWED_HOSTS = ['example.com', '.shop.test']\nMIDDLEWARE = [\n  'django.middleware.common.CommonMiddleware',\n]\n")
  t.same(prod, { debug: false, allowedHosts: ['example.com', '.shop.test'], commonMiddleware: true })
  const allowed = effectiveAllowedHosts(prod) as string[]
  t.notOk(hostAllowed('localhost', allowed), 'the probe default is rejected')
  t.ok(hostAllowed('example.com:8000', allowed), 'a port is ignored')
  t.ok(hostAllowed('EXAMPLE.com.', allowed), 'case and a trailing dot are ignored')
  t.ok(hostAllowed('a.shop.test', allowed) && hostAllowed('shop.test', allowed), '.domain matches it and its subdomains')
  t.notOk(hostAllowed('evilshop.test', allowed))
  t.ok(hostAllowed('anything', ['*']))
  t.same(effectiveAllowedHosts(djangoHostSettings('DEBUG = True\n')), ['.localhost', '127.0.0.1', '[::1]'], 'DEBUG with no ALLOWED_HOSTS allows localhost')
  t.same(effectiveAllowedHosts(djangoHostSettings('SECRET_KEY = "x"\n')), [], 'neither set: DEBUG is False, nothing is allowed')
  t.equal(effectiveAllowedHosts(djangoHostSettings("ALLOWED_HOSTS = os.environ['HOSTS'].split(',')\n")), undefined, 'computed: unknown, never guessed')
  t.equal(effectiveAllowedHosts(djangoHostSettings("DEBUG = os.environ.get('DEBUG') == '1'\n")), undefined)
  t.equal(hostDomain('[::1]:8000'), '[::1]')
})

t.test("an app's source file, found as import would find it", async (t) => {
  const exists = (p: string) => ['/srv/app/mysite/wsgi.py', '/srv/app/mysite/__init__.py', '/srv/lib/tools/__init__.py', '/srv/app/site.wsgi'].includes(p)
  t.equal(specModule('mysite.wsgi:application'), 'mysite.wsgi')
  t.equal(specModule('app:create_app()'), 'app')
  t.equal(specModule('/srv/app/site.wsgi'), null)
  t.equal(moduleFile('mysite.wsgi', ['/srv/app'], exists), '/srv/app/mysite/wsgi.py')
  t.equal(moduleFile('tools', ['/srv/app', '/srv/lib'], exists), '/srv/lib/tools/__init__.py', 'a package, on a later path entry')
  t.equal(appSourceFile({ spec: 'mysite.wsgi', chdir: '/srv/app' }, '/', [], exists), '/srv/app/mysite/wsgi.py', "Gunicorn's `mysite.wsgi` is a module")
  t.equal(appSourceFile({ spec: 'site.wsgi', chdir: '/srv/app' }, '/', [], exists), '/srv/app/site.wsgi', 'a script path when no module has that name')
  t.equal(appSourceFile({ spec: null }, '/', [], exists), null)
})

t.test('ASGI applications in a source file', async (t) => {
  t.equal(asgiMarker('from fastapi import FastAPI\napp = FastAPI()\n'), 'a FastAPI application')
  t.match(asgiMarker('application = get_asgi_application()\n'), /get_asgi_application/)
  t.match(asgiMarker('async def app(scope, receive, send):\n    ...\n'), /async def/)
  t.equal(asgiMarker('application = get_wsgi_application()\n'), null)
})

t.test('the virtualenv of an interpreter or a script; argv[0] found on PATH', async (t) => {
  const exists = (p: string) => ['/srv/venv/pyvenv.cfg', '/srv/venv/bin/python3'].includes(p)
  t.equal(venvOfFile('/srv/venv/bin/gunicorn', exists), '/srv/venv')
  t.equal(venvOfFile('/usr/bin/gunicorn', exists), null)
  t.equal(venvOfFile('gunicorn', exists), null)
  t.equal(commandPath('python3', { PATH: '/usr/bin:/srv/venv/bin' }, '/', (p) => p === '/srv/venv/bin/python3'), '/srv/venv/bin/python3')
  t.equal(commandPath('./bin/python', {}, '/srv/venv'), '/srv/venv/bin/python')
  t.equal(commandPath('/usr/bin/python3', null, null), '/usr/bin/python3')
  t.equal(commandPath('python3', null, null), null)
})

t.test('READY=0 with a probe hint: the status verbatim, and no blame on the release', async (t) => {
  const status = '400 Bad Request from GET http://localhost/_status: Host localhost rejected (Django ALLOWED_HOSTS?); set ROLLING_RESTART_STATUS_HOST to a host the application serves'
  const r = refusal({ verdict: 'not-ready', status }, 7, 'Gunicorn master 1 [shop]', () => '')
  t.equal(r?.message, `new worker 7 of Gunicorn master 1 [shop] reported READY=0: its status probe said "${status}". The probe itself may be what failed, as that says; the remaining old workers keep serving`)
  t.match(refusal({ verdict: 'not-ready', status: '500 Internal Server Error' }, 7, 'M', () => '')?.message, /The new release is not healthy/)
})
