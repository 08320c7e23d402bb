/** Every id-like key (`…id`, any case) in a JSON document, at any depth, with its value: a local row id would show as a number there. */
export function idLike(value: unknown, out: [string, unknown][] = []): [string, unknown][] {
  if (Array.isArray(value)) for (const v of value) idLike(v, out);
  else if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      if (/id$/i.test(k)) out.push([k, v]);
      idLike(v, out);
    }
  }
  return out;
}
