// @ts-check
// The operators' console: one page on the admin listener, no framework, no CDN. Every value from
// the API goes into the page as text (textContent), never as HTML. The bearer token lives in
// sessionStorage (this tab only). Type-checked by `npm run typecheck` (core/console/assets/tsconfig.json).
'use strict';

/** @typedef {{ id: string, type: string, channel: string, kind: string, state: string, breaker: string | null, pollLagMs: number | null, lastSuccessAt: string | null, lastError: { at: string, code: string, message: string } | null, counters: Record<string, number> }} Health */
/** @typedef {{ key: string, bucket: string, count: number }} Point */

const TOKEN_KEY = 'intake-hub-token';
const LANG_KEY = 'intake-hub-lang';
const REFRESH_MS = 10_000;

/** @type {Record<string, Record<'zh' | 'en', string>>} */
const T = {
  title: { zh: '一口受理 · 运维控制台', en: 'intake-hub · operations console' },
  'nav.connectors': { zh: '接入通道', en: 'Connectors' },
  'nav.intake': { zh: '受理量', en: 'Intake' },
  'nav.deadletters': { zh: '死信', en: 'Dead letters' },
  'nav.clusters': { zh: '热点与聚类', en: 'Hot issues & clusters' },
  'nav.triage': { zh: '人工分拨', en: 'Triage queue' },
  'nav.tickets': { zh: '工单查询', en: 'Ticket lookup' },
  logout: { zh: '退出', en: 'Log out' },
  'login.title': { zh: '登录', en: 'Log in' },
  'login.token': { zh: '管理令牌（Bearer token）', en: 'Admin token (bearer)' },
  'login.submit': { zh: '登录', en: 'Log in' },
  'login.hint': { zh: '令牌只保存在本标签页的 sessionStorage 中，关闭标签页即失效。', en: 'The token is kept in this tab’s sessionStorage only and is gone when the tab closes.' },
  'login.bad': { zh: '令牌无效', en: 'That token is not valid' },
  'intake.title': { zh: '各渠道受理量（近 24 小时）', en: 'Intake per channel (last 24 h)' },
  all: { zh: '全部', en: 'all' },
  'dl.connector': { zh: '通道', en: 'Connector' },
  'dl.stage': { zh: '阶段', en: 'Stage' },
  'clusters.hot': { zh: '热点诉求', en: 'Hot issues' },
  'clusters.biggest': { zh: '最大聚类', en: 'Biggest clusters' },
  'tickets.placeholder': { zh: '工单号或来源编号', en: 'ticket id or source id' },
  'tickets.search': { zh: '查询', en: 'Search' },
  'col.connector': { zh: '通道', en: 'Connector' },
  'col.channel': { zh: '渠道', en: 'Channel' },
  'col.state': { zh: '状态', en: 'State' },
  'col.breaker': { zh: '熔断', en: 'Breaker' },
  'col.lag': { zh: '轮询延迟', en: 'Poll lag' },
  'col.lastError': { zh: '最近错误', en: 'Last error' },
  'col.throughput': { zh: '吞吐（2 小时）', en: 'Throughput (2 h)' },
  'col.counters': { zh: '接收/受理/拒收/失败', en: 'recv/acc/rej/fail' },
  'col.actions': { zh: '操作', en: 'Actions' },
  'col.at': { zh: '时间', en: 'At' },
  'col.stage': { zh: '阶段', en: 'Stage' },
  'col.error': { zh: '原因', en: 'Reason' },
  'col.id': { zh: '编号', en: 'Id' },
  'col.size': { zh: '件数', en: 'Size' },
  'col.reporters': { zh: '诉求人数', en: 'Reporters' },
  'col.last': { zh: '最近', en: 'Last' },
  'col.text': { zh: '内容', en: 'Text' },
  'col.reason': { zh: '转人工原因', en: 'Why triage' },
  'col.assign': { zh: '分拨到小类', en: 'Assign subcategory' },
  'col.status': { zh: '状态', en: 'Status' },
  'col.department': { zh: '承办单位', en: 'Department' },
  'col.due': { zh: '办理时限', en: 'Due' },
  'col.reporter': { zh: '诉求人（已脱敏）', en: 'Reporter (masked)' },
  'col.score': { zh: '相似度', en: 'Score' },
  pause: { zh: '暂停', en: 'Pause' },
  resume: { zh: '恢复', en: 'Resume' },
  restart: { zh: '重启', en: 'Restart' },
  view: { zh: '查看', en: 'View' },
  replay: { zh: '重放', en: 'Replay' },
  assign: { zh: '分拨', en: 'Assign' },
  open: { zh: '打开', en: 'Open' },
  more: { zh: '更多', en: 'More' },
  none: { zh: '暂无', en: 'none' },
  'replay.ok': { zh: '重放成功，工单', en: 'Replayed: ticket' },
  'replay.rejected': { zh: '重放后仍被拒收，新死信', en: 'Rejected again: new dead letter' },
  'assign.ok': { zh: '已分拨', en: 'Assigned' },
  'cluster.members': { zh: '成员工单', en: 'Member tickets' },
  'cluster.hot': { zh: '热点', en: 'hot' },
  forbidden: { zh: '当前角色无权执行此操作', en: 'Your role may not do this' },
  updated: { zh: '更新于', en: 'Updated' },
  'state.running': { zh: '运行', en: 'running' },
  'state.paused': { zh: '已暂停', en: 'paused' },
  'state.degraded': { zh: '降级', en: 'degraded' },
  'state.failed': { zh: '故障', en: 'failed' },
  'state.stopped': { zh: '已停止', en: 'stopped' },
  'state.starting': { zh: '启动中', en: 'starting' },
  'state.created': { zh: '未启动', en: 'created' },
  'ch.hotline-12345': { zh: '12345 热线', en: '12345 hotline' },
  'ch.police-110': { zh: '110 非警务', en: '110 non-police' },
  'ch.city-management': { zh: '数字城管', en: 'City management' },
  'ch.message-board': { zh: '领导留言板', en: 'Message board' },
  'ch.resident-app': { zh: '市民 App', en: 'Resident apps' },
  'ch.grid-worker': { zh: '网格员', en: 'Grid workers' },
};

/** @type {'zh' | 'en'} */
let lang = localStorage.getItem(LANG_KEY) === 'en' ? 'en' : 'zh';
/** @param {string} k */
const t = (k) => T[k]?.[lang] ?? k;

/**
 * Builds an element; children are nodes or text (set as text, never parsed as HTML).
 * @param {string} tag @param {Record<string, string | ((e: Event) => void)>} [attrs] @param {...(Node | string | null | undefined)} kids
 * @returns {HTMLElement}
 */
function h(tag, attrs = {}, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (typeof v === 'function') e.addEventListener(k.replace(/^on/, ''), v);
    else e.setAttribute(k, v);
  }
  for (const c of kids) if (c !== null && c !== undefined) e.append(typeof c === 'string' ? document.createTextNode(c) : c);
  return e;
}
/** @param {string} id */
const $ = (id) => /** @type {HTMLElement} */ (document.getElementById(id));
/** @param {string} sel */
const body = (sel) => /** @type {HTMLElement} */ (document.querySelector(`#${sel} .body`));
/** @param {string | null | undefined} iso */
const time = (iso) => (iso ? new Date(iso).toLocaleString(lang === 'zh' ? 'zh-CN' : 'en-GB', { hour12: false }) : '—');

class HttpError extends Error {
  /** @param {number} status @param {string} message */
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

/** @param {string} path @param {{ method?: string, body?: unknown }} [o] @returns {Promise<any>} */
async function api(path, o = {}) {
  const token = sessionStorage.getItem(TOKEN_KEY) ?? '';
  /** @type {Record<string, string>} */
  const headers = { authorization: `Bearer ${token}` };
  if (o.body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(path, { method: o.method ?? 'GET', headers, ...(o.body !== undefined ? { body: JSON.stringify(o.body) } : {}) });
  const text = await res.text();
  const data = text ? JSON.parse(text) : null;
  if (res.status === 401) {
    logout();
    throw new HttpError(401, t('login.bad'));
  }
  if (!res.ok && res.status !== 422) throw new HttpError(res.status, res.status === 403 ? t('forbidden') : (data?.error?.message ?? `HTTP ${res.status}`));
  return data;
}

/** @param {string} msg @param {boolean} [bad] */
function say(msg, bad = false) {
  const s = $('status');
  s.textContent = msg;
  s.className = bad ? 'status error' : 'status';
}

/** @type {{ tokenId: string, role: string } | null} */
let me = null;
const isOperator = () => me !== null && (me.role === 'operator' || me.role === 'admin');

/** @param {number[]} values */
function sparkline(values) {
  const w = 120;
  const hgt = 24;
  const max = Math.max(1, ...values);
  const step = values.length > 1 ? w / (values.length - 1) : w;
  const pts = values.map((v, i) => `${(i * step).toFixed(1)},${(hgt - 2 - (v / max) * (hgt - 4)).toFixed(1)}`).join(' ');
  const svg = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
  svg.setAttribute('viewBox', `0 0 ${w} ${hgt}`);
  svg.setAttribute('width', String(w));
  svg.setAttribute('height', String(hgt));
  svg.setAttribute('class', 'spark');
  const line = document.createElementNS('http://www.w3.org/2000/svg', 'polyline');
  line.setAttribute('points', pts);
  svg.append(line);
  const total = values.reduce((a, b) => a + b, 0);
  const title = document.createElementNS('http://www.w3.org/2000/svg', 'title');
  title.textContent = String(total);
  svg.append(title);
  return svg;
}

/** Buckets of a series as an array (missing buckets are 0). @param {Point[]} series @param {string} key @param {number} since @param {number} bucketMs @param {number} n */
function bucketsOf(series, key, since, bucketMs, n) {
  const out = new Array(n).fill(0);
  for (const p of series) if (p.key === key) {
    const i = Math.floor((Date.parse(p.bucket) - since) / bucketMs);
    if (i >= 0 && i < n) out[i] += p.count;
  }
  return out;
}

async function renderConnectors() {
  const [{ connectors }, stats] = await Promise.all([api('/api/connectors'), api('/api/stats/intake?hours=2&bucketMinutes=5&by=connector').catch(() => ({ since: new Date().toISOString(), series: [] }))]);
  const since = Date.parse(stats.since);
  const rows = /** @type {Health[]} */ (connectors).map((c) =>
    h(
      'tr',
      { 'data-connector': c.id, class: `state-${c.state}` },
      h('td', {}, h('strong', {}, c.id), h('div', { class: 'sub' }, c.type)),
      h('td', {}, t(`ch.${c.channel}`)),
      h('td', { class: 'state' }, t(`state.${c.state}`)),
      h('td', {}, c.breaker ?? '—'),
      h('td', {}, c.pollLagMs === null ? '—' : `${Math.round(c.pollLagMs / 1000)} s`),
      h('td', { class: 'err' }, c.lastError ? `${c.lastError.code}: ${c.lastError.message}` : '—', c.lastError ? h('div', { class: 'sub' }, time(c.lastError.at)) : null),
      h('td', {}, sparkline(bucketsOf(stats.series, c.id, since, 5 * 60_000, 25))), // 2 h of 5 min buckets and the current one
      h('td', { class: 'num' }, ['received', 'accepted', 'rejected', 'failed'].map((k) => String(c.counters[k] ?? 0)).join(' / ')),
      h('td', {}, ...(isOperator() ? ['pause', 'resume', 'restart'].map((a) => h('button', { type: 'button', 'data-action': a, onclick: () => void lifecycle(c.id, a) }, t(a))) : [])),
    ),
  );
  body('connectors').replaceChildren(
    h('table', {}, h('thead', {}, h('tr', {}, ...['col.connector', 'col.channel', 'col.state', 'col.breaker', 'col.lag', 'col.lastError', 'col.throughput', 'col.counters', 'col.actions'].map((k) => h('th', {}, t(k))))), h('tbody', {}, ...rows)),
  );
  const sel = /** @type {HTMLSelectElement} */ ($('dl-connector'));
  const cur = sel.value;
  sel.replaceChildren(h('option', { value: '' }, t('all')), ...connectors.map((/** @type {Health} */ c) => h('option', { value: c.id }, c.id)));
  sel.value = cur;
}

/** @param {string} id @param {string} action */
async function lifecycle(id, action) {
  try {
    const r = await api(`/api/connectors/${encodeURIComponent(id)}/${action}`, { method: 'POST' });
    say(`${id}: ${t(`state.${r.state}`)}`);
  } catch (e) {
    say(/** @type {Error} */ (e).message, true);
  }
  await renderConnectors();
}

async function renderIntake() {
  const r = await api('/api/stats/intake?hours=24&bucketMinutes=60&by=channel');
  const since = Date.parse(r.since);
  const n = 25;
  const channels = Object.keys(T).filter((k) => k.startsWith('ch.')).map((k) => k.slice(3));
  const w = 600;
  const hgt = 160;
  const series = channels.map((c) => ({ c, v: bucketsOf(r.series, c, since, 3600_000, n) }));
  const max = Math.max(1, ...series.flatMap((s) => s.v));
  const svg = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
  svg.setAttribute('viewBox', `0 0 ${w} ${hgt}`);
  svg.setAttribute('class', 'chart');
  series.forEach((s, k) => {
    const line = document.createElementNS('http://www.w3.org/2000/svg', 'polyline');
    line.setAttribute('points', s.v.map((v, i) => `${((i * w) / (n - 1)).toFixed(1)},${(hgt - 4 - (v / max) * (hgt - 12)).toFixed(1)}`).join(' '));
    line.setAttribute('class', `c${k}`);
    svg.append(line);
  });
  const legend = h('ul', { class: 'legend' }, ...series.map((s, k) => h('li', { class: `c${k}` }, `${t(`ch.${s.c}`)}: ${s.v.reduce((a, b) => a + b, 0)}`)));
  body('intake').replaceChildren(svg, legend);
}

/** @type {any[]} */
let deadLetters = [];
async function renderDeadLetters() {
  const connector = /** @type {HTMLSelectElement} */ ($('dl-connector')).value;
  const r = await api(`/api/deadletters?limit=100${connector ? `&connector=${encodeURIComponent(connector)}` : ''}`);
  deadLetters = r.deadLetters ?? [];
  const stageSel = /** @type {HTMLSelectElement} */ ($('dl-stage'));
  const stage = stageSel.value;
  const stages = [...new Set(deadLetters.map((d) => String(d.stage)))].sort();
  stageSel.replaceChildren(h('option', { value: '' }, t('all')), ...stages.map((s) => h('option', { value: s }, s)));
  stageSel.value = stages.includes(stage) ? stage : '';
  const shown = deadLetters.filter((d) => !stageSel.value || d.stage === stageSel.value);
  body('deadletters').replaceChildren(
    shown.length === 0
      ? h('p', { class: 'empty' }, t('none'))
      : h(
          'table',
          {},
          h('thead', {}, h('tr', {}, ...['col.at', 'col.connector', 'col.stage', 'col.error', 'col.actions'].map((k) => h('th', {}, t(k))))),
          h(
            'tbody',
            {},
            ...shown.map((d) =>
              h(
                'tr',
                { 'data-deadletter': d.id },
                h('td', {}, time(d.at)),
                h('td', {}, d.connectorId),
                h('td', {}, d.stage),
                h('td', { class: 'err' }, `${d.error?.code ?? ''}: ${d.error?.message ?? ''}`, d.replayOf ? h('div', { class: 'sub' }, `replay of ${d.replayOf}`) : null),
                h(
                  'td',
                  {},
                  h('button', { type: 'button', 'data-action': 'view', onclick: () => void viewDeadLetter(d.id) }, t('view')),
                  isOperator() && d.replayable !== false ? h('button', { type: 'button', 'data-action': 'replay', onclick: () => void replay(d.id) }, t('replay')) : null,
                ),
              ),
            ),
          ),
        ),
  );
}

/** The dead letter as the admin API serves it: masked, raw bytes not included. @param {string} id */
async function viewDeadLetter(id) {
  const v = $('dl-view');
  try {
    v.textContent = JSON.stringify(await api(`/api/deadletters/${encodeURIComponent(id)}`), null, 2);
  } catch (e) {
    v.textContent = JSON.stringify(deadLetters.find((d) => d.id === id) ?? { error: /** @type {Error} */ (e).message }, null, 2);
  }
  v.hidden = false;
}

/** @param {string} id */
async function replay(id) {
  try {
    const r = await api(`/api/deadletters/${encodeURIComponent(id)}/replay`, { method: 'POST' });
    say(r.outcome === 'rejected' ? `${t('replay.rejected')} ${r.deadLetterId}` : `${t('replay.ok')} ${r.ticketId}`, r.outcome === 'rejected');
  } catch (e) {
    say(/** @type {Error} */ (e).message, true);
  }
  await renderDeadLetters();
}

/** @param {any[]} clusters @param {string} target */
function clusterTable(clusters, target) {
  $(target).replaceChildren(
    clusters.length === 0
      ? h('p', { class: 'empty' }, t('none'))
      : h(
          'table',
          {},
          h('thead', {}, h('tr', {}, ...['col.id', 'col.size', 'col.reporters', 'col.last', 'col.actions'].map((k) => h('th', {}, t(k))))),
          h('tbody', {}, ...clusters.map((c) => h('tr', { 'data-cluster': c.id }, h('td', {}, c.id, c.hot ? h('span', { class: 'badge' }, t('cluster.hot')) : null), h('td', { class: 'num' }, String(c.size)), h('td', { class: 'num' }, String(c.reporterCount)), h('td', {}, time(c.lastAt)), h('td', {}, h('button', { type: 'button', 'data-action': 'open', onclick: () => void openCluster(c.id) }, t('open')))))),
        ),
  );
}

async function renderClusters() {
  const [hot, big] = await Promise.all([api('/api/clusters?hot=true&sinceHours=168&limit=10'), api('/api/clusters?sort=size&limit=10')]);
  clusterTable(hot.clusters, 'hot');
  clusterTable(big.clusters, 'biggest');
}

/** @param {string} id */
async function openCluster(id) {
  const c = await api(`/api/clusters/${encodeURIComponent(id)}?members=100`);
  $('cluster-detail').replaceChildren(
    h('h3', {}, `${id} · ${t('col.size')} ${c.size} · ${t('col.reporters')} ${c.reporterCount}${c.hot ? ` · ${t('cluster.hot')}` : ''}`),
    h('p', { class: 'sub' }, c.block ?? ''),
    h(
      'table',
      { class: 'members' },
      h('thead', {}, h('tr', {}, ...['col.at', 'col.channel', 'col.text', 'col.reporter', 'col.score'].map((k) => h('th', {}, t(k))))),
      h(
        'tbody',
        {},
        ...c.members.map((/** @type {any} */ m) =>
          h(
            'tr',
            { 'data-ticket': m.ticketId },
            h('td', {}, time(m.receivedAt)),
            h('td', {}, t(`ch.${m.channel}`)),
            h('td', {}, m.excerpt),
            h('td', {}, m.reporter.anonymous ? '—' : [m.reporter.nameMasked, m.reporter.phoneMasked].filter(Boolean).join(' ')),
            h('td', { class: 'num' }, m.score ? Object.entries(m.score).map(([k, v]) => `${k} ${Number(v).toFixed(2)}`).join(' · ') : m.role),
          ),
        ),
      ),
    ),
  );
}

let categoriesLoaded = false;
async function renderTriage() {
  if (!categoriesLoaded) {
    const cats = await api('/api/triage/categories');
    $('subcategories').replaceChildren(...cats.categories.flatMap((/** @type {any} */ c) => c.subcategories.map((/** @type {any} */ s) => h('option', { value: s.code }, `${c.name} / ${s.name}`))));
    categoriesLoaded = true;
  }
  const q = await api('/api/triage?limit=50');
  body('triage').replaceChildren(
    q.items.length === 0
      ? h('p', { class: 'empty' }, t('none'))
      : h(
          'table',
          {},
          h('thead', {}, h('tr', {}, ...['col.at', 'col.channel', 'col.text', 'col.assign'].map((k) => h('th', {}, t(k))))),
          h(
            'tbody',
            {},
            ...q.items.map((/** @type {any} */ x) => {
              const input = /** @type {HTMLInputElement} */ (h('input', { list: 'subcategories', maxlength: '8', pattern: 'C[0-9]{2}\\.[0-9]{3}', placeholder: 'C01.001' }));
              return h(
                'tr',
                { 'data-ticket': x.id },
                h('td', {}, time(x.receivedAt)),
                h('td', {}, t(`ch.${x.channel}`)),
                h('td', {}, x.excerpt),
                h('td', {}, input, isOperator() ? h('button', { type: 'button', 'data-action': 'assign', onclick: () => void assign(x.id, input.value) }, t('assign')) : null),
              );
            }),
          ),
        ),
  );
}

/** @param {string} id @param {string} code */
async function assign(id, code) {
  try {
    const r = await api(`/api/triage/${encodeURIComponent(id)}`, { method: 'POST', body: { subcategory: code.trim() } });
    if (r?.error) say(r.error.message, true);
    else say(`${t('assign.ok')} ${id} → ${r.subcategory.code} ${r.subcategory.name}`);
  } catch (e) {
    say(/** @type {Error} */ (e).message, true);
  }
  await renderTriage();
}

/** @param {any} x */
function ticketRow(x) {
  return h('tr', { 'data-ticket': x.id }, h('td', {}, x.id, h('div', { class: 'sub' }, `${x.connectorId} · ${x.sourceId}`)), h('td', {}, time(x.receivedAt)), h('td', {}, t(`ch.${x.channel}`)), h('td', {}, x.excerpt), h('td', {}, x.status), h('td', {}, x.department ?? '—'), h('td', {}, time(x.dueAt)));
}

/** @param {string} q */
async function searchTickets(q) {
  const out = body('tickets');
  if (/^[0-9A-HJKMNP-TV-Z]{26}$/.test(q)) {
    try {
      const r = await api(`/api/tickets/${q}`);
      out.replaceChildren(h('pre', { class: 'raw' }, JSON.stringify(r, null, 2)));
      return;
    } catch (e) {
      if (/** @type {HttpError} */ (e).status !== 404) throw e;
    }
  }
  const r = await api(`/api/tickets?limit=50${q ? `&sourceId=${encodeURIComponent(q)}` : ''}`);
  out.replaceChildren(
    r.items.length === 0
      ? h('p', { class: 'empty' }, t('none'))
      : h('table', {}, h('thead', {}, h('tr', {}, ...['col.id', 'col.at', 'col.channel', 'col.text', 'col.status', 'col.department', 'col.due'].map((k) => h('th', {}, t(k))))), h('tbody', {}, ...r.items.map(ticketRow))),
  );
}

function applyLang() {
  document.documentElement.lang = lang === 'zh' ? 'zh-CN' : 'en';
  for (const e of document.querySelectorAll('[data-i18n]')) e.textContent = t(String(e.getAttribute('data-i18n')));
  for (const e of document.querySelectorAll('[data-i18n-placeholder]')) e.setAttribute('placeholder', t(String(e.getAttribute('data-i18n-placeholder'))));
  $('lang').textContent = lang === 'zh' ? 'English' : '中文';
  document.title = t('title');
}

let timer = 0;
async function refresh() {
  const parts = [renderConnectors(), renderIntake(), renderDeadLetters(), renderClusters(), renderTriage()];
  const results = await Promise.allSettled(parts);
  const failed = results.find((r) => r.status === 'rejected');
  if (failed && failed.status === 'rejected') say(String(failed.reason?.message ?? failed.reason), true);
  else if (!$('status').classList.contains('error')) say(`${t('updated')} ${time(new Date().toISOString())}`);
}

async function enter() {
  me = await api('/api/whoami');
  $('who').textContent = me ? `${me.tokenId} (${me.role})` : '';
  $('login').hidden = true;
  $('app').hidden = false;
  $('nav').hidden = false;
  $('logout').hidden = false;
  document.body.dataset.role = me?.role ?? '';
  await refresh();
  await searchTickets('');
  clearInterval(timer);
  timer = window.setInterval(() => void refresh(), REFRESH_MS);
}

function logout() {
  sessionStorage.removeItem(TOKEN_KEY);
  clearInterval(timer);
  me = null;
  $('app').hidden = true;
  $('nav').hidden = true;
  $('logout').hidden = true;
  $('login').hidden = false;
  $('who').textContent = '';
}

document.addEventListener('DOMContentLoaded', () => {
  applyLang();
  $('lang').addEventListener('click', () => {
    lang = lang === 'zh' ? 'en' : 'zh';
    localStorage.setItem(LANG_KEY, lang);
    applyLang();
    if (me) void refresh();
  });
  $('logout').addEventListener('click', logout);
  $('login-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const input = /** @type {HTMLInputElement} */ ($('token'));
    sessionStorage.setItem(TOKEN_KEY, input.value.trim());
    input.value = '';
    $('login-error').textContent = '';
    enter().catch((err) => {
      logout();
      $('login-error').textContent = /** @type {Error} */ (err).message;
    });
  });
  $('dl-connector').addEventListener('change', () => void renderDeadLetters());
  $('dl-stage').addEventListener('change', () => void renderDeadLetters());
  $('ticket-form').addEventListener('submit', (e) => {
    e.preventDefault();
    void searchTickets(/** @type {HTMLInputElement} */ ($('ticket-q')).value.trim()).catch((err) => say(err.message, true));
  });
  if (sessionStorage.getItem(TOKEN_KEY)) enter().catch(() => logout());
});
