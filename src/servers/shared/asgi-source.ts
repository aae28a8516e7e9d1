/** Whether an app's source defines an ASGI application, read without importing it (FastAPI(), Starlette(), Django's get_asgi_application() ...). */

const ASGI_MARKERS: ReadonlyArray<[RegExp, string]> = [
  [/\bFastAPI\s*\(/, 'a FastAPI application'],
  [/\bStarlette\s*\(/, 'a Starlette application'],
  [/\bQuart\s*\(/, 'a Quart application'],
  [/\bLitestar\s*\(/, 'a Litestar application'],
  [/\bget_asgi_application\s*\(/, "Django's ASGI handler (get_asgi_application)"],
  [/^async def \w+\(\s*scope\b/m, 'an async def app(scope, receive, send)'],
]

/** What ASGI application the source defines, in words; null when nothing says it is one. */
export function asgiMarker(source: string): string | null {
  for (const [re, what] of ASGI_MARKERS) if (re.test(source)) return what
  return null
}
