import type { Child } from 'hono/jsx';
import type { Operator } from '../../../console/operator.js';

/*
 * The HTML shell of every console page. Styles and script are files the app serves
 * (console.css, console.js): the CSP is `default-src 'self'`, with no inline script or style.
 * Without JavaScript the page works with plain forms; `live` pages refresh themselves through
 * a <noscript> meta refresh then, and through /events with it.
 */
export function PageLayout(props: { title: string; site: string; timeZone: string; viewer: Operator | null; csrf: string | null; live: boolean; refreshSeconds?: number; children: Child }) {
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        {props.refreshSeconds && !props.live ? <meta http-equiv="refresh" content={String(props.refreshSeconds)} /> : null}
        {props.refreshSeconds && props.live ? (
          <noscript>
            <meta http-equiv="refresh" content={String(props.refreshSeconds)} />
          </noscript>
        ) : null}
        {props.csrf ? <meta name="lintel-csrf" content={props.csrf} /> : null}
        <title>{`${props.title} · ${props.site}`}</title>
        <link rel="stylesheet" href="/console.css" />
        {props.live ? <script src="/console.js" defer></script> : null}
      </head>
      <body>
        <nav class="top">
          <a href="/">status</a>
          {props.viewer ? <a href="/audit">audit</a> : null}
          <span class="who">
            {props.viewer ? `${props.viewer.name} (${props.viewer.role})` : 'not signed in'} · times in {props.timeZone}
          </span>
          {props.viewer ? null : <a href="/login">sign in</a>}
        </nav>
        {props.children}
      </body>
    </html>
  );
}
