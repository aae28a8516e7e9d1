// `npm run prepare`: build dist/, tsc then the bundle (npm runs it after `npm ci`, on `npm pack`,
// and in the clone of a git install). In that clone, npm 10 and 11 run the dependency install with the outer command's
// -g (npm/cli#4148): the devDependencies land in the global prefix, not here, and `tsc` is not
// found. So when TypeScript is missing, install the locked devDependencies into this folder first.
import { spawnSync } from 'node:child_process'
import { existsSync, lstatSync, mkdirSync, readdirSync, readlinkSync, renameSync, unlinkSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'

const tsc = 'node_modules/typescript/bin/tsc'

function run(cmd, args, env = process.env) {
  const r = spawnSync(cmd, args, { stdio: 'inherit', env })
  if (r.status !== 0) {
    console.error(`prepare: ${cmd} ${args.join(' ')} failed (${r.error?.message ?? `exit ${r.status ?? r.signal}`})`)
    process.exit(r.status || 1)
  }
}

if (!existsSync(tsc)) {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_config_(global|location|prefix)$/i.test(k)))
  const npm = process.env.npm_execpath
  const [cmd, pre] = npm && npm.endsWith('.js') ? [process.execPath, [npm]] : ['npm', []]
  run(cmd, [...pre, 'install', '--global=false', '--location=project', '--include=dev', '--ignore-scripts', '--no-save', '--no-audit', '--no-fund'], env)
}
run(process.execPath, [tsc, '-p', 'tsconfig.json'])
run(process.execPath, ['scripts/bundle.mjs'])

// The same install, being global, has also replaced the package folder that the outer install is
// filling (its dependencies are already unpacked there) with a link to this temporary clone
// (npm/cli#3692), having moved that folder aside as `.NAME-XXXXXXXX`, to be deleted when it ends.
// Once npm removes the clone, the link would leave an empty package. Put the folder back: the outer
// install then unpacks the package into it. When npm does not do this, nothing here matches.
if (process.env.npm_config_global === 'true') {
  const prefix = process.env.npm_config_prefix || dirname(dirname(process.execPath))
  const name = process.env.npm_package_name || 'rolling-restart'
  const modules = join(prefix, 'lib', 'node_modules')
  const link = join(modules, name)
  try {
    if (lstatSync(link).isSymbolicLink() && resolve(modules, readlinkSync(link)) === process.cwd()) {
      const aside = readdirSync(modules).filter((f) => f.startsWith(`.${name}-`))
      unlinkSync(link)
      if (aside.length === 1) renameSync(join(modules, aside[0]), link)
      else mkdirSync(link)
    }
  } catch (err) {
    console.error(`prepare: could not undo the global link at ${link} (${err.message}); install with npm pack instead (see the README)`)
  }
}
