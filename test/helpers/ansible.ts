// A real ansible-playbook (Debian's ansible-core 2.14) over an inventory written to a temp dir, with
// the collection in ansible/collections, its default (human) output kept and read back: the PLAY
// RECAP counts and each `fatal: [HOST]: FAILED! => {...}` result. Its home, temp dirs and retry files
// stay in the temp dir.
import { spawn } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { repoRoot } from './paths.js'
import { stopPid } from './procs.js'
import { tempDir, type Teardown } from './tmp.js'

export const ANSIBLE_PLAYBOOK = '/usr/bin/ansible-playbook'
export const COLLECTIONS = join(repoRoot, 'ansible', 'collections')
export const FLEET_PLAYBOOK = join(repoRoot, 'ansible', 'playbooks', 'fleet-roll.yml')

export interface Recap {
  ok: number
  changed: number
  unreachable: number
  failed: number
  skipped: number
}

export interface PlayResult {
  code: number | null
  /** what ansible-playbook printed, as an operator sees it */
  stdout: string
  stderr: string
  /** PLAY RECAP, per host */
  recap: Record<string, Recap>
  /** the result of each host's failed task, parsed from `fatal: [HOST]: FAILED! => {...}` */
  fatal: Record<string, Record<string, unknown>>
  ms: number
}

export const parseRecap = (stdout: string): Record<string, Recap> => {
  const recap: Record<string, Recap> = {}
  const line = /^(\S+)\s+:\s+ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)\s+skipped=(\d+)/gm
  for (const m of stdout.matchAll(line)) {
    recap[m[1] as string] = { ok: Number(m[2]), changed: Number(m[3]), unreachable: Number(m[4]), failed: Number(m[5]), skipped: Number(m[6]) }
  }
  return recap
}

export const parseFatal = (stdout: string): Record<string, Record<string, unknown>> => {
  const fatal: Record<string, Record<string, unknown>> = {}
  for (const m of stdout.matchAll(/^fatal: \[([^\]]+)\]: FAILED! => (\{.*\})$/gm)) {
    fatal[m[1] as string] = JSON.parse(m[2] as string) as Record<string, unknown>
  }
  return fatal
}

/** Runs `playbook` over `inventory` (written as JSON, which is YAML) and waits for it. */
export const runPlaybook = async (
  t: Teardown,
  inventory: unknown,
  { playbook = FLEET_PLAYBOOK, timeoutMs = 150_000, args = [] }: { playbook?: string; timeoutMs?: number; args?: string[] } = {},
): Promise<PlayResult> => {
  const dir = tempDir(t, 'ansible')
  const inventoryFile = join(dir, 'inventory.json')
  writeFileSync(inventoryFile, JSON.stringify(inventory, null, 2))
  // Drop tap's NODE_OPTIONS (its TypeScript loader): the CLI the module runs is compiled JavaScript.
  const { NODE_OPTIONS: _ignored, ...base } = process.env
  const env = {
    ...base,
    PATH: `${dirname(process.execPath)}:${base.PATH ?? '/usr/bin:/bin'}`,
    ANSIBLE_COLLECTIONS_PATH: COLLECTIONS,
    ANSIBLE_NOCOLOR: '1',
    ANSIBLE_HOME: join(dir, 'home'),
    ANSIBLE_LOCAL_TEMP: join(dir, 'tmp'),
    ANSIBLE_REMOTE_TEMP: join(dir, 'remote-tmp'),
    ANSIBLE_RETRY_FILES_ENABLED: '0',
  }
  const started = Date.now()
  const child = spawn(ANSIBLE_PLAYBOOK, ['-i', inventoryFile, playbook, ...args], { env, cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s))
  child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s))
  const pid = child.pid
  if (pid === undefined) throw new Error(`could not start ${ANSIBLE_PLAYBOOK}`)
  let running = true
  const timer = setTimeout(() => void stopPid(pid, { graceMs: 5_000 }), timeoutMs)
  t.teardown(async () => {
    if (running) await stopPid(pid, { graceMs: 5_000 })
  })
  const code = await new Promise<number | null>((resolve, reject) => {
    child.on('error', reject)
    child.on('close', (c) => resolve(c))
  }).finally(() => {
    running = false
    clearTimeout(timer)
  })
  return { code, stdout, stderr, recap: parseRecap(stdout), fatal: parseFatal(stdout), ms: Date.now() - started }
}
