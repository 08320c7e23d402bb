/*
 * The sign-in form: server-rendered, no script, every value escaped. It posts to itself; the
 * Host, Origin and Sec-Fetch-Site checks (request-guards.ts) keep a foreign page from posting
 * it, and the session cookie is SameSite=Strict.
 */

const esc = (v: string): string => v.replace(/[&<>"']/g, (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[ch]!);

export interface LoginPageModel {
  /** Where to go after signing in: a local path, already checked. */
  next: string;
  error?: string;
  /** No account exists yet: say how to make one. */
  noAccounts?: boolean;
}

export function renderLoginPage(m: LoginPageModel): string {
  const error = m.error ? `<p class="error" role="alert">${esc(m.error)}</p>` : '';
  const hint = m.noAccounts ? '<p class="hint">No operator account exists yet: create one on the gateway with <code>lintel operator add NAME --role admin</code>.</p>' : '';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>lintel — sign in</title>
<style>body{font:16px system-ui,sans-serif;max-width:22rem;margin:3rem auto;padding:0 1rem}label{display:block;margin:.8rem 0 .2rem}
input{width:100%;box-sizing:border-box;padding:.5rem;font-size:1rem}button{margin-top:1rem;padding:.5rem 1.2rem;font-size:1rem}
.error{color:#a00}.hint{color:#555}</style></head>
<body><h1>Sign in</h1>${error}${hint}
<form method="post" action="/login">
<input type="hidden" name="next" value="${esc(m.next)}">
<label for="name">Name</label><input id="name" name="name" autocomplete="username" required maxlength="64" autofocus>
<label for="password">Password</label><input id="password" name="password" type="password" autocomplete="current-password" required maxlength="1024">
<button type="submit">Sign in</button>
</form></body></html>`;
}
