// A real Apache 2.4 + mod_wsgi 4.9 (Debian) for integration tests, run from its OWN generated
// config in a temp dir (`apache2 -f CONF -k start`), never the system one.
//
// Facts checked on this machine (Apache 2.4, mod_wsgi 4.9.4, Python 3.11, running as root):
// - `-k start` daemonizes: the command exits 0 at once and the real parent (the pid in PidFile)
//   is re-parented to init, so it is not a child of the test process. We stop it by pid (TERM),
//   which is what `apache2 -k stop` does.
// - A daemon process of group NAME with `display-name=%{GROUP}` has /proc/PID/cmdline
//   `(wsgi:NAME)<spaces>\0-f\0CONF\0-k\0start\0`: only argv[0] is rewritten; the other arguments
//   stay. /proc/PID/comm stays `apache2`. mod_wsgi (src/server/mod_wsgi.c,
//   wsgi_setup_daemon_name) fills argv[0] with spaces over its ORIGINAL length and copies the
//   display name into it, truncated to that length. argv[0] is `/usr/sbin/apache2` (17 chars),
//   so `(wsgi:app:blue)` (15) is padded with 2 spaces and `(wsgi:app:blue-long-name)` shows as
//   `(wsgi:app:blue-lo`. Two groups whose titles share their first 17 characters cannot be told
//   apart by title. Start Apache by a longer path to get more room.
// - Event MPM children have cmdline `/usr/sbin/apache2 -f CONF -k start`; they are children of
//   the same parent, so group membership is decided by argv[0], not by parentage.
// - Daemon processes get the environment of the `apache2 -k start` command (SetEnv is per
//   request and never reaches them): ROLLING_RESTART_NOTIFY, PYTHONDONTWRITEBYTECODE and even
//   PYTHONPATH arrive in os.environ / sys.path. We still put the app dir and the hook dir on
//   `python-path=` of WSGIDaemonProcess, so the import path is visible in the generated config
//   and does not depend on the environment.
// - `WSGIScriptAlias ... process-group=NAME application-group=%{GLOBAL}` makes mod_wsgi load the
//   script when the daemon process starts (log: "Loading Python script file"), before any
//   request; without application-group it is loaded on the first request.
// - Signals to ONE daemon process (mod_wsgi.c wsgi_start_process / wsgi_signal_handler):
//   SIGUSR1 (AP_SIG_GRACEFUL) asks for a graceful shutdown ("Process eviction requested"): exit
//   at once if idle, else after its requests finish (bounded by graceful-timeout /
//   eviction-timeout). SIGINT and SIGTERM shut it down right away. Either way the Apache parent
//   notices and starts a replacement with the same display name.
import { execFile } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { pythonEnv } from './env.js'
import { answers200 } from './http.js'
import { hookAvailable, hooksDir } from './paths.js'
import { argv, isAlive, waitFor } from './procs.js'
import { freePort } from './ports.js'
import { errorWithLog } from './spawn.js'
import { tempDir, type Teardown } from './tmp.js'
import { stopTree, trackChildren } from './tracker.js'

const run = promisify(execFile)

export const APACHE = '/usr/sbin/apache2'
export const MODULES = '/usr/lib/apache2/modules'

export interface WsgiGroup {
  /** WSGIDaemonProcess name, e.g. 'app:blue'. */
  name: string
  processes: number
  appDir: string
  /** URL prefix of WSGIScriptAlias, e.g. '/blue'. */
  urlPrefix: string
  /** Extra WSGIDaemonProcess options, e.g. 'graceful-timeout=5'. */
  daemonOptions?: string
}

export interface ApacheOptions {
  groups: WsgiGroup[]
  notifyPort?: number
  env?: Record<string, string>
  /** application-group=%{GLOBAL} on WSGIScriptAlias: load the script at process start. */
  preload?: boolean
  /** display-name=%{GROUP} on WSGIDaemonProcess. */
  displayName?: boolean
  /** Appended to the generated httpd.conf. */
  extraConfig?: string
  /** WSGIScriptReloading On/Off (omitted: mod_wsgi's default, On). */
  scriptReloading?: boolean
  /** End app.wsgi with the notify_ready hook line (default: when python-hooks has mod_wsgi.py). */
  hook?: boolean
  mpm?: 'event' | 'prefork'
  startTimeoutMs?: number
}

export interface Apache {
  parentPid: number
  port: number
  confPath: string
  errorLog: string
  pidFile: string
  /** Live daemon processes of group `name` (children of the parent titled `(wsgi:NAME)`). */
  groupPids(name: string): number[]
  /** TERM the parent, wait for it and every child it ever had; KILL by pid after a grace. */
  stop(): Promise<void>
}

/** How mod_wsgi titles a daemon process of `group`, truncated to the length of Apache's argv[0]. */
export const daemonTitle = (group: string, argv0: string = APACHE): string =>
  `(wsgi:${group})`.slice(0, argv0.length)

/** True if `pid` is titled as a daemon process of `group`. */
export const isDaemonOf = (pid: number, group: string): boolean =>
  (argv(pid)[0] ?? '').trimEnd() === daemonTitle(group).trimEnd()

/** The generated WSGI script: imports app.py's `application`, then (optionally) the hook. */
export const wsgiScript = (hook: boolean): string =>
  [
    '# generated by test/helpers/apache.ts: the app is app.py next to this file',
    'from app import application  # noqa: F401',
    ...(hook ? ['from rolling_restart_hook.mod_wsgi import notify_ready', 'notify_ready(application)'] : []),
    '',
  ].join('\n')

const httpdConf = (o: {
  dir: string
  port: number
  groups: WsgiGroup[]
  preload: boolean
  displayName: boolean
  scriptReloading?: boolean
  mpm: 'event' | 'prefork'
  extraConfig: string
}): string => {
  const lines = [
    '# generated by test/helpers/apache.ts',
    `ServerRoot "${o.dir}"`,
    'ServerName localhost',
    `Listen 127.0.0.1:${o.port}`,
    `PidFile "${o.dir}/httpd.pid"`,
    `ErrorLog "${o.dir}/error.log"`,
    'LogLevel warn wsgi:info',
    `DefaultRuntimeDir "${o.dir}"`,
    `Mutex file:${o.dir} default`,
    `LoadModule mpm_${o.mpm}_module ${MODULES}/mod_mpm_${o.mpm}.so`,
    `LoadModule authz_core_module ${MODULES}/mod_authz_core.so`,
    `LoadModule rewrite_module ${MODULES}/mod_rewrite.so`,
    `LoadModule wsgi_module ${MODULES}/mod_wsgi.so`,
    ...(process.getuid?.() === 0 ? ['User www-data', 'Group www-data'] : []),
    `WSGISocketPrefix "${o.dir}/wsgi"`,
    ...(o.scriptReloading === undefined ? [] : [`WSGIScriptReloading ${o.scriptReloading ? 'On' : 'Off'}`]),
  ]
  for (const g of o.groups) {
    const daemon = [
      `WSGIDaemonProcess ${g.name}`,
      `processes=${g.processes}`,
      'threads=1',
      ...(o.displayName ? ['display-name=%{GROUP}'] : []),
      `python-path=${g.appDir}:${hooksDir}`,
      ...(g.daemonOptions ? [g.daemonOptions] : []),
    ]
    lines.push(
      daemon.join(' '),
      `WSGIScriptAlias ${g.urlPrefix} "${g.appDir}/app.wsgi" process-group=${g.name}` +
        (o.preload ? ' application-group=%{GLOBAL}' : ''),
      `<Directory "${g.appDir}">`,
      '  Require all granted',
      '</Directory>',
    )
  }
  lines.push(o.extraConfig, '')
  return lines.join('\n')
}

export const startApache = async (t: Teardown, options: ApacheOptions): Promise<Apache> => {
  const o = {
    preload: true,
    displayName: true,
    hook: hookAvailable('mod_wsgi'),
    mpm: 'event' as const,
    extraConfig: '',
    startTimeoutMs: 60_000,
    ...options,
  }
  const dir = tempDir(t, 'apache')
  const port = await freePort()
  const confPath = join(dir, 'httpd.conf')
  const errorLog = join(dir, 'error.log')
  const pidFile = join(dir, 'httpd.pid')
  for (const g of o.groups) writeFileSync(join(g.appDir, 'app.wsgi'), wsgiScript(o.hook), { mode: 0o644 })
  writeFileSync(confPath, httpdConf({ ...o, dir, port }))

  const env = pythonEnv({ notifyPort: o.notifyPort, env: o.env })
  try {
    await run(APACHE, ['-f', confPath, '-k', 'start'], { env, timeout: 30_000 })
  } catch (error) {
    const e = error as { stderr?: string; stdout?: string; message: string }
    throw errorWithLog(`${APACHE} -f ${confPath} -k start failed: ${e.stderr || e.stdout || e.message}`, errorLog)
  }

  let parentPid: number
  try {
    parentPid = await waitFor(
      () => {
        const pid = Number(readFileSync(pidFile, 'utf8').trim())
        return pid > 0 && isAlive(pid) ? pid : 0
      },
      { timeoutMs: 15_000, what: `Apache to write a live pid to ${pidFile}` },
    )
  } catch (error) {
    throw errorWithLog((error as Error).message, errorLog)
  }

  const tracker = trackChildren(parentPid)
  let stopping: Promise<void> | undefined
  const stop = (): Promise<void> => (stopping ??= stopTree({ masterPid: parentPid, tracker, label: 'Apache' }))
  t.teardown(stop)
  const groupPids = (name: string): number[] => tracker.poll().filter((pid) => isDaemonOf(pid, name))

  try {
    for (const g of o.groups) {
      await waitFor(
        async () =>
          (!o.displayName || groupPids(g.name).length === g.processes) && (await answers200(port, `${g.urlPrefix}/`)),
        {
          timeoutMs: o.startTimeoutMs,
          intervalMs: 200,
          what: `Apache group ${g.name} to have ${g.processes} daemon processes titled '${daemonTitle(g.name)}' and GET ${g.urlPrefix}/ to answer 200 on port ${port}`,
        },
      )
    }
  } catch (error) {
    await stop()
    throw errorWithLog((error as Error).message, errorLog)
  }

  return { parentPid, port, confPath, errorLog, pidFile, groupPids, stop }
}
