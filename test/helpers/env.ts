// The environment every Python server under test starts with.
import { hooksDir } from './paths.js'

export interface PythonEnvOptions {
  /** Directories put on PYTHONPATH after the hook package's directory. */
  path?: string[]
  /** UDP port of the readiness listener (ROLLING_RESTART_NOTIFY=127.0.0.1:PORT); 'off' disables. */
  notifyPort?: number | 'off'
  /** Extra variables, applied last. */
  env?: Record<string, string>
}

export const pythonEnv = ({ path = [], notifyPort, env = {} }: PythonEnvOptions): NodeJS.ProcessEnv => ({
  ...process.env,
  PYTHONPATH: [hooksDir, ...path].join(':'),
  // Servers run as other users (www-data) or from temp dirs: never leave __pycache__ behind.
  PYTHONDONTWRITEBYTECODE: '1',
  PYTHONUNBUFFERED: '1',
  ROLLING_RESTART_NOTIFY: notifyPort === undefined || notifyPort === 'off' ? 'off' : `127.0.0.1:${notifyPort}`,
  ...env,
})
