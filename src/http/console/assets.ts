/*
 * The console's two static files, served by the app itself (no build step, no CDN): the CSP
 * is `default-src 'self'`, so neither inline script nor inline style would run. The script only
 * makes the page live; every function of the page works without it.
 */

/**
 * Opens /events and replaces the sections it sends (server-rendered, already escaped HTML), puts
 * new decisions on top of the table, and fills the session's CSRF token into forms that came
 * over the stream (they are rendered once per role, not per session). EventSource reconnects by
 * itself; a dropped client reconnects and gets the whole state again in the first status.
 */
export const CONSOLE_JS = `'use strict';
(function () {
  var meta = document.querySelector('meta[name="lintel-csrf"]');
  var csrf = meta ? meta.getAttribute('content') : '';
  var state = document.getElementById('live-state');
  var MAX_ROWS = 50;
  function say(text) { if (state) state.textContent = text; }
  function fillTokens(root) {
    if (!root || !csrf) return;
    var inputs = root.querySelectorAll('input[name="_csrf"]');
    for (var i = 0; i < inputs.length; i++) if (!inputs[i].value) inputs[i].value = csrf;
  }
  if (typeof EventSource === 'undefined') { say('live updates unavailable: reload to refresh'); return; }
  var es = new EventSource('/events');
  es.addEventListener('open', function () { say('live'); document.body.setAttribute('data-live', 'open'); });
  es.addEventListener('error', function () { say('live updates: reconnecting…'); document.body.setAttribute('data-live', 'reconnecting'); });
  es.addEventListener('status', function (m) {
    var sections = JSON.parse(m.data);
    for (var id in sections) {
      var el = document.getElementById(id);
      if (!el) continue;
      el.outerHTML = sections[id];
      fillTokens(document.getElementById(id));
    }
  });
  es.addEventListener('decision', function (m) {
    var rows = document.getElementById('decision-rows');
    if (!rows) return;
    rows.insertAdjacentHTML('afterbegin', m.data);
    while (rows.rows.length > MAX_ROWS) rows.deleteRow(-1);
  });
})();
`;

export const CONSOLE_CSS = `
*{box-sizing:border-box}
body{font:15px/1.45 system-ui,sans-serif;margin:0;color:#1d1d1f;background:#fafafa}
main{padding:.5rem 1rem 2rem;max-width:80rem;margin:auto}
nav.top{display:flex;flex-wrap:wrap;gap:1rem;align-items:center;padding:.6rem 1rem;background:#20262e;color:#eee}
nav.top a{color:#9cd0ff}nav.top .who{margin-left:auto;font-size:.9rem}
h1{font-size:1.3rem;margin:.8rem 0}h2{font-size:1.05rem;margin:1.4rem 0 .5rem}
.scroll{overflow-x:auto;-webkit-overflow-scrolling:touch;max-width:100%}
table{border-collapse:collapse;min-width:100%;background:#fff}
th,td{border-bottom:1px solid #ddd;padding:.35rem .6rem;text-align:left;white-space:nowrap;vertical-align:middle}
code{font-size:.95em}
.ok{color:#0a7a32;font-weight:600}.bad{color:#b3261e;font-weight:600}.unk{color:#777}
.health{padding:.1rem .5rem;border-radius:.3rem;color:#fff}
.health-ok{background:#0a7a32}.health-degraded{background:#a86b00}.health-failing{background:#b3261e}
.banner{padding:.6rem 1rem;background:#fde7e6;border:2px solid #b3261e;border-radius:.4rem}
.flash{padding:.6rem 1rem;border-radius:.4rem;background:#eef7ee}.flash.bad{background:#fde7e6}
tr.decision.denied td{background:#fff6f5}
form.action{display:inline-flex;flex-wrap:wrap;gap:.4rem;align-items:center;margin:.2rem .4rem .2rem 0}
.buttons{display:flex;flex-wrap:wrap;gap:.4rem}
.people-actions form.action{display:flex;margin:.5rem 0}
button{min-height:44px;min-width:44px;padding:.4rem .9rem;font-size:1rem;border-radius:.4rem;border:1px solid #2463a6;background:#2f7bd0;color:#fff;cursor:pointer}
button.danger{background:#b3261e;border-color:#8a1c16}
input,select{min-height:44px;font-size:1rem;padding:.3rem .5rem}
input[type=number]{width:5.5rem}
.histogram th{font-weight:normal}.histogram meter{width:12rem}
dl.learned{background:#fffbe6;padding:.6rem 1rem;border:1px solid #e0c000}
form.filters{display:flex;flex-wrap:wrap;gap:.5rem;align-items:end}
form.filters label{display:flex;flex-direction:column;font-size:.85rem}
@media (max-width:40rem){main{padding:.5rem}h1{font-size:1.1rem}}
`;
