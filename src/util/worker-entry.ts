/**
 * The compiled file of a worker thread's entry, given relative to the caller's module. A worker
 * runs plain JavaScript: under the TypeScript test runner the caller is `src/…/x.ts` and the
 * entry is taken from the build beside it (`dist/src/…`), so tests need `npm run build` first.
 */
export function builtEntry(relative: string, callerUrl: string): URL {
  const here = new URL(relative, callerUrl);
  if (!callerUrl.endsWith('.ts')) return here;
  const i = here.href.lastIndexOf('/src/');
  return new URL(`${here.href.slice(0, i)}/dist${here.href.slice(i)}`);
}
