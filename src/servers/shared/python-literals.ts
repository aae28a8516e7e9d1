/**
 * A Python file read without running it: top-level assignments of Python literals, as in a
 * Gunicorn config file (`chdir = '/srv/app/current'`) or a Django settings module
 * (`ALLOWED_HOSTS = ['example.com']`). Anything computed is undefined, never guessed.
 */

/** A Python literal we understand: str, bool, int, or a list/tuple of those. undefined = not a literal. */
export type PyLiteral = string | number | boolean | null | PyLiteral[]

/** Parse one Python literal expression (no calls, no names other than True/False/None). */
export function parsePyLiteral(text: string): PyLiteral | undefined {
  const src = stripComment(text).trim()
  let pos = 0
  const ws = () => {
    while (pos < src.length && /\s/.test(src[pos] as string)) pos++
  }
  const value = (): PyLiteral | undefined => {
    ws()
    const c = src[pos]
    if (c === undefined) return undefined
    if (c === '[' || c === '(') {
      const close = c === '[' ? ']' : ')'
      pos++
      const items: PyLiteral[] = []
      ws()
      while (src[pos] !== close) {
        const v = value()
        if (v === undefined) return undefined
        items.push(v)
        ws()
        if (src[pos] === ',') pos++
        else if (src[pos] !== close) return undefined
        ws()
      }
      pos++
      return items
    }
    const str = /^[rRbBuU]{0,2}('''|"""|'|")/.exec(src.slice(pos))
    if (str) {
      const prefix = str[0].slice(0, str[0].length - (str[1] as string).length)
      const quote = str[1] as string
      const rawString = /r/i.test(prefix)
      pos += str[0].length
      let s = ''
      while (pos < src.length && !src.startsWith(quote, pos)) {
        if (src[pos] === '\\' && !rawString) {
          const n = src[pos + 1]
          s += n === 'n' ? '\n' : n === 't' ? '\t' : (n ?? '')
          pos += 2
        } else {
          s += src[pos++]
        }
      }
      if (pos >= src.length) return undefined
      pos += quote.length
      // adjacent literals concatenate: 'a' 'b'
      ws()
      if (src[pos] === "'" || src[pos] === '"') {
        const more = value()
        return typeof more === 'string' ? s + more : undefined
      }
      return s
    }
    const word = /^(True|False|None|-?\d+)\b/.exec(src.slice(pos))
    if (word) {
      pos += word[0].length
      const w = word[1] as string
      return w === 'True' ? true : w === 'False' ? false : w === 'None' ? null : Number(w)
    }
    return undefined
  }
  const v = value()
  ws()
  return pos === src.length ? v : undefined
}

/** Drop a trailing `# comment` that is not inside a string. */
function stripComment(line: string): string {
  let quote: string | null = null
  for (let i = 0; i < line.length; i++) {
    const c = line[i] as string
    if (quote) {
      if (c === '\\') i++
      else if (c === quote) quote = null
    } else if (c === "'" || c === '"') quote = c
    else if (c === '#') return line.slice(0, i)
  }
  return line
}

export interface ConfigFileSettings {
  /** name -> literal value; names assigned something we cannot evaluate map to undefined */
  values: Map<string, PyLiteral | undefined>
}

/**
 * Top-level assignments of a Python file such as a Gunicorn config (`name = literal`, on one line or continued in
 * brackets). Later assignments win, as when Python runs the file.
 */
export function parseConfigFile(text: string): ConfigFileSettings {
  const values = new Map<string, PyLiteral | undefined>()
  const lines = text.split(/\r?\n/)
  for (let i = 0; i < lines.length; i++) {
    const m = /^([A-Za-z_][A-Za-z0-9_]*)\s*=(?!=)(.*)$/.exec(lines[i] as string)
    if (!m) continue
    let expr = m[2] as string
    // a bracketed value continued on the next lines
    let depth = bracketDepth(expr)
    while (depth > 0 && i + 1 < lines.length) {
      expr += '\n' + lines[++i]
      depth = bracketDepth(expr)
    }
    values.set(m[1] as string, parsePyLiteral(expr.split('\n').map(stripComment).join(' ')))
  }
  return { values }
}

function bracketDepth(s: string): number {
  let depth = 0
  const code = s
    .split('\n')
    .map(stripComment)
    .join('\n')
    .replace(/'(?:\\.|[^'\\])*'|"(?:\\.|[^"\\])*"/g, '')
  for (const c of code) {
    if (c === '[' || c === '(' || c === '{') depth++
    else if (c === ']' || c === ')' || c === '}') depth--
  }
  return depth
}
