// The citizen's verification page. The decryption key is in the URL fragment (#k=...), which
// the browser never puts in a request line, a Referer or a history entry: the page fetches the
// ciphertext by its CID, checks it against the CID, decrypts it here (a 32-byte key: AES-256-GCM
// with WebCrypto, associated data "ereg/1"; a 16-byte key: SM4-GCM with vendor/sm-crypto.js,
// associated data "ereg/1-sm"), checks that the document is of its envelope's suite and its
// integrity with ereg.js, and asks the verifier only about the chain (POST /v1/status: version,
// type, issuer, validity, root and target hash, and an ereg/1-sm document's SM2 signature over
// the root). No field value, salt, unit number or key leaves the page.
'use strict';

const TEXT = {
  zh: {
    brand: '电子证照核验', checking: '正在核验…', fields: '证照信息', issuer: '签发机关', record: '登记与状态',
    checks: '核验项目', footer: '核验结果依据区块链登记数据，不经由签发机关。', lang: 'English',
    valid: '真实有效', invalid: '无效', error: '暂时无法核验',
    noKey: '二维码不完整：缺少解密密钥。请重新扫描证照上的二维码。',
    unreadable: '无法识别此二维码',
    badCid: '二维码无效：内容标识有误。', notFound: '未找到该证照的存储副本。',
    undecryptable: '无法解密：二维码与证照存储副本不符。', network: '网络连接失败，请稍后重试。',
    noCrypto: '此浏览器无法在本页面解密证照，请用最新版浏览器通过 https 地址打开。',
    type: '证照类型', validFrom: '生效日期', validUntil: '有效期至', none: '长期',
    department: '机关名称', creditCode: '统一社会信用代码', anchoredAt: '登记上链时间', state: '当前状态',
    changedAt: '状态变更时间', successor: '替代证照', transaction: '登记交易',
    hidden: (n) => `持证人隐藏了 ${n} 项信息（脱敏）。`,
    states: { ACTIVE: '有效', REVOKED: '已撤销', SUSPENDED: '已暂停', SUPERSEDED: '已被取代' },
    checkNames: {
      DOCUMENT_INTEGRITY: '内容完整性', DOCUMENT_STATUS: '证照状态', ISSUER_IDENTITY: '签发机关身份',
      STORAGE: '存储副本', PROPERTY_STATUS: '不动产状态', MORTGAGE_STATUS: '抵押权状态',
    },
    colon: '：',
    property: '不动产登记状态', owners: '权利人份额', mortgages: '抵押登记', seizures: '查封登记',
    ownersNote: '权利人以加盐承诺值表示，不含姓名或证件号。',
    propertyStates: {
      CURRENT: '现行有效的不动产权证书', SUPERSEDED: '已被新证书取代（已办理转移登记）',
      FROZEN: '该不动产已被法院查封', NOT_REGISTERED: '该证书未登记为不动产权属', CHAIN_UNAVAILABLE: '暂时无法查询不动产登记状态',
      CORRECTED: '已办理更正登记，本证书不再有效', UNIT_MISMATCH: '证书所载不动产单元与登记不符',
    },
    unit: '不动产单元（哈希）', since: '登记生效时间', caseId: '转移登记业务号', supersededBy: '取代证书',
    supersededAt: '取代时间', owner: (i) => `权利人 ${i}`, mortgageSince: '抵押登记时间', seizureSince: '查封时间',
    unknownDept: '未知机关', correctionCase: '更正登记业务号', endedAt: '注销时间', registeredUnit: '登记的不动产单元（哈希）',
    mortgage: '抵押权登记状态',
    mortgageStates: {
      ACTIVE: '抵押权已登记，现行有效', RELEASED: '抵押权已注销', NOT_REGISTERED: '该证明未登记任何抵押权',
      UNIT_MISMATCH: '证明所载不动产单元与登记不符', CHAIN_UNAVAILABLE: '暂时无法查询抵押登记状态',
    },
    mortgagee: '抵押权人', mortgageId: '抵押登记序号', mortgageAt: '抵押登记时间', releasedAt: '注销时间',
    reason: '原因', reasonCode: (n) => `原因代码 ${n}`, show: '显示', hide: '隐藏',
    showFull: (label) => `显示完整${label}`, hideFull: (label) => `隐藏${label}`, yes: '是', no: '否',
    idTypes: {
      'resident-id': '居民身份证', passport: '护照', 'hk-macao-permit': '港澳居民来往内地通行证',
      'taiwan-permit': '台湾居民来往大陆通行证', 'credit-code': '统一社会信用代码',
    },
    listSep: '、',
  },
  en: {
    brand: 'Document verification', checking: 'Checking…', fields: 'Document', issuer: 'Issuer',
    record: 'Registration and status', checks: 'Checks',
    footer: 'The result comes from the chain, not from the issuing department.', lang: '中文',
    valid: 'Authentic and valid', invalid: 'Not valid', error: 'Cannot check now',
    noKey: 'The QR code is incomplete: the key is missing. Scan the code on the document again.',
    unreadable: 'This code cannot be checked',
    badCid: 'The QR code is not valid.', notFound: 'No stored copy of this document was found.',
    undecryptable: 'Cannot decrypt: the QR code does not match the stored copy.',
    network: 'Network error; try again later.',
    noCrypto: 'This browser cannot decrypt the document on this page; open its https address in an up-to-date browser.',
    type: 'Type', validFrom: 'Valid from', validUntil: 'Valid until', none: 'no end date',
    department: 'Department', creditCode: 'Credit code', anchoredAt: 'Registered on chain', state: 'Status',
    changedAt: 'Status changed', successor: 'Replaced by', transaction: 'Transaction',
    hidden: (n) => `The holder hid ${n} field(s).`,
    states: { ACTIVE: 'Active', REVOKED: 'Revoked', SUSPENDED: 'Suspended', SUPERSEDED: 'Superseded' },
    checkNames: {
      DOCUMENT_INTEGRITY: 'Integrity', DOCUMENT_STATUS: 'Document status', ISSUER_IDENTITY: 'Issuer identity',
      STORAGE: 'Stored copy', PROPERTY_STATUS: 'Property status', MORTGAGE_STATUS: 'Mortgage status',
    },
    colon: ': ',
    property: 'Property registration', owners: "Owners' shares", mortgages: 'Mortgages', seizures: 'Seizures',
    ownersNote: 'Owners appear as salted commitments: no names or ID numbers.',
    propertyStates: {
      CURRENT: 'Current title certificate', SUPERSEDED: 'Replaced by a newer certificate (transferred)',
      FROZEN: 'The property is seized by a court', NOT_REGISTERED: 'Not the registered title of any property',
      CHAIN_UNAVAILABLE: 'The property registration cannot be read now',
      CORRECTED: 'No longer valid: the registration was corrected',
      UNIT_MISMATCH: 'Names another unit than the one it is registered for',
    },
    unit: 'Unit (hash)', since: 'Title since', caseId: 'Transfer case', supersededBy: 'Replaced by',
    supersededAt: 'Replaced on', owner: (i) => `Owner ${i}`, mortgageSince: 'registered', seizureSince: 'seized',
    unknownDept: 'unknown department', correctionCase: 'Correction case', endedAt: 'Ended on',
    registeredUnit: 'Registered unit (hash)',
    mortgage: 'Mortgage registration',
    mortgageStates: {
      ACTIVE: 'Mortgage registered and in force', RELEASED: 'The mortgage was released',
      NOT_REGISTERED: 'Registered for no mortgage', UNIT_MISMATCH: 'Names another unit than the one it is registered for',
      CHAIN_UNAVAILABLE: 'The mortgage registration cannot be read now',
    },
    mortgagee: 'Mortgagee', mortgageId: 'Mortgage no.', mortgageAt: 'Registered on', releasedAt: 'Released on',
    reason: 'Reason', reasonCode: (n) => `reason code ${n}`, show: 'Show', hide: 'Hide',
    showFull: (label) => `Show the full ${label}`, hideFull: (label) => `Hide the ${label}`, yes: 'yes', no: 'no',
    idTypes: {
      'resident-id': 'Resident ID card', passport: 'Passport', 'hk-macao-permit': 'Mainland travel permit (HK/Macao)',
      'taiwan-permit': 'Mainland travel permit (Taiwan)', 'credit-code': 'Unified social credit code',
    },
    listSep: ', ',
  },
};

let lang = 'zh'; // Chinese first; the button switches to English
let last = null; // {kind, messageKey} or {verdict, schema, table}: table is GET /v1/messages

function $(id) { return document.getElementById(id); }
function t(key) { return TEXT[lang][key]; }

function b64urlDecode(text) {
  const b64 = text.replace(/-/g, '+').replace(/_/g, '/') + '==='.slice((text.length + 3) % 4);
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

function splitTitle(title) {
  if (!title) return null;
  const m = title.match(/^(\S+)\s+(.+)$/);
  return m ? { zh: m[1], en: m[2] } : { zh: title, en: title };
}

// A field's title; a nullable field ({anyOf: [{..., title}, {type: 'null'}]}) has it in a branch.
function titleOf(node) {
  if (!node) return null;
  if (node.title) return splitTitle(node.title);
  for (const branch of [...(node.anyOf || []), ...(node.oneOf || [])]) {
    if (branch && branch.title) return splitTitle(branch.title);
  }
  return null;
}

// A nested field is labelled "parent · child" (注册资本 · 金额), unless the child's own title
// already names its parent (营业期限自).
function labelFor(schema, pointer) {
  let node = schema;
  let label = '';
  const parts = pointer.split('/').slice(1).map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
  for (const part of parts) {
    if (!node || !node.properties || !node.properties[part]) return pointer;
    node = node.properties[part];
    const title = titleOf(node);
    if (!title) return pointer;
    const own = title[lang];
    label = label && !own.startsWith(label) ? `${label} · ${own}` : own;
  }
  return label || pointer;
}

// JSON Pointer -> position in the schema (depth first), so fields show in the form's order.
function schemaOrder(schema) {
  const order = new Map();
  const walk = (node, prefix) => {
    for (const [name, child] of Object.entries((node && node.properties) || {})) {
      const pointer = `${prefix}/${name.replace(/~/g, '~0').replace(/\//g, '~1')}`;
      order.set(pointer, order.size);
      walk(child, pointer);
    }
  };
  walk(schema, '');
  return order;
}

function show(value) {
  if (value === null || value === undefined) return '—';
  if (Array.isArray(value)) return value.map(show).join('；');
  if (typeof value === 'object') return Object.entries(value).map(([k, v]) => `${k}: ${show(v)}`).join('，');
  return String(value);
}

function row(dl, label, value) {
  const dt = document.createElement('dt');
  dt.textContent = label;
  const dd = document.createElement('dd');
  dd.textContent = show(value);
  dl.append(dt, dd);
}

// A field with nothing in it (null, "", [], {}) is left out: a certificate shows what it says.
function isEmpty(value) {
  if (value === null || value === undefined || value === '') return true;
  if (Array.isArray(value)) return value.length === 0;
  return typeof value === 'object' && Object.keys(value).length === 0;
}

// Fields for machines, not people: the unit salt only serves to compute the unit's id.
const TECHNICAL = new Set(['/unitSalt']);

// Members whose values identify a person: shown masked, the holder taps to reveal.
const MASKED = new Set(['idNumber']);

// 3101**********0018: the first and last four characters of a long number, fewer of a short one.
function mask(text) {
  const s = String(text);
  const keep = s.length > 8 ? 4 : s.length > 4 ? 1 : 0;
  return `${s.slice(0, keep)}${'*'.repeat(s.length - 2 * keep)}${keep ? s.slice(-keep) : ''}`;
}

function maskedValue(value, label) {
  const box = document.createElement('span');
  box.className = 'masked';
  const shown = document.createElement('span');
  shown.className = 'secret';
  shown.textContent = mask(value);
  const button = document.createElement('button');
  button.type = 'button';
  button.className = 'reveal';
  button.setAttribute('aria-pressed', 'false');
  const relabel = () => {
    const open = button.getAttribute('aria-pressed') === 'true';
    button.textContent = open ? t('hide') : t('show');
    button.setAttribute('aria-label', open ? t('hideFull')(label) : t('showFull')(label));
  };
  button.addEventListener('click', () => {
    const open = button.getAttribute('aria-pressed') !== 'true';
    button.setAttribute('aria-pressed', String(open));
    shown.textContent = open ? String(value) : mask(value);
    relabel();
  });
  relabel();
  box.append(shown, ' ', button);
  return box;
}

// The schema node of a member's value, or null.
function memberNode(node, key) {
  return (node && node.properties && node.properties[key]) || null;
}

function memberLabel(node, key) {
  const title = titleOf(node);
  return title ? title[lang] : key;
}

// A value as the certificate would print it: an array of records as one card per record, with
// the schema's labels; a record as labelled lines; ID numbers masked; enumerated ID types and
// booleans in words.
function valueNode(node, key, value, label) {
  if (Array.isArray(value)) {
    const items = node && node.items;
    if (value.every((v) => v && typeof v === 'object' && !Array.isArray(v))) {
      const list = document.createElement('ol');
      list.className = 'entries';
      const itemTitle = titleOf(items);
      value.forEach((entry, i) => {
        const li = document.createElement('li');
        if (value.length > 1 && itemTitle) {
          const head = document.createElement('span');
          head.className = 'entry-title';
          head.textContent = `${itemTitle[lang]} ${i + 1}`;
          li.append(head);
        }
        li.append(recordNode(items, entry));
        list.append(li);
      });
      return list;
    }
    return document.createTextNode(value.filter((v) => !isEmpty(v)).map((v) => scalarText(key, v)).join(t('listSep')));
  }
  if (value && typeof value === 'object') return recordNode(node, value);
  if (MASKED.has(key) && typeof value === 'string') return maskedValue(value, label);
  return document.createTextNode(scalarText(key, value));
}

function scalarText(key, value) {
  if (key === 'idType' && TEXT[lang].idTypes[value]) return TEXT[lang].idTypes[value];
  if (typeof value === 'boolean') return value ? t('yes') : t('no');
  return show(value);
}

// A record's members in the schema's order (others after), empty ones left out.
function recordNode(node, value) {
  const dl = document.createElement('dl');
  dl.className = 'record';
  const known = Object.keys((node && node.properties) || {});
  const keys = [...known.filter((k) => k in value), ...Object.keys(value).filter((k) => !known.includes(k))];
  for (const key of keys) {
    if (isEmpty(value[key])) continue;
    const child = memberNode(node, key);
    const label = memberLabel(child, key);
    fieldRow(dl, label, child, key, value[key]);
  }
  return dl;
}

// A nullable date left null is open-ended (营业期限至 null: 长期), as the schemas describe it.
function isOpenDate(node) {
  const branches = (node && node.anyOf) || [];
  return branches.some((b) => b && b.format === 'date') && branches.some((b) => b && b.type === 'null');
}

function fieldRow(dl, label, node, key, value) {
  if (value === null && isOpenDate(node)) {
    value = t('none');
  }
  if (isEmpty(value)) return;
  const dt = document.createElement('dt');
  dt.textContent = label;
  const dd = document.createElement('dd');
  dd.append(valueNode(node, key, value, label));
  dl.append(dt, dd);
}

// The schema node at a data pointer (/registeredCapital/amount), or null.
function nodeAt(schema, pointer) {
  let node = schema;
  for (const part of pointer.split('/').slice(1).map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'))) {
    node = memberNode(node, part);
    if (!node) return null;
  }
  return node;
}

function lastKey(pointer) {
  const parts = pointer.split('/');
  return parts[parts.length - 1].replace(/~1/g, '/').replace(/~0/g, '~');
}

// A status change's reason code in words (GET /v1/messages), or its number.
function reasonWords(code) {
  const words = last.table.reasons && last.table.reasons[String(code)];
  if (!words) return t('reasonCode')(code);
  return lang === 'zh' ? words.message_zh : words.message;
}

// 0x1a2b3c…9f0e: enough to compare by eye, short enough for a phone.
function abbreviate(hex) {
  return typeof hex === 'string' && hex.length > 14 ? `${hex.slice(0, 8)}…${hex.slice(-4)}` : show(hex);
}

function percent(basisPoints) {
  return `${(basisPoints / 100).toFixed(2).replace(/\.?0+$/, '')}%`;
}

function item(list, text, data) {
  const li = document.createElement('li');
  li.textContent = text;
  for (const [key, value] of Object.entries(data || {})) li.dataset[key] = value;
  list.append(li);
}

function deptName(ref) {
  return ref && ref.name ? ref.name : t('unknownDept');
}

// The PROPERTY_STATUS fragment of a property certificate: current, superseded, frozen or not registered.
function renderProperty(v) {
  const box = $('property');
  const f = v.fragments.find((x) => x.name === 'PROPERTY_STATUS');
  if (!f || f.status === 'SKIPPED') { box.hidden = true; return; }
  box.hidden = false;
  box.dataset.code = f.code;
  const d = f.details || {};
  const status = $('property-status');
  status.className = `property-status ${{
    CURRENT: 'current', SUPERSEDED: 'superseded', FROZEN: 'frozen', NOT_REGISTERED: 'unregistered',
    CORRECTED: 'corrected', UNIT_MISMATCH: 'mismatch',
  }[f.code] || 'unknown'}`;
  status.textContent = TEXT[lang].propertyStates[f.code] || (lang === 'zh' ? f.message_zh : f.message);
  const title = $('property-title');
  title.replaceChildren();
  if (d.unit) row(title, t('unit'), abbreviate(d.unit));
  if (d.registeredUnit) row(title, t('registeredUnit'), abbreviate(d.registeredUnit));
  if (f.code === 'SUPERSEDED' || f.code === 'CORRECTED') {
    if (d.supersededBy) row(title, t('supersededBy'), abbreviate(d.supersededBy));
    if (d.supersededAt) row(title, t(d.supersededBy ? 'supersededAt' : 'endedAt'), d.supersededAt);
  } else if (d.since) {
    row(title, t('since'), d.since);
  }
  if (d.caseId !== undefined && d.caseId !== null) {
    row(title, t(f.code === 'CORRECTED' ? 'correctionCase' : 'caseId'), d.caseId);
  }
  const owners = $('property-owners');
  owners.replaceChildren();
  (d.owners || []).forEach((o, i) => item(
    owners, `${t('owner')(i + 1)} · ${abbreviate(o.commitment)} · ${percent(o.shareBasisPoints)}`,
    { share: o.shareBasisPoints },
  ));
  $('property-owners-box').hidden = !(d.owners && d.owners.length);
  const mortgages = $('property-mortgages');
  mortgages.replaceChildren();
  for (const m of d.mortgages || []) {
    item(mortgages, `${deptName(m.bank)} · ${t('mortgageSince')} ${m.since}`, { id: m.id });
  }
  $('property-mortgages-box').hidden = !(d.mortgages && d.mortgages.length);
  const seizures = $('property-seizures');
  seizures.replaceChildren();
  for (const z of d.seizures || []) {
    item(seizures, `${deptName(z.court)} · ${t('seizureSince')} ${z.since}`, { id: z.id });
  }
  $('property-seizures-box').hidden = !(d.seizures && d.seizures.length);
}

// The MORTGAGE_STATUS fragment of a mortgage certificate: active, released or not registered.
function renderMortgage(v) {
  const box = $('mortgage');
  const f = v.fragments.find((x) => x.name === 'MORTGAGE_STATUS');
  if (!f || f.status === 'SKIPPED') { box.hidden = true; return; }
  box.hidden = false;
  box.dataset.code = f.code;
  const d = f.details || {};
  const status = $('mortgage-status');
  status.className = `property-status ${{
    ACTIVE: 'current', RELEASED: 'released', NOT_REGISTERED: 'unregistered', UNIT_MISMATCH: 'mismatch',
  }[f.code] || 'unknown'}`;
  status.textContent = TEXT[lang].mortgageStates[f.code] || (lang === 'zh' ? f.message_zh : f.message);
  const record = $('mortgage-record');
  record.replaceChildren();
  if (d.unit) row(record, t('unit'), abbreviate(d.unit));
  if (d.registeredUnit) row(record, t('registeredUnit'), abbreviate(d.registeredUnit));
  if (d.bank) row(record, t('mortgagee'), deptName(d.bank));
  if (d.mortgageId !== undefined && d.mortgageId !== null) row(record, t('mortgageId'), d.mortgageId);
  if (d.since) row(record, t('mortgageAt'), d.since);
  if (d.releasedAt) row(record, t('releasedAt'), d.releasedAt);
}

function banner(kind, headline, reason) {
  const box = $('result');
  box.className = `result ${kind}`;
  box.dataset.verdict = kind.toUpperCase();
  box.querySelector('.icon').textContent = { valid: '✓', invalid: '✕', error: '?', pending: '…' }[kind];
  $('headline').textContent = headline;
  $('reason').textContent = reason || '';
}

// Every check and its outcome, shown even when the document cannot be trusted (a tampered
// document shows which check failed, and no field of it).
function renderChecks(v) {
  const checks = $('checks');
  checks.replaceChildren();
  for (const f of v.fragments) {
    const li = document.createElement('li');
    li.className = f.status === 'VALID' ? 'ok' : f.status === 'INVALID' ? 'bad' : 'unknown';
    li.dataset.fragment = f.name;
    li.dataset.code = f.code;
    const mark = f.status === 'VALID' ? '✓' : f.status === 'INVALID' ? '✕' : '·';
    const name = TEXT[lang].checkNames[f.name] || f.name;
    li.textContent = `${mark} ${name}${t('colon')}${lang === 'zh' ? f.message_zh : f.message}`;
    checks.append(li);
  }
  $('checks-box').hidden = !v.fragments.length;
}

function render() {
  document.documentElement.lang = lang === 'zh' ? 'zh-CN' : 'en';
  for (const el of document.querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n);
  $('lang').textContent = t('lang');
  $('lang').lang = lang === 'zh' ? 'en' : 'zh-CN'; // the button names the other language, in it
  if (!last) return;
  if (last.messageKey) {
    // A code that cannot be read is not an outage: say so, rather than "try later".
    const headline = last.messageKey === 'noKey' ? t('unreadable') : t(last.kind);
    banner(last.kind, headline, t(last.messageKey));
    $('status-note').hidden = true;
    $('details').hidden = true;
    $('checks-box').hidden = true;
    return;
  }
  const v = last.verdict;
  const kind = v.verdict.toLowerCase();
  const failed = v.fragments.find((f) => f.status === v.verdict && f.code !== 'OK');
  const reason = failed ? (lang === 'zh' ? failed.message_zh : failed.message) : (lang === 'zh' ? v.message_zh : v.message);
  banner(kind, t(kind), reason);
  const statusNote = $('status-note');
  const st = v.status;
  const changed = st && st.state && st.state !== 'ACTIVE' && st.reason !== null && st.reason !== undefined;
  statusNote.hidden = !changed;
  statusNote.textContent = changed ? `${t('reason')}${t('colon')}${reasonWords(st.reason)}${st.changedAt ? ` · ${st.changedAt}` : ''}` : '';
  renderChecks(v);
  if (!v.document) { $('details').hidden = true; return; }
  $('details').hidden = false;
  const fields = $('fields');
  fields.replaceChildren();
  const typeTitle = splitTitle(last.schema && last.schema.title);
  row(fields, t('type'), typeTitle ? typeTitle[lang] : v.document.type);
  const order = last.schema ? schemaOrder(last.schema) : new Map();
  const rank = (pointer) => (order.has(pointer) ? order.get(pointer) : order.size);
  const disclosed = Object.entries(v.document.disclosed).sort(([a], [b]) => rank(a) - rank(b));
  for (const [pointer, value] of disclosed) {
    if (TECHNICAL.has(pointer)) continue;
    const label = last.schema ? labelFor(last.schema, pointer) : pointer;
    fieldRow(fields, label, last.schema ? nodeAt(last.schema, pointer) : null, lastKey(pointer), value);
  }
  row(fields, t('validFrom'), v.document.validFrom);
  row(fields, t('validUntil'), v.document.validUntil || t('none'));
  const note = $('hidden-note');
  note.hidden = !v.document.hiddenFields;
  note.textContent = v.document.hiddenFields ? t('hidden')(v.document.hiddenFields) : '';
  renderProperty(v);
  renderMortgage(v);
  const issuer = $('issuer');
  issuer.replaceChildren();
  row(issuer, t('department'), v.issuer && v.issuer.name ? v.issuer.name : v.issuer && v.issuer.department);
  if (v.issuer && v.issuer.creditCode) row(issuer, t('creditCode'), v.issuer.creditCode);
  const record = $('record');
  record.replaceChildren();
  if (v.anchor && v.anchor.anchoredAt) row(record, t('anchoredAt'), v.anchor.anchoredAt);
  if (v.status) {
    row(record, t('state'), TEXT[lang].states[v.status.state] || v.status.state);
    const changed = v.status.state && v.status.state !== 'ACTIVE';
    if (changed && v.status.reason !== null && v.status.reason !== undefined) {
      row(record, t('reason'), reasonWords(v.status.reason));
    }
    if (v.status.changedAt) row(record, t('changedAt'), v.status.changedAt);
    if (v.status.successor) row(record, t('successor'), v.status.successor);
  }
  if (v.anchor && v.anchor.transaction) row(record, t('transaction'), v.anchor.transaction);
}

function fail(kind, messageKey) {
  last = { kind, messageKey };
  render();
}

// ----------------------------------------------------------------- the verdict, in two halves
// The page checks what the document itself can prove (the stored copy's CID, decryption, the
// ereg/1 integrity rules in ereg.js) and asks the verifier only what the chain knows, with
// POST /v1/status: version, type, issuer, validity, Merkle root, target hash and, for an
// ereg/1-sm document, its SM2 signature over the root; no field value. The two halves make one
// verdict with the codes, messages and rule of POST /v1/verify.
const FRAGMENT_ORDER = ['DOCUMENT_INTEGRITY', 'DOCUMENT_STATUS', 'ISSUER_IDENTITY', 'PROPERTY_STATUS', 'MORTGAGE_STATUS', 'STORAGE'];
const UNIT_FRAGMENTS = new Set(['PROPERTY_STATUS', 'MORTGAGE_STATUS']);
// DOCUMENT_INTEGRITY's words for a document that is not of its envelope's suite (FORMAT.md §14)
const SUITE_MISMATCH = { en: 'Document suite does not match its envelope.', zh: '文书算法套件与密文封装不一致。' };

function fragmentOf(table, name, status, code, details) {
  const special = (table.fragmentCodes[name] || {})[code];
  const words = special || table.codes[code] || { message: code, message_zh: code };
  return { name, status, code, message: words.message, message_zh: words.message_zh, details: details || null };
}

function overall(fragments) {
  const statuses = new Set(fragments.map((f) => f.status));
  if (statuses.has('INVALID')) return 'INVALID';
  if (statuses.has('ERROR')) return 'ERROR';
  return 'VALID';
}

function verdictOf(table, fragments, rest) {
  fragments.sort((a, b) => FRAGMENT_ORDER.indexOf(a.name) - FRAGMENT_ORDER.indexOf(b.name));
  const verdict = overall(fragments);
  const words = table.verdicts[verdict];
  return { verdict, message: words.message, message_zh: words.message_zh, fragments, ...rest };
}

// The unit the certificate names, as the chain keys it (chain/property.py unit_id: keccak256 of
// the unit salt and number), compared here: neither leaves the page. With either hidden the
// chain's answer stands as it is.
function withUnitChecked(table, fragment, data) {
  const unit = Ereg.unitOf(data);
  const registered = fragment.details && fragment.details.unit;
  if (!UNIT_FRAGMENTS.has(fragment.name) || !unit || !registered || unit === registered) return fragment;
  return fragmentOf(table, fragment.name, 'INVALID', 'UNIT_MISMATCH', { unit, registeredUnit: registered });
}

async function getJson(url, options) {
  const res = await fetch(url, options);
  if (!res.ok) throw new Error(`HTTP ${res.status}`);
  return res.json();
}

async function main() {
  $('lang').addEventListener('click', () => { lang = lang === 'zh' ? 'en' : 'zh'; render(); });
  const cid = decodeURIComponent(location.pathname.split('/').pop() || '');
  const params = new URLSearchParams(location.hash.slice(1));
  const keyText = params.get('k');
  // Drop the key from the address bar and history once read.
  history.replaceState(null, '', location.pathname);
  if (!keyText) return fail('error', 'noKey');
  let key;
  let envelope; // the suite the key's length names: 'ereg/1' (32 bytes, AES) or 'ereg/1-sm' (16 bytes, SM4)
  try {
    key = b64urlDecode(keyText);
    envelope = Ereg.suiteOfKey(key);
  } catch (err) {
    return fail('error', 'noKey');
  }
  const tablePromise = getJson('/v1/messages', { cache: 'force-cache' });
  let blob;
  let table;
  try {
    const res = await fetch(`/v1/documents/${encodeURIComponent(cid)}`, { cache: 'force-cache' });
    if (res.status === 400) return fail('invalid', 'badCid');
    if (res.status === 404) return fail('error', 'notFound');
    if (!res.ok) return fail('error', 'network');
    blob = new Uint8Array(await res.arrayBuffer());
    table = await tablePromise;
  } catch (err) {
    return fail('error', 'network');
  }
  const base = { cid, chainId: null, checkedAt: new Date().toISOString().replace(/\.\d+Z$/, 'Z') };
  // STORAGE: these bytes are the CID's (the server checked them too; a mismatch is its fault).
  if (!(await Ereg.checkCid(cid, blob))) {
    const fragments = [fragmentOf(table, 'DOCUMENT_INTEGRITY', 'SKIPPED', 'SKIPPED'), fragmentOf(table, 'STORAGE', 'ERROR', 'IPFS_BAD_CONTENT')];
    return present(table, verdictOf(table, fragments, base), null);
  }
  const storage = fragmentOf(table, 'STORAGE', 'VALID', 'OK');
  let plain;
  try {
    plain = await Ereg.openEnvelope(key, blob);
  } catch (err) {
    // a key or ciphertext that does not open is the document's verdict; anything else (no
    // WebCrypto on this page) is this browser's problem, not the document's
    if (!(err instanceof Ereg.EregError)) return fail('error', 'noCrypto');
    const fragments = [fragmentOf(table, 'DOCUMENT_INTEGRITY', 'INVALID', 'UNDECRYPTABLE'), storage];
    return present(table, verdictOf(table, fragments, base), null);
  }
  // the bytes themselves, not a decoded string: a byte-order mark or invalid UTF-8 is MALFORMED,
  // as the server says (a TextDecoder would drop the one and hide the other)
  let doc = null;
  try {
    doc = Ereg.parseDocument(plain);
  } catch (err) {
    doc = null; // MALFORMED: checkIntegrity says where
  }
  // the document's own faults first, then its suite against the envelope's (MALFORMED at /version)
  const result = Ereg.checkIntegrity(doc || plain, envelope);
  if (result.code !== 'OK') {
    // as a window's check of the QR code: the chain checks skipped, nothing of the document shown
    const details = result.pointer ? { pointer: result.pointer } : null;
    const integrity = fragmentOf(table, 'DOCUMENT_INTEGRITY', 'INVALID', result.code, details);
    if (result.code === 'MALFORMED' && result.pointer === '/version' && doc && Ereg.SUITES.includes(doc.version)) {
      // a valid version that is not the envelope's: say so, the generic words would not tell why
      Object.assign(integrity, { message: SUITE_MISMATCH.en, message_zh: SUITE_MISMATCH.zh });
    }
    const fragments = [integrity];
    if (result.code !== 'MALFORMED') {
      fragments.push(fragmentOf(table, 'DOCUMENT_STATUS', 'SKIPPED', 'SKIPPED'), fragmentOf(table, 'ISSUER_IDENTITY', 'SKIPPED', 'SKIPPED'));
    }
    return present(table, verdictOf(table, fragments, base), null);
  }
  let chain;
  try {
    chain = await getJson('/v1/status', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        version: doc.version,
        type: doc.type,
        issuer: doc.issuer,
        validity: doc.validity,
        merkleRoot: doc.proof.merkleRoot,
        targetHash: doc.proof.targetHash,
        // the department's SM2 signature over the root: the verifier checks it against the chain
        ...(doc.version === Ereg.SM_VERSION ? { signature: doc.proof.signature } : {}),
      }),
    });
  } catch (err) {
    return fail('error', 'network');
  }
  const fragments = [
    fragmentOf(table, 'DOCUMENT_INTEGRITY', 'VALID', 'OK'),
    ...chain.fragments.map((f) => withUnitChecked(table, f, doc.data)),
    storage,
  ];
  const disclosed = {};
  for (const { pointer, value } of Ereg.fields(doc.data)) disclosed[pointer] = value;
  const verdict = verdictOf(table, fragments, {
    ...base,
    chainId: chain.chainId,
    checkedAt: chain.checkedAt,
    document: {
      type: doc.type,
      targetHash: doc.proof.targetHash,
      validFrom: doc.validity.validFrom,
      validUntil: doc.validity.validUntil,
      disclosed,
      hiddenFields: doc.privacy.obfuscated.length,
    },
    issuer: chain.issuer,
    anchor: chain.anchor,
    status: chain.status,
  });
  let schema = null;
  try {
    const res = await fetch(`/v1/types/${encodeURIComponent(doc.type)}`);
    if (res.ok) schema = await res.json();
  } catch (err) {
    schema = null;
  }
  return present(table, verdict, schema);
}

function present(table, verdict, schema) {
  last = { verdict, schema, table };
  render();
}

document.addEventListener('DOMContentLoaded', () => { render(); main(); });
