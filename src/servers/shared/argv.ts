/** Walking a server's command line: options with and without a value, and the positional arguments, as argparse and click read them. */

export interface OptionRules {
  /** options that take no value */
  flags: ReadonlySet<string>
  /** `-cconf.py` / `--chdir=/x` -> the option and its attached value */
  split(arg: string): [string, string | null]
  /** options whose value is optional (argparse nargs='?'), each with the test of whether the next argument is its value */
  optional?: ReadonlyMap<string, (next: string | undefined) => boolean>
}

/** `--chdir=/x` -> [`--chdir`, `/x`]; anything else as it is. */
export function splitLong(a: string): [string, string | null] {
  const eq = a.indexOf('=')
  return a.startsWith('--') && eq > 0 ? [a.slice(0, eq), a.slice(eq + 1)] : [a, null]
}

/** Calls `on(option, value)` for each option (value null for a flag) and returns the positional arguments. */
export function walkArgs(args: readonly string[], rules: OptionRules, on: (opt: string, value: string | null) => void): string[] {
  const positional: string[] = []
  for (let i = 0; i < args.length; i++) {
    const raw = args[i] as string
    if (raw === '--') {
      positional.push(...args.slice(i + 1))
      break
    }
    if (!raw.startsWith('-') || raw === '-') {
      positional.push(raw)
      continue
    }
    const [opt, attached] = rules.split(raw)
    if (rules.flags.has(opt)) {
      on(opt, null)
      continue
    }
    const isValue = attached === null ? rules.optional?.get(opt) : undefined
    if (isValue) {
      on(opt, isValue(args[i + 1]) ? (args[++i] as string) : null)
      continue
    }
    const value = attached ?? args[++i] ?? null
    if (value === null) break
    on(opt, value)
  }
  return positional
}
