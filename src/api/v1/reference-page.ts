/*
 * /api/v1/reference: the OpenAPI document as one readable page, rendered here from the same
 * document the API serves. No script and nothing fetched: the gateway has no internet, and a
 * reference that needs a CDN is no reference on a door controller's host.
 */

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type Obj = { [k: string]: Json };

const escapeHtml = (s: string): string => s.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);

function isObj(v: Json | undefined): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A schema as a compact type line: {$ref} names, objects list their fields (one level), arrays their items. */
function typeOf(schema: Json | undefined, depth = 0): string {
  if (!isObj(schema)) return 'any';
  if (typeof schema.$ref === 'string') return schema.$ref.split('/').pop()!;
  if (Array.isArray(schema.anyOf)) return schema.anyOf.map((s) => typeOf(s, depth)).join(' | ');
  if (Array.isArray(schema.enum)) return schema.enum.map((e) => JSON.stringify(e)).join(' | ');
  const type = Array.isArray(schema.type) ? schema.type.join(' | ') : typeof schema.type === 'string' ? schema.type : 'any';
  if (type.includes('array')) return `${typeOf(schema.items, depth)}[]`;
  if (type.includes('object') && isObj(schema.properties) && depth < 1) {
    return `{ ${Object.entries(schema.properties).map(([k, v]) => `${k}: ${typeOf(v, depth + 1)}`).join(', ')} }`;
  }
  return schema.format ? `${type} (${String(schema.format)})` : type;
}

function fieldsTable(schema: Obj): string {
  const props = isObj(schema.properties) ? schema.properties : {};
  const required = new Set(Array.isArray(schema.required) ? schema.required.map(String) : []);
  const rows = Object.entries(props).map(([name, s]) => {
    const desc = isObj(s) && typeof s.description === 'string' ? s.description : '';
    const dflt = isObj(s) && 'default' in s ? ` (default ${JSON.stringify(s.default)})` : '';
    return `<tr><td><code>${escapeHtml(name)}</code>${required.has(name) ? ' *' : ''}</td><td><code>${escapeHtml(typeOf(s))}</code></td><td>${escapeHtml(desc + dflt)}</td></tr>`;
  });
  return `<table><tr><th>field</th><th>type</th><th></th></tr>${rows.join('')}</table>`;
}

function operation(method: string, path: string, op: Obj): string {
  const params = Array.isArray(op.parameters) ? op.parameters.filter(isObj) : [];
  const paramList = params.map((p) => `<li><code>${escapeHtml(String(p.name))}</code> (${escapeHtml(String(p.in))}) <code>${escapeHtml(typeOf(p.schema))}</code>${typeof p.description === 'string' ? ` — ${escapeHtml(p.description)}` : ''}</li>`);
  const body = isObj(op.requestBody) && isObj(op.requestBody.content) ? op.requestBody.content['application/json'] : undefined;
  const responses = isObj(op.responses) ? Object.entries(op.responses) : [];
  const respList = responses.map(([status, r]) => `<li><b>${escapeHtml(status)}</b> ${escapeHtml(isObj(r) && typeof r.description === 'string' ? r.description : '')}</li>`);
  return `<section><h3><span class="m">${method.toUpperCase()}</span> <code>/api/v1${escapeHtml(path)}</code></h3>
${typeof op.summary === 'string' ? `<p>${escapeHtml(op.summary)}</p>` : ''}
${paramList.length ? `<h4>Parameters</h4><ul>${paramList.join('')}</ul>` : ''}
${isObj(body) ? `<h4>Body <code>${escapeHtml(typeOf(body.schema))}</code></h4>` : ''}
<h4>Responses</h4><ul>${respList.join('')}</ul></section>`;
}

export function renderReference(doc: unknown): string {
  const d = doc as Obj;
  const info = isObj(d.info) ? d.info : {};
  const paths = isObj(d.paths) ? d.paths : {};
  const ops = Object.entries(paths).flatMap(([path, item]) =>
    isObj(item) ? Object.entries(item).filter((e): e is [string, Obj] => isObj(e[1])).map(([method, op]) => operation(method, path, op)) : [],
  );
  const components = isObj(d.components) && isObj(d.components.schemas) ? d.components.schemas : {};
  const schemas = Object.entries(components).map(([name, s]) => `<section><h3 id="${escapeHtml(name)}">${escapeHtml(name)}</h3>${isObj(s) ? fieldsTable(s) : ''}</section>`);
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(String(info.title ?? 'API'))}</title>
<style>body{font:15px/1.5 system-ui,sans-serif;max-width:960px;margin:2rem auto;padding:0 1rem}code{background:#f3f3f3;padding:0 .2em}
table{border-collapse:collapse}td,th{border:1px solid #ddd;padding:.2em .5em;text-align:left;vertical-align:top}.m{color:#064;font-weight:700}section{margin-bottom:1.5rem}</style></head>
<body><h1>${escapeHtml(String(info.title ?? 'API'))} <small>${escapeHtml(String(info.version ?? ''))}</small></h1>
<p>${escapeHtml(String(info.description ?? ''))} Every route but this page and <a href="/api/v1/openapi.json">openapi.json</a> needs <code>Authorization: Bearer &lt;token&gt;</code>.
Errors are <code>{"error":{"code","message","field"}}</code>.</p>
<h2>Routes</h2>${ops.join('\n')}<h2>Schemas</h2>${schemas.join('\n')}</body></html>`;
}
