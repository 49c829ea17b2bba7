// The dashboard's script, stylesheet and icon, built into the binary: no CDN, no network, no
// build step. The pages work without the script (reading, and the action forms post as plain
// forms); the script adds live updates from /api/stream and actions without a reload.
#include "dashboard/routes.h"

namespace tandem::dashboard::internal {

const char* const kAppJs = R"JS('use strict';
(function () {
  var live = null;
  function setLive(text, state) {
    if (!live) live = document.getElementById('live');
    if (!live) return;
    live.textContent = text;
    live.className = 'live ' + state;
  }
  function say(text, bad) {
    var box = document.getElementById('message');
    if (!box) return;
    box.textContent = text;
    box.className = bad ? 'shown bad' : 'shown';
    clearTimeout(say.timer);
    say.timer = setTimeout(function () { box.className = ''; }, 6000);
  }
  function matches(el, target) {
    var t = el.getAttribute('data-target');
    return t === null || t === target;
  }
  // Shows the action buttons the new status allows (each lists them in data-when).
  function updateActions(status) {
    var buttons = document.querySelectorAll('button[data-action][data-when]');
    for (var i = 0; i < buttons.length; i++) {
      var allowed = (' ' + buttons[i].getAttribute('data-when') + ' ').indexOf(' ' + status + ' ') >= 0;
      var form = buttons[i].form;
      if (form) form.hidden = !allowed;
    }
  }
  function applyJob(ev) {
    var holders = document.querySelectorAll('[data-job-id="' + ev.job + '"]');
    for (var i = 0; i < holders.length; i++) {
      var holder = holders[i];
      if (!matches(holder, ev.target)) continue;
      var cells = holder.querySelectorAll('[data-field="status"]');
      for (var j = 0; j < cells.length; j++) {
        cells[j].textContent = ev.status;
        if (cells[j].classList.contains('status')) cells[j].className = 'status s-' + ev.status;
      }
      if (holder.tagName === 'TR') holder.className = 'r-' + ev.status;
      var progress = holder.querySelectorAll('[data-field="progress"]');
      for (var k = 0; k < progress.length; k++) progress[k].textContent = ev.progress_text || '';
      var bars = holder.querySelectorAll('progress[data-field="bar"]');
      for (var b = 0; b < bars.length; b++) if (ev.progress_percent >= 0) bars[b].value = ev.progress_percent;
      var attempts = holder.querySelectorAll('[data-field="attempts"]');
      for (var a = 0; a < attempts.length; a++) attempts[a].textContent = ev.attempts;
      var statements = holder.querySelectorAll('[data-field="statements"]');
      for (var s = 0; s < statements.length; s++) {
        statements[s].textContent = ev.statements_done + ' of ' + ev.statements_total;
      }
      if (holder.tagName !== 'TR') updateActions(ev.status);
    }
    // Background progress shown outside the facts list (the job page's progress section).
    var page = document.querySelector('dl[data-job-id="' + ev.job + '"]');
    if (page && matches(page, ev.target)) {
      var more = document.querySelectorAll('section.background [data-field="progress"]');
      for (var m = 0; m < more.length; m++) more[m].textContent = ev.progress_text || '';
      var mbars = document.querySelectorAll('section.background progress[data-field="bar"]');
      for (var n = 0; n < mbars.length; n++) if (ev.progress_percent >= 0) mbars[n].value = ev.progress_percent;
    }
  }
  function count(map, name) { return (map && map[name]) || 0; }
  function applyTarget(ev) {
    var rows = document.querySelectorAll('tr[data-target]');
    for (var i = 0; i < rows.length; i++) {
      var row = rows[i];
      if (row.getAttribute('data-target') !== ev.target || row.hasAttribute('data-job-id')) continue;
      row.className = 'st-' + ev.state;
      var state = row.querySelector('[data-field="state"] .status');
      if (state) { state.textContent = ev.state; state.className = 'status s-' + ev.state; }
      var m = row.querySelector('[data-field="migrations"]');
      if (m) m.textContent = [count(ev.migrations, 'succeeded'), count(ev.migrations, 'pending'),
        count(ev.migrations, 'running'), count(ev.migrations, 'failed')].join(' \u00b7 ');
      var j = row.querySelector('[data-field="jobs"]');
      if (j) j.textContent = [count(ev.jobs, 'queued'), count(ev.jobs, 'running'),
        count(ev.jobs, 'paused'), count(ev.jobs, 'failed')].join(' \u00b7 ');
      var r = row.querySelector('[data-field="running"]');
      if (r) r.textContent = ev.running ? (ev.running.version + ' ' + ev.running.name + ' ' +
        (ev.running.progress_text || '')) : '';
    }
  }
  function applyMigration(ev) {
    var rows = document.querySelectorAll('tr[data-version="' + (window.CSS && CSS.escape ? CSS.escape(ev.version) : ev.version) + '"]');
    for (var i = 0; i < rows.length; i++) {
      var cell = rows[i].querySelector('[data-field="status"]');
      if (cell) cell.textContent = ev.status;
    }
  }
  function connect() {
    if (!window.EventSource) return;
    var source = new EventSource('/api/stream');
    source.onopen = function () { setLive('live', 'on'); };
    source.onerror = function () { setLive('reconnecting', 'off'); };
    source.onmessage = function (message) {
      var ev;
      try { ev = JSON.parse(message.data); } catch (e) { return; }
      if (ev.type === 'job') applyJob(ev);
      else if (ev.type === 'target') applyTarget(ev);
      else if (ev.type === 'migration') applyMigration(ev);
    };
  }
  function onSubmit(event) {
    var form = event.target;
    if (!form.classList || !form.classList.contains('action')) return;
    event.preventDefault();
    var button = form.querySelector('button[data-action]');
    var action = button ? button.getAttribute('data-action') : '';
    if (action === 'cancel' && !window.confirm('Cancel this job? A running statement is stopped.')) return;
    if (button) button.disabled = true;
    fetch(form.action, {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'Accept': 'application/json', 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(new FormData(form)).toString()
    }).then(function (response) {
      return response.text().then(function (text) {
        var body = null;
        try { body = JSON.parse(text); } catch (e) { body = null; }
        if (response.ok && body) {
          applyJob({ job: body.id, target: body.target, status: body.status,
            progress_text: body.progress_text, progress_percent: body.progress_percent,
            attempts: body.attempts, statements_done: body.statements_done,
            statements_total: body.statements_total });
          say(action + ': job is now ' + body.status, false);
        } else if (response.status === 401) {
          say('Log in first (the token is needed to act).', true);
        } else {
          say((body && body.error) || text || ('refused: ' + response.status), true);
        }
      });
    }).catch(function () { say('the dashboard could not be reached', true); })
      .then(function () { if (button) button.disabled = false; });
  }
  document.addEventListener('submit', onSubmit);
  document.addEventListener('DOMContentLoaded', function () {
    setLive('connecting', 'off');
    connect();
  });
})();
)JS";

const char* const kAppCss = R"CSS(:root {
  --bg: #fbfbfc; --fg: #1d2330; --muted: #667085; --line: #e3e6ec; --accent: #2457c5;
  --bad: #b42318; --bad-bg: #fdecea; --ok: #067647; --ok-bg: #e7f6ee; --warn: #b54708;
  --warn-bg: #fef4e6; --run: #175cd3; --run-bg: #e8f0fe;
  font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; font-size: 15px;
}
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--fg); }
header { background: #111827; color: #fff; padding: .5rem 1rem; }
header nav { display: flex; flex-wrap: wrap; gap: .9rem; align-items: center; }
header a { color: #d0d5dd; text-decoration: none; }
header a[aria-current] { color: #fff; font-weight: 600; }
.brand { margin-right: .5rem; }
main { padding: 1rem; max-width: 1400px; margin: 0 auto; overflow-wrap: break-word; }
h1 { font-size: 1.4rem; margin: .3rem 0 1rem; }
h2 { font-size: 1.1rem; margin-top: 1.6rem; }
a { color: var(--accent); }
table { border-collapse: collapse; width: 100%; background: #fff; }
th, td { text-align: left; padding: .35rem .5rem; border-bottom: 1px solid var(--line); vertical-align: top; }
th { font-size: .8rem; color: var(--muted); font-weight: 600; }
.scroll { overflow-x: auto; }
.status { display: inline-block; padding: 0 .4rem; border-radius: .6rem; font-size: .82rem; background: #eef0f3; }
.s-failed, .s-unreachable, .s-cancelled { background: var(--bad-bg); color: var(--bad); }
.s-succeeded, .s-ok { background: var(--ok-bg); color: var(--ok); }
.s-running, .s-retrying { background: var(--run-bg); color: var(--run); }
.s-paused, .s-awaiting-approval, .s-waiting { background: var(--warn-bg); color: var(--warn); }
tr.st-failed td:first-child, tr.st-unreachable td:first-child, tr.r-failed td:first-child { border-left: 3px solid var(--bad); }
tr.st-running td:first-child, tr.r-running td:first-child { border-left: 3px solid var(--run); }
.error { color: var(--bad); font-size: .85rem; }
.note, .empty, small { color: var(--muted); }
.group { font-size: .75rem; background: #eef0f3; border-radius: .3rem; padding: 0 .3rem; }
.badge { background: #374151; color: #fff; border-radius: .3rem; padding: 0 .4rem; font-size: .8rem; }
.live { margin-left: auto; font-size: .8rem; color: #98a2b3; }
.live.on { color: #75e0a7; }
.filters { display: flex; flex-wrap: wrap; gap: .6rem; align-items: center; margin-bottom: .8rem; }
.grid { display: flex; flex-wrap: wrap; gap: 2px; margin-bottom: .8rem; }
.grid .cell { width: 12px; height: 12px; background: #d0d5dd; border-radius: 2px; }
.grid .st-ok { background: #75e0a7; } .grid .st-failed, .grid .st-unreachable { background: #f97066; }
.grid .st-running { background: #84adff; } .grid .st-waiting { background: #fdb022; } .grid .st-pending { background: #b2ccff; }
dl.facts { display: grid; grid-template-columns: max-content minmax(0, 1fr); gap: .25rem 1rem; }
dl.facts dt { color: var(--muted); } dl.facts dd { margin: 0; overflow-wrap: anywhere; }
.actions { display: flex; flex-wrap: wrap; gap: .5rem; margin: 1rem 0; align-items: center; }
form.inline, form.action { display: inline; margin: 0; }
form[hidden] { display: none; }
button { font: inherit; padding: .35rem .9rem; border-radius: .35rem; border: 1px solid #98a2b3; background: #fff; cursor: pointer; }
button[data-action="cancel"] { border-color: var(--bad); color: var(--bad); }
button.link { border: 0; background: none; color: #d0d5dd; padding: 0; }
button:disabled { opacity: .5; cursor: default; }
pre.sql { background: #0f172a; color: #e2e8f0; padding: .6rem 0; overflow-x: auto; border-radius: .4rem; font-size: .85rem; }
pre.sql .line { display: block; padding: 0 .6rem; }
pre.sql .ln { display: inline-block; width: 3.2em; color: #64748b; user-select: none; }
pre.sql .stmt-err { background: #3b1d1d; }
pre.sql .line-err { background: #7a271a; }
pre.detail { white-space: pre-wrap; background: #fff; border: 1px solid var(--line); padding: .5rem; }
section.failure { border-left: 3px solid var(--bad); padding-left: .8rem; }
code.sqlstate { background: var(--bad-bg); color: var(--bad); padding: 0 .3rem; }
progress { width: 8rem; vertical-align: middle; }
section.background progress { width: 100%; max-width: 32rem; height: 1.1rem; }
.charts { display: flex; flex-wrap: wrap; gap: 1rem; }
figure.chart { margin: 0; } figure.chart svg { max-width: 100%; height: auto; background: #fff; }
figure.chart figcaption { font-size: .8rem; color: var(--muted); }
svg .frame { stroke: var(--line); } svg .rate { stroke: var(--run); stroke-width: 2; }
svg .duration { stroke: var(--warn); stroke-width: 2; }
form.login { display: flex; flex-wrap: wrap; gap: .6rem; align-items: center; }
#message { position: fixed; bottom: 1rem; left: 1rem; right: 1rem; max-width: 36rem; margin: 0 auto;
  padding: .6rem 1rem; border-radius: .4rem; background: #111827; color: #fff; display: none; }
#message.shown { display: block; } #message.bad { background: var(--bad); }
.crumbs { margin: 0; font-size: .85rem; }
@media (max-width: 640px) {
  main { padding: .6rem; } th, td { padding: .3rem; font-size: .85rem; }
  table.overview th:nth-child(6), table.overview td:nth-child(6) { display: none; }
}
)CSS";

const char* const kFavicon =
    R"SVG(<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><rect width="16" height="16" rx="3" fill="#2457c5"/><path d="M4 5h8M8 5v7" stroke="#fff" stroke-width="2"/></svg>)SVG";

}  // namespace tandem::dashboard::internal
