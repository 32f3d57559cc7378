// ereg/1 integrity rules in the browser (docs/FORMAT.md), so a citizen's page can check a document
// without sending any field value anywhere. One classic script, no imports (CSP script-src 'self'):
// a global `Ereg` in a page, module.exports in Node. The Python package documents/ is the reference;
// tests/verifier/test_ereg_js.py compares both on the same inputs.
//
// Two suites, named by the document's `version` (FORMAT.md §14): ereg/1 hashes with Keccak-256 (here)
// and seals with AES-256-GCM (WebCrypto); ereg/1-sm hashes with SM3 and seals with SM4-GCM, which
// WebCrypto lacks: they come from vendor/sm-crypto.js (the global SmCrypto, loaded by the page
// before this script; in Node required from beside this file), asked for only by that suite.
// tests/verifier/test_ereg_js_sm.py checks that suite against the Python reference.
(function (root, factory) {
  'use strict';
  const api = factory();
  if (typeof module === 'object' && module && module.exports) module.exports = api;
  else root.Ereg = api;
}(typeof globalThis !== 'undefined' ? globalThis : this, function () {
  'use strict';

  const VERSION = 'ereg/1';
  const SM_VERSION = 'ereg/1-sm';
  const SUITES = Object.freeze([VERSION, SM_VERSION]); // the versions a document may have
  const METADATA_POINTERS = ['/@type', '/@validity', '/@issuer'];
  const MAX_DEPTH = 32; // data nesting (§2)
  const MAX_JSON_DEPTH = 64; // JSON text nesting, as the Python reader
  const MAX_DOCUMENT_CHARS = 8 * 1024 * 1024;
  const MAX_INT_DIGITS = 4300; // Python's int() refuses longer integer literals
  const MAX_PROOF_LENGTH = 64;
  const SAFE_MAX = Number.MAX_SAFE_INTEGER;
  const LONE_SURROGATE = /\p{Cs}/u; // with the u flag only unpaired surrogates match

  // ------------------------------------------------------------------ errors and small helpers
  /** An input the format refuses: code (MALFORMED, NOT_CANONICALIZABLE, BAD_KEY, ...) and a JSON Pointer. */
  class EregError extends Error {
    constructor(code, pointer, message, messageZh) {
      super(pointer ? `${pointer}: ${message}` : message);
      this.name = 'EregError';
      this.code = code;
      this.pointer = pointer;
      this.reason = message;
      this.messageZh = pointer ? `${pointer}：${messageZh}` : messageZh;
    }
  }
  const malformed = (pointer, en, zh) => new EregError('MALFORMED', pointer, en, zh);
  const notCanonical = (pointer, en, zh) => new EregError('NOT_CANONICALIZABLE', pointer, en, zh);

  const has = (obj, key) => Object.prototype.hasOwnProperty.call(obj, key);
  function isPlainObject(v) {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return false;
    const proto = Object.getPrototypeOf(v);
    return proto === Object.prototype || proto === null;
  }

  /** Python's string order (code points), which the reference uses to pick the first error. */
  function byCodePoint(a, b) {
    for (let i = 0; i < a.length && i < b.length;) {
      const x = a.codePointAt(i), y = b.codePointAt(i);
      if (x !== y) return x - y;
      i += x > 0xffff ? 2 : 1;
    }
    return a.length - b.length;
  }

  const ENCODER = new TextEncoder();
  const utf8 = (s) => ENCODER.encode(s);

  function toHex(bytes) {
    let out = '';
    for (let i = 0; i < bytes.length; i++) out += (bytes[i] < 16 ? '0' : '') + bytes[i].toString(16);
    return out;
  }
  /** Bytes of a hex string (an optional 0x, any case); throws on anything else. */
  function fromHex(hex) {
    const digits = hex.startsWith('0x') ? hex.slice(2) : hex;
    if (digits.length % 2 || !/^[0-9a-fA-F]*$/.test(digits)) throw new TypeError('not a hex string');
    const out = new Uint8Array(digits.length / 2);
    for (let i = 0; i < out.length; i++) out[i] = parseInt(digits.substr(2 * i, 2), 16);
    return out;
  }
  const hex32 = (bytes) => `0x${toHex(bytes)}`;
  function concat(...parts) {
    const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of parts) { out.set(p, at); at += p.length; }
    return out;
  }
  function compareBytes(a, b) {
    for (let i = 0; i < a.length && i < b.length; i++) if (a[i] !== b[i]) return a[i] - b[i];
    return a.length - b.length;
  }

  // ------------------------------------------------------------------ Keccak-256 (original, pad 0x01)
  // Keccak-f[1600] on 25 lanes held as (low, high) 32-bit words. Rotation offsets, lane
  // permutation and round constants are derived as in the Keccak team's compact reference.
  const ROT = new Uint8Array(25), PI = new Uint8Array(25), RC = new Uint32Array(48);
  (function () {
    for (let t = 0, x = 1, y = 0; t < 24; t++) {
      ROT[x + 5 * y] = ((t + 1) * (t + 2) / 2) % 64;
      [x, y] = [y, (2 * x + 3 * y) % 5];
    }
    for (let x = 0; x < 5; x++) for (let y = 0; y < 5; y++) PI[x + 5 * y] = y + 5 * ((2 * x + 3 * y) % 5);
    for (let r = 0, lfsr = 1; r < 24; r++) {
      for (let j = 0; j < 7; j++) {
        lfsr = ((lfsr << 1) ^ ((lfsr >> 7) * 0x71)) & 0xff;
        const bit = (1 << j) - 1;
        if (lfsr & 2) RC[2 * r + (bit >= 32 ? 1 : 0)] ^= 1 << (bit % 32);
      }
    }
  }());

  function keccakF(s, b, c) {
    for (let r = 0; r < 24; r++) {
      for (let w = 0; w < 10; w++) c[w] = s[w] ^ s[w + 10] ^ s[w + 20] ^ s[w + 30] ^ s[w + 40];
      for (let x = 0; x < 5; x++) { // theta
        const n = 2 * ((x + 1) % 5), p = 2 * ((x + 4) % 5);
        const lo = c[p] ^ ((c[n] << 1) | (c[n + 1] >>> 31));
        const hi = c[p + 1] ^ ((c[n + 1] << 1) | (c[n] >>> 31));
        for (let y = 0; y < 50; y += 10) { s[y + 2 * x] ^= lo; s[y + 2 * x + 1] ^= hi; }
      }
      for (let i = 0; i < 25; i++) { // rho and pi
        const lo = s[2 * i], hi = s[2 * i + 1], d = 2 * PI[i];
        let k = ROT[i];
        let a = lo, h = hi;
        if (k >= 32) { a = hi; h = lo; k -= 32; }
        b[d] = k ? (a << k) | (h >>> (32 - k)) : a;
        b[d + 1] = k ? (h << k) | (a >>> (32 - k)) : h;
      }
      for (let y = 0; y < 50; y += 10) { // chi
        for (let x = 0; x < 5; x++) {
          const i = y + 2 * x, i1 = y + 2 * ((x + 1) % 5), i2 = y + 2 * ((x + 2) % 5);
          s[i] = b[i] ^ (~b[i1] & b[i2]);
          s[i + 1] = b[i + 1] ^ (~b[i1 + 1] & b[i2 + 1]);
        }
      }
      s[0] ^= RC[2 * r]; s[1] ^= RC[2 * r + 1]; // iota
    }
  }

  const RATE = 136;
  /** Keccak-256 (Ethereum's keccak256, not SHA3-256) of a Uint8Array. */
  function keccak256(data) {
    const s = new Uint32Array(50), b = new Uint32Array(50), c = new Uint32Array(10);
    const absorb = (block, off) => {
      for (let w = 0; w < RATE / 4; w++) {
        const p = off + 4 * w;
        s[w] ^= block[p] | (block[p + 1] << 8) | (block[p + 2] << 16) | (block[p + 3] << 24);
      }
      keccakF(s, b, c);
    };
    let off = 0;
    for (; data.length - off >= RATE; off += RATE) absorb(data, off);
    const last = new Uint8Array(RATE);
    last.set(data.subarray(off));
    last[data.length - off] = 0x01;
    last[RATE - 1] |= 0x80;
    absorb(last, 0);
    const out = new Uint8Array(32);
    for (let i = 0; i < 32; i++) out[i] = s[i >> 2] >>> (8 * (i & 3));
    return out;
  }

  // ------------------------------------------------------------------ SM3 and SM4 (vendor/sm-crypto.js)
  // Looked up when first needed, so that ereg/1 pages and tests never depend on the file. Missing,
  // it is the page's problem (the script did not load), never a verdict on a document: a plain Error.
  let SM = null;
  function smCrypto() {
    if (SM) return SM;
    const found = globalThis.SmCrypto
      || (typeof module === 'object' && module && module.exports && typeof require === 'function'
        ? require('./vendor/sm-crypto.js') : null);
    if (!found || typeof found.sm3 !== 'function' || !found.sm4 || typeof found.sm4.decrypt !== 'function') {
      throw new Error('SM3/SM4 are not available: /static/vendor/sm-crypto.js is not loaded');
    }
    SM = found;
    return SM;
  }
  /** SM3 (GB/T 32905) of a Uint8Array: 32 bytes. */
  function sm3(data) {
    if (!(data instanceof Uint8Array)) throw new TypeError('sm3 takes a Uint8Array');
    return fromHex(smCrypto().sm3(data));
  }

  // ------------------------------------------------------------------ canonical JSON (RFC 8785, §1)
  const escapeToken = (key) => key.replace(/~/g, '~0').replace(/\//g, '~1');

  // First pass, in insertion order like the reference: types and numbers. A BigInt stands for
  // a Python int (refused outside the safe range); a Number is a double, as parsed JSON is.
  function scanValue(v, pointer) {
    if (v === null || typeof v === 'boolean' || typeof v === 'string') return;
    if (typeof v === 'number') {
      if (!Number.isFinite(v)) {
        throw notCanonical(pointer, `${v} is not representable in JSON (NaN and infinities are forbidden)`,
          `${v} 无法用 JSON 表示（禁止 NaN 与无穷大）`);
      }
      return;
    }
    if (typeof v === 'bigint') {
      if (v > BigInt(SAFE_MAX) || v < -BigInt(SAFE_MAX)) {
        throw notCanonical(pointer, `integer ${v} is outside the IEEE-754 safe range ±(2**53-1); encode it as a string`,
          `整数 ${v} 超出 IEEE-754 安全范围 ±(2**53-1)，请改用字符串表示`);
      }
      return;
    }
    if (Array.isArray(v)) { v.forEach((item, i) => scanValue(item, `${pointer}/${i}`)); return; }
    if (isPlainObject(v)) {
      for (const key of Object.keys(v)) scanValue(v[key], `${pointer}/${escapeToken(key)}`);
      return;
    }
    const kind = v === undefined ? 'undefined' : (v.constructor && v.constructor.name) || typeof v;
    throw notCanonical(pointer, `value of type ${kind} is not JSON`, `${kind} 类型的值不是 JSON`);
  }

  const LONE = {}; // thrown by write() on an unpaired surrogate, then located by findSurrogate()
  function writeString(s) {
    if (LONE_SURROGATE.test(s)) throw LONE;
    return JSON.stringify(s); // ECMAScript's escapes are exactly JCS's
  }
  function write(v) {
    if (v === null) return 'null';
    switch (typeof v) {
      case 'boolean': return v ? 'true' : 'false';
      case 'string': return writeString(v);
      case 'number': return String(v); // Number.prototype.toString; -0 gives "0"
      case 'bigint': return v.toString();
      default: break;
    }
    if (Array.isArray(v)) return `[${v.map(write).join(',')}]`;
    const keys = Object.keys(v).sort(); // UTF-16 code units
    return `{${keys.map((k) => `${writeString(k)}:${write(v[k])}`).join(',')}}`;
  }
  function findSurrogate(v, pointer) {
    if (typeof v === 'string') return LONE_SURROGATE.test(v) ? pointer : null;
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) {
        const found = findSurrogate(v[i], `${pointer}/${i}`);
        if (found !== null) return found;
      }
    } else if (v !== null && typeof v === 'object') {
      for (const key of Object.keys(v)) {
        const child = `${pointer}/${escapeToken(key)}`;
        if (LONE_SURROGATE.test(key)) return child;
        const found = findSurrogate(v[key], child);
        if (found !== null) return found;
      }
    }
    return null;
  }
  function jcs(value, pointer) {
    scanValue(value, pointer);
    try {
      return write(value);
    } catch (err) {
      if (err !== LONE) throw err;
      const where = findSurrogate(value, pointer);
      throw notCanonical(where === null ? pointer : where,
        'string contains an unpaired surrogate; JCS requires valid Unicode', '字符串含有未配对的代理码元，JCS 要求合法的 Unicode');
    }
  }
  /** RFC 8785 text of a JSON value; EregError NOT_CANONICALIZABLE (with a pointer) if it has none. */
  const canonicalize = (value) => jcs(value, '');

  // ------------------------------------------------------------------ fields, hashes, Merkle (§2, §4, §5)
  function walk(obj, prefix, depth, out) {
    if (depth > MAX_DEPTH) {
      throw malformed(prefix, `data nested deeper than ${MAX_DEPTH} levels`, `数据嵌套超过 ${MAX_DEPTH} 层`);
    }
    for (const key of Object.keys(obj)) {
      const pointer = `${prefix}/${escapeToken(key)}`, value = obj[key];
      if (isPlainObject(value) && Object.keys(value).length) walk(value, pointer, depth + 1, out);
      else out.push({ pointer, value });
    }
  }
  /** The fields of `data` as [{pointer, value}] in document order; EregError MALFORMED (pointer relative to data). */
  function fields(data) {
    if (!isPlainObject(data)) throw malformed('', 'data must be a JSON object', 'data 必须是 JSON 对象');
    for (const key of Object.keys(data)) {
      if (key.startsWith('@')) {
        throw malformed(`/${escapeToken(key)}`, "top-level data keys starting with '@' are reserved for metadata",
          "以 '@' 开头的顶层数据键保留给元数据使用");
      }
    }
    const out = [];
    walk(data, '', 1, out);
    return out;
  }

  // Every hash below is the suite's: `suite` is a document version, 'ereg/1' (Keccak-256, the
  // default) or 'ereg/1-sm' (SM3); any other is a TypeError.
  function hashOf(suite) {
    if (suite === VERSION) return keccak256;
    if (suite === SM_VERSION) return sm3;
    throw new TypeError(`unknown suite ${JSON.stringify(suite)}: 'ereg/1' or 'ereg/1-sm'`);
  }
  const hashField = (hash, salt, pointer, valueJcs) => hash(concat(salt, utf8(jcs(pointer, pointer)), utf8(valueJcs)));
  /** H(salt ‖ utf8(JCS(pointer)) ‖ utf8(JCS(value))); salt is 16 bytes. */
  function fieldHash(salt, pointer, value, suite = VERSION) {
    const hash = hashOf(suite);
    if (salt.length !== 16) throw new RangeError('salt must be 16 bytes');
    return hashField(hash, salt, pointer, jcs(value, pointer));
  }
  /** H of the 32-byte hashes sorted ascending as bytes. */
  const targetHash = (hashes, suite = VERSION) => hashOf(suite)(concat(...[...hashes].sort(compareBytes)));
  /** The document's Merkle leaf: H(0x00 ‖ targetHash). */
  const leafOf = (target, suite = VERSION) => hashOf(suite)(concat(new Uint8Array([0]), target));
  /** Fold a proof into a leaf like OpenZeppelin MerkleProof.processProof (sorted pairs). */
  function fold(leaf, proof, suite = VERSION) {
    const hash = hashOf(suite);
    let node = leaf;
    for (const sibling of proof) {
      node = hash(compareBytes(node, sibling) < 0 ? concat(node, sibling) : concat(sibling, node));
    }
    return node;
  }

  /** True if `address` is a 20-byte hex address in exact EIP-55 checksum form. */
  function isChecksumAddress(address) {
    if (typeof address !== 'string' || !/^0x[0-9a-fA-F]{40}$/.test(address)) return false;
    const lower = address.slice(2).toLowerCase();
    const digest = toHex(keccak256(utf8(lower)));
    let out = '0x';
    for (let i = 0; i < 40; i++) out += parseInt(digest[i], 16) >= 8 ? lower[i].toUpperCase() : lower[i];
    return out === address;
  }

  // ------------------------------------------------------------------ strict JSON reader
  // As documents/jsontext.py: UTF-8 without BOM, no NUL, no duplicate key, no NaN/Infinity, no lone
  // surrogate, nesting <= 64, <= 8 Mi characters; integer literals of more than 4300 digits refused.
  // Numbers Python reads as floats (a fraction, an exponent, or an integer outside the safe range)
  // are noted per object member: Python's strict int refuses `"chainId": 1337.0`, JSON.parse cannot tell.
  const FLOAT_FORM = new WeakMap(); // object -> Set of its keys holding such a number
  const WS = /[ \t\n\r]*/y;
  const NUMBER = /-?(?:0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?/y;
  const STRING_RUN = /[^"\\\u0000-\u001f]*/y;
  const ESCAPES = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };

  function documentText(input) {
    let text = input;
    if (input instanceof Uint8Array) {
      const b = input;
      if ((b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf) || (b[0] === 0xfe && b[1] === 0xff)
          || (b[0] === 0xff && b[1] === 0xfe) || (b[0] === 0 && b[1] === 0 && b[2] === 0xfe && b[3] === 0xff)) {
        throw malformed('', 'a byte order mark is not allowed: UTF-8 without BOM only', '不允许字节顺序标记：仅接受无 BOM 的 UTF-8');
      }
      if (b.length > MAX_DOCUMENT_CHARS) throw malformed('', 'document too large', '文书过大');
      try {
        text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(b);
      } catch (err) {
        throw malformed('', 'not UTF-8 text', '不是 UTF-8 文本');
      }
    } else if (typeof input !== 'string') {
      throw new TypeError('parseDocument takes a string or a Uint8Array');
    } else {
      if (text.length > MAX_DOCUMENT_CHARS && [...text].length > MAX_DOCUMENT_CHARS) {
        throw malformed('', 'document too large', '文书过大');
      }
      if (text.startsWith('\ufeff')) {
        throw malformed('', 'a byte order mark is not allowed: UTF-8 without BOM only', '不允许字节顺序标记：仅接受无 BOM 的 UTF-8');
      }
      if (LONE_SURROGATE.test(text)) throw malformed('', 'not UTF-8 text (a lone surrogate)', '不是 UTF-8 文本（含未配对的代理项）');
    }
    if (text.includes('\u0000')) throw malformed('', 'a NUL character: only UTF-8 is accepted', '含 NUL 字符：仅接受 UTF-8');
    return text;
  }

  /** Parse JSON text (string or UTF-8 bytes) as strictly as the Python reader; EregError MALFORMED (pointer ''). */
  function parseDocument(input) {
    const text = documentText(input);
    let i = 0;
    let floatForm = false; // set by number(): the last number read is a float for Python
    const fail = (en, zh) => malformed('', `invalid JSON at character ${i}: ${en}`, `JSON 语法错误（第 ${i} 个字符）：${zh}`);
    const ws = () => { WS.lastIndex = i; WS.test(text); i = WS.lastIndex; };

    function string() {
      i++; // the opening quote
      let out = '', escaped = false;
      for (;;) {
        STRING_RUN.lastIndex = i;
        STRING_RUN.test(text);
        out += text.slice(i, STRING_RUN.lastIndex);
        i = STRING_RUN.lastIndex;
        const ch = text[i];
        if (ch === '"') break;
        if (ch !== '\\') throw fail(ch === undefined ? 'unterminated string' : 'control character in a string', ch === undefined ? '字符串未结束' : '字符串中含控制字符');
        const e = text[i + 1];
        if (e === 'u' && /^[0-9a-fA-F]{4}$/.test(text.substr(i + 2, 4))) {
          out += String.fromCharCode(parseInt(text.substr(i + 2, 4), 16));
          escaped = true;
          i += 6;
        } else if (has(ESCAPES, e)) {
          out += ESCAPES[e];
          i += 2;
        } else {
          throw fail('invalid escape', '转义无效');
        }
      }
      i++;
      if (escaped && LONE_SURROGATE.test(out)) {
        throw malformed('', 'a lone surrogate escape (e.g. \\ud800): not a Unicode character', '含未配对的代理项转义（如 \\ud800）：不是 Unicode 字符');
      }
      return out;
    }
    function number() {
      NUMBER.lastIndex = i;
      const m = NUMBER.exec(text);
      if (!m) throw fail('expected a value', '此处应为值');
      const integer = m[1] === undefined && m[2] === undefined;
      if (integer && m[0].replace('-', '').length > MAX_INT_DIGITS) {
        throw malformed('', `invalid number: more than ${MAX_INT_DIGITS} digits`, `数值不合法：超过 ${MAX_INT_DIGITS} 位`);
      }
      i += m[0].length;
      const value = Number(m[0]);
      floatForm = !integer || !Number.isSafeInteger(value);
      return value;
    }
    function value(depth) {
      const ch = text[i];
      if (ch === '{' || ch === '[') {
        if (depth + 1 > MAX_JSON_DEPTH) throw malformed('', `JSON nested deeper than ${MAX_JSON_DEPTH} levels`, 'JSON 嵌套过深');
        return ch === '{' ? object(depth + 1) : array(depth + 1);
      }
      if (ch === '"') return string();
      if (ch === '-' || (ch >= '0' && ch <= '9')) return number();
      for (const [word, v] of [['true', true], ['false', false], ['null', null]]) {
        if (text.startsWith(word, i)) { i += word.length; return v; }
      }
      throw fail('expected a value', '此处应为值');
    }
    function object(depth) {
      const obj = {};
      i++;
      ws();
      if (text[i] === '}') { i++; return obj; }
      for (;;) {
        if (text[i] !== '"') throw fail('expected a key', '此处应为键');
        const key = string();
        ws();
        if (text[i] !== ':') throw fail("expected ':'", "此处应为 ':'");
        i++;
        ws();
        const v = value(depth);
        if (has(obj, key)) throw malformed('', `duplicate object key ${JSON.stringify(key)}`, `对象中存在重复的键 ${JSON.stringify(key)}`);
        Object.defineProperty(obj, key, { value: v, writable: true, enumerable: true, configurable: true });
        if (typeof v === 'number' && floatForm) {
          if (!FLOAT_FORM.has(obj)) FLOAT_FORM.set(obj, new Set());
          FLOAT_FORM.get(obj).add(key);
        }
        ws();
        if (text[i] === ',') { i++; ws(); continue; }
        if (text[i] === '}') { i++; return obj; }
        throw fail("expected ',' or '}'", "此处应为 ',' 或 '}'");
      }
    }
    function array(depth) {
      const arr = [];
      i++;
      ws();
      if (text[i] === ']') { i++; return arr; }
      for (;;) {
        arr.push(value(depth));
        ws();
        if (text[i] === ',') { i++; ws(); continue; }
        if (text[i] === ']') { i++; return arr; }
        throw fail("expected ',' or ']'", "此处应为 ',' 或 ']'");
      }
    }

    ws();
    const result = value(0);
    ws();
    if (i !== text.length) throw fail('extra data', '多余内容');
    return result;
  }

  // ------------------------------------------------------------------ the wrapped document (§7)
  // Mirrors the pydantic model of documents/model.py: every error is collected with its pointer
  // and the smallest pointer (code-point order) is reported; a model's own rule (validity order,
  // salts pointers, sorted obfuscated) runs only when its members passed.
  const HEX32 = /^0x[0-9a-f]{64}$/;
  const HEX64 = /^0x[0-9a-f]{128}$/;
  const SALT = /^[0-9a-f]{32}$/;
  const TYPE = /^[a-z0-9]+(-[a-z0-9]+)*$/;
  const CID_TEXT = /^b[a-z2-7]{10,200}$/;
  const TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})Z$/;

  function realTime(v) {
    const m = TIME.exec(v);
    if (!m) return false;
    const [y, mo, d, h, mi, s] = m.slice(1).map(Number);
    const leap = y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0);
    const days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][mo - 1];
    return y >= 1 && mo >= 1 && mo <= 12 && d >= 1 && d <= days && h <= 23 && mi <= 59 && s <= 59;
  }

  const rule = (test, en, zh) => (v, p, err, parent) => test(v, parent) || (err(p, en, zh), false);
  const pattern = (re, en, zh, max) => rule((v) => typeof v === 'string' && re.test(v) && !(max && v.length > max), en, zh);
  const nullable = (check) => (v, p, err, parent) => v === null || check(v, p, err, parent);
  /** A member that may be absent (pydantic's `= None`); present, `check` judges it. */
  const optional = (check) => Object.assign((v, p, err, parent) => check(v, p, err, parent), { optional: true });
  const hex32Rule = pattern(HEX32, 'must be 0x and 64 lowercase hex digits', '须为 0x 加 64 位小写十六进制');
  const hex64Rule = pattern(HEX64, 'must be 0x and 128 lowercase hex digits', '须为 0x 加 128 位小写十六进制');
  const timeRule = rule((v) => typeof v === 'string' && realTime(v),
    'must be RFC 3339 UTC with seconds precision, e.g. 2026-01-01T00:00:00Z', '须为 RFC 3339 UTC 时间（精确到秒），如 2026-01-01T00:00:00Z');

  function list(item, max, after) {
    return (v, p, err) => {
      if (!Array.isArray(v)) return err(p, 'must be an array', '须为数组'), false;
      if (max !== undefined && v.length > max) return err(p, `at most ${max} items`, `最多 ${max} 项`), false;
      let ok = true;
      v.forEach((x, i) => { ok = item(x, `${p}/${i}`, err) && ok; });
      return ok && (!after || after(v, p, err));
    };
  }
  function model(members, after) {
    return (v, p, err) => {
      if (!isPlainObject(v)) return err(p, 'must be an object', '须为对象'), false;
      let ok = true;
      for (const name of Object.keys(members)) {
        if (has(v, name)) ok = members[name](v[name], `${p}/${name}`, err, v) && ok;
        else if (!members[name].optional) { err(`${p}/${name}`, 'field required', '缺少必需字段'); ok = false; }
      }
      for (const key of Object.keys(v)) {
        if (!has(members, key)) { err(`${p}/${escapeToken(key)}`, 'extra member not permitted', '不允许的多余成员'); ok = false; }
      }
      return ok && (!after || after(v, p, err));
    };
  }

  function validPointer(pointer) {
    if (!pointer.startsWith('/')) return false;
    return pointer.slice(1).split('/').every((t) => !t.replace(/~0/g, '').replace(/~1/g, '').includes('~'));
  }
  function saltsRule(v, p, err) {
    if (!isPlainObject(v)) return err(p, 'must be an object', '须为对象'), false;
    let ok = true;
    for (const key of Object.keys(v)) {
      if (typeof v[key] !== 'string' || !SALT.test(v[key])) {
        err(`${p}/${escapeToken(key)}`, 'must be 32 lowercase hex digits', '须为 32 位小写十六进制');
        ok = false;
      }
    }
    if (!ok) return false;
    for (const key of Object.keys(v)) {
      if (key === '') return err(p, 'the empty pointer is not a field', '空指针不是字段'), false;
      if (!validPointer(key)) return err(p, `salt key ${JSON.stringify(key)} is not a JSON Pointer`, `盐值的键 ${JSON.stringify(key)} 不是 JSON Pointer`), false;
    }
    const missing = METADATA_POINTERS.filter((m) => !has(v, m));
    return !missing.length || (err(p, `missing metadata salt(s) ${missing.join(', ')}`, `缺少元数据盐值 ${missing.join('、')}`), false);
  }

  const DOCUMENT = model({
    version: rule((v) => SUITES.includes(v), "must be 'ereg/1' or 'ereg/1-sm'", "须为 'ereg/1' 或 'ereg/1-sm'"),
    type: pattern(TYPE, 'must be lowercase words joined by -, at most 64 characters', '须为以 - 连接的小写单词，至多 64 字符', 64),
    data: rule(isPlainObject, 'must be an object', '须为对象'),
    salts: saltsRule,
    privacy: model({
      obfuscated: list(hex32Rule, undefined, (v, p, err) => v.every((h, i) => i === 0 || v[i - 1] < h)
        || (err(p, 'must be sorted ascending without duplicates', '须升序排列且不重复'), false)),
    }),
    issuer: model({
      department: hex32Rule,
      chainId: rule((v, issuer) => typeof v === 'number' && Number.isInteger(v) && v >= 1 && v <= SAFE_MAX
        && !(FLOAT_FORM.has(issuer) && FLOAT_FORM.get(issuer).has('chainId')),
      'must be an integer 1 ... 2**53-1', '须为 1 至 2**53-1 的整数'),
      registry: rule(isChecksumAddress, 'must be a 20-byte address in EIP-55 checksum form', '须为 EIP-55 校验格式的 20 字节地址'),
    }),
    validity: model({ validFrom: timeRule, validUntil: nullable(timeRule) }, (v, p, err) => v.validUntil === null
      || v.validUntil >= v.validFrom || (err(p, 'validUntil is before validFrom', 'validUntil 早于 validFrom'), false)),
    proof: model({
      targetHash: hex32Rule,
      merkleRoot: hex32Rule,
      proof: list(hex32Rule, MAX_PROOF_LENGTH),
      anchorTx: nullable(hex32Rule),
      cid: nullable(pattern(CID_TEXT, 'must be a base32 CIDv1', '须为 base32 CIDv1')),
      // the department's SM2 signature over the batch root; which suite may carry it is suiteError's
      signature: optional(nullable(model({
        alg: rule((v) => v === 'SM2', "must be 'SM2'", "须为 'SM2'"),
        key: hex64Rule,
        value: hex64Rule,
      }))),
    }),
  });

  /** After the shape: proof.signature in every ereg/1-sm document and in no ereg/1 one (as documents/model.py). */
  function suiteError(doc) {
    const signature = has(doc.proof, 'signature') ? doc.proof.signature : undefined;
    if (doc.version === SM_VERSION && !signature) {
      return malformed('/proof/signature', "an ereg/1-sm document carries the department's SM2 signature over its root",
        'ereg/1-sm 文书须带有签发部门对批次根的 SM2 签名');
    }
    if (doc.version === VERSION && signature !== undefined) {
      return malformed('/proof/signature', 'proof.signature belongs to ereg/1-sm documents only', 'proof.signature 仅用于 ereg/1-sm 文书');
    }
    return null;
  }

  function shapeError(doc) {
    if (!isPlainObject(doc)) return malformed('', 'a document must be a JSON object', '文书必须是 JSON 对象');
    const errors = [];
    DOCUMENT(doc, '', (pointer, en, zh) => errors.push(malformed(pointer, en, `结构不合法：${zh}`)));
    errors.sort((a, b) => byCodePoint(a.pointer, b.pointer)); // stable: the reference's first one
    return errors[0] || null;
  }

  // ------------------------------------------------------------------ integrity check (§7)
  function result(code, message, messageZh, pointer, hashes) {
    return {
      code, message, messageZh, pointer: pointer === undefined ? null : pointer,
      targetHash: hashes ? hex32(hashes.target) : null,
      merkleRoot: hashes ? hex32(hashes.root) : null,
      leaf: hashes ? hex32(hashes.leaf) : null,
    };
  }

  function integrity(doc, envelope) {
    const bad = shapeError(doc) || suiteError(doc);
    if (bad) throw bad;
    const hash = hashOf(doc.version);
    let found;
    try {
      found = fields(doc.data);
    } catch (err) {
      if (err instanceof EregError) throw malformed(`/data${err.pointer}`, err.reason, err.messageZh);
      throw err;
    }
    const values = found.map((f) => jcs(f.value, `/data${f.pointer}`));
    if (envelope !== null && doc.version !== envelope) { // a well-formed document, in another suite's envelope
      throw malformed('/version', 'document suite does not match its envelope', '文书算法套件与密文封装不一致');
    }
    if (!found.length) return result('NOTHING_DISCLOSED', 'no data field is disclosed', '未披露任何数据字段');

    const dataPointers = new Set(found.map((f) => f.pointer));
    const saltPointers = Object.keys(doc.salts).filter((p) => !METADATA_POINTERS.includes(p));
    const unsalted = [...dataPointers].filter((p) => !has(doc.salts, p)).sort(byCodePoint);
    if (unsalted.length) {
      return result('TAMPERED', `disclosed field ${unsalted[0]} has no salt`, `已披露字段 ${unsalted[0]} 没有对应的盐值`, `/data${unsalted[0]}`);
    }
    const orphans = saltPointers.filter((p) => !dataPointers.has(p)).sort(byCodePoint);
    if (orphans.length) {
      return result('TAMPERED', `salt ${orphans[0]} belongs to no disclosed field`, `盐值 ${orphans[0]} 没有对应的已披露字段`,
        `/salts/${escapeToken(orphans[0])}`);
    }

    const { validity: v, issuer: is } = doc;
    const entries = [
      ...found.map((f, k) => [f.pointer, values[k]]),
      ['/@type', jcs(doc.type, '/@type')],
      ['/@validity', jcs({ validFrom: v.validFrom, validUntil: v.validUntil }, '/@validity')],
      ['/@issuer', jcs({ department: is.department, chainId: is.chainId, registry: is.registry }, '/@issuer')],
    ];
    const hashes = doc.privacy.obfuscated.map(fromHex);
    for (const [pointer, valueJcs] of entries) {
      try {
        hashes.push(hashField(hash, fromHex(doc.salts[pointer]), pointer, valueJcs));
      } catch (err) { // a key with a lone surrogate that also names a salt: the pointer has no UTF-8
        if (err instanceof EregError) throw malformed(`/data${pointer}`, err.reason, err.messageZh);
        throw err;
      }
    }
    const target = targetHash(hashes, doc.version);
    if (hex32(target) !== doc.proof.targetHash) {
      return result('TAMPERED', 'recomputed target hash differs from proof.targetHash',
        '重新计算的目标哈希与 proof.targetHash 不一致', '/proof/targetHash');
    }
    const leaf = leafOf(target, doc.version);
    const root = fromHex(doc.proof.merkleRoot);
    const computed = { target, leaf, root };
    if (compareBytes(fold(leaf, doc.proof.proof.map(fromHex), doc.version), root) !== 0) {
      return result('PROOF_MISMATCH', 'Merkle proof does not lead to proof.merkleRoot', '默克尔证明无法推导出 proof.merkleRoot',
        '/proof/proof', computed);
    }
    return result('OK', 'document is intact', '文书完整未被篡改', undefined, computed);
  }

  /**
   * Check a wrapped document: a parsed object, or its JSON text / UTF-8 bytes (read by parseDocument).
   * Returns {code, message, messageZh, pointer, targetHash, merkleRoot, leaf}; the three hashes are
   * 0x-hex for OK and PROOF_MISMATCH, null otherwise. The hashes are the suite's its version names.
   * `envelope`, the suite of the envelope the document came out of (suiteOfKey of its key), makes a
   * document of the other suite MALFORMED at /version, after any fault of the document itself.
   */
  function checkIntegrity(doc, envelope = null) {
    if (envelope !== null && !SUITES.includes(envelope)) throw new TypeError(`unknown suite ${JSON.stringify(envelope)}`);
    try {
      return integrity(typeof doc === 'string' || doc instanceof Uint8Array ? parseDocument(doc) : doc, envelope);
    } catch (err) {
      if (err instanceof EregError) return result('MALFORMED', err.message, err.messageZh, err.pointer);
      if (err instanceof RangeError) return result('MALFORMED', 'JSON nested too deeply', 'JSON 嵌套过深', '');
      throw err;
    }
  }

  // ------------------------------------------------------------------ WebCrypto: SHA-256, envelope (§8, §14)
  function subtle() {
    const c = globalThis.crypto;
    if (!c || !c.subtle) throw new Error('WebCrypto is not available (a secure context is needed)');
    return c.subtle;
  }
  const sha256 = async (bytes) => new Uint8Array(await subtle().digest('SHA-256', bytes));

  const KEY_SUITES = { 32: VERSION, 16: SM_VERSION }; // the key's length names the envelope's cipher
  /** The suite ('ereg/1' or 'ereg/1-sm') whose envelope a key opens: 32 bytes AES-256-GCM, 16 bytes SM4-GCM; else BAD_KEY. */
  function suiteOfKey(keyBytes) {
    const suite = keyBytes instanceof Uint8Array && has(KEY_SUITES, keyBytes.length) ? KEY_SUITES[keyBytes.length] : null;
    if (suite === null) {
      throw new EregError('BAD_KEY', '', 'key must be 32 (AES-256) or 16 (SM4) bytes',
        '密钥长度必须为 32 字节（AES-256）或 16 字节（SM4）');
    }
    return suite;
  }
  const undecryptable = () => new EregError('DECRYPTION_FAILED', '', 'cannot decrypt: wrong key or tampered ciphertext',
    '无法解密：密钥错误或密文被篡改');

  /**
   * Decrypt nonce(12) ‖ ciphertext ‖ tag(16): under a 32-byte key with AES-256-GCM (AD "ereg/1",
   * WebCrypto), under a 16-byte key with SM4-GCM (AD "ereg/1-sm", vendor/sm-crypto.js).
   */
  async function openEnvelope(keyBytes, blob) {
    const suite = suiteOfKey(keyBytes);
    if (!(blob instanceof Uint8Array) || blob.length < 28) {
      throw new EregError('TRUNCATED', '', 'envelope too short', '密文过短');
    }
    if (suite === SM_VERSION) {
      const sm4 = smCrypto().sm4; // outside the try, as WebCrypto below: a page without it is not the document's fault
      try {
        return sm4.decrypt(blob.subarray(12, blob.length - 16), keyBytes, {
          mode: 'gcm', iv: blob.subarray(0, 12), associatedData: utf8(SM_VERSION), tag: blob.subarray(blob.length - 16), output: 'array',
        });
      } catch (err) { // the tag does not authenticate
        throw undecryptable();
      }
    }
    // Outside the try: a page without WebCrypto (not a secure context) is the page's fault, not
    // the document's, and must not read as DECRYPTION_FAILED.
    const webCrypto = subtle();
    const key = await webCrypto.importKey('raw', keyBytes, 'AES-GCM', false, ['decrypt']);
    let plain;
    try {
      plain = await webCrypto.decrypt(
        { name: 'AES-GCM', iv: blob.slice(0, 12), additionalData: utf8(VERSION), tagLength: 128 }, key, blob.slice(12));
    } catch (err) { // the tag does not authenticate: another key, or altered bytes
      throw undecryptable();
    }
    return new Uint8Array(plain);
  }

  // ------------------------------------------------------------------ CIDs (storage/cid.py)
  // raw: one block. dag-pb: UnixFS file, raw leaves of 256 KiB, balanced layout, 174 links per node.
  const RAW_MAX_SIZE = 1048576, CHUNK_SIZE = 262144, MAX_LINKS = 174;
  const RAW = 0x55, DAG_PB = 0x70;
  const B32 = 'abcdefghijklmnopqrstuvwxyz234567';

  function base32(bytes) {
    let out = '', acc = 0, bits = 0;
    for (const byte of bytes) {
      acc = ((acc << 8) | byte) & 0xfff; bits += 8;
      while (bits >= 5) { out += B32[(acc >>> (bits - 5)) & 31]; bits -= 5; }
    }
    return bits ? out + B32[(acc << (5 - bits)) & 31] : out;
  }
  function unbase32(text) {
    const out = [];
    let acc = 0, bits = 0;
    for (const ch of text) {
      acc = ((acc << 5) | B32.indexOf(ch)) & 0xfff; bits += 5;
      if (bits >= 8) { out.push((acc >>> (bits - 8)) & 0xff); bits -= 8; }
    }
    return new Uint8Array(out);
  }
  const cidBytes = (codec, digest) => concat(new Uint8Array([0x01, codec, 0x12, 0x20]), digest);
  const cidText = (bytes) => `b${base32(bytes)}`;
  function varint(n) {
    const out = [];
    for (; n > 0x7f; n = Math.floor(n / 128)) out.push((n % 128) | 0x80);
    out.push(n);
    return out;
  }
  async function parentNode(children) {
    const filesize = children.reduce((n, c) => n + c.filesize, 0);
    const unixfs = [0x08, 0x02, 0x18, ...varint(filesize)]; // Type = File, filesize
    for (const c of children) unixfs.push(0x20, ...varint(c.filesize)); // blocksizes
    const parts = [];
    for (const c of children) { // PBLink {Hash, Name = "", Tsize}, links before Data
      const link = concat(new Uint8Array([0x0a, ...varint(c.cid.length)]), c.cid, new Uint8Array([0x12, 0x00, 0x18, ...varint(c.tsize)]));
      parts.push(new Uint8Array([0x12, ...varint(link.length)]), link);
    }
    parts.push(new Uint8Array([0x0a, ...varint(unixfs.length), ...unixfs]));
    const block = concat(...parts);
    const tsize = block.length + children.reduce((n, c) => n + c.tsize, 0);
    return { cid: cidBytes(DAG_PB, await sha256(block)), tsize, filesize };
  }

  /**
   * CIDv1 (base32) of `bytes` as kind 'raw' or 'dag-pb' (UnixFS; one chunk reduces to its raw leaf).
   * options {chunkSize, maxLinks} only to test the layout with small trees.
   */
  async function cidOf(bytes, kind, options) {
    if (!(bytes instanceof Uint8Array)) throw new TypeError('cidOf takes a Uint8Array');
    if (kind === 'raw') return cidText(cidBytes(RAW, await sha256(bytes)));
    if (kind !== 'dag-pb') throw new TypeError("kind must be 'raw' or 'dag-pb'");
    const { chunkSize = CHUNK_SIZE, maxLinks = MAX_LINKS } = options || {};
    if (!(chunkSize > 0) || !(maxLinks >= 2)) throw new RangeError('chunkSize must be positive and maxLinks at least 2');
    let level = [];
    for (let at = 0; at < bytes.length || at === 0; at += chunkSize) {
      const chunk = bytes.subarray(at, at + chunkSize);
      level.push({ cid: cidBytes(RAW, await sha256(chunk)), tsize: chunk.length, filesize: chunk.length });
    }
    if (level.length === 1) return cidText(level[0].cid);
    do {
      const next = [];
      for (let k = 0; k < level.length; k += maxLinks) next.push(await parentNode(level.slice(k, k + maxLinks)));
      level = next;
    } while (level.length > 1);
    return cidText(level[0].cid);
  }

  /** The kind ('raw' or 'dag-pb') of a canonical base32 sha2-256 CIDv1, or null for anything else. */
  function cidKind(cid) {
    if (typeof cid !== 'string' || !/^b[a-z2-7]{58}$/.test(cid)) return null;
    const bytes = unbase32(cid.slice(1));
    if (bytes.length !== 36 || cidText(bytes) !== cid || bytes[0] !== 1 || bytes[2] !== 0x12 || bytes[3] !== 0x20) return null;
    return bytes[1] === RAW ? 'raw' : bytes[1] === DAG_PB ? 'dag-pb' : null;
  }
  /** True if `bytes` hash to `cid`, recomputed with the CID's own codec; false for any other CID text. */
  async function checkCid(cid, bytes) {
    const kind = cidKind(cid);
    return kind !== null && (await cidOf(bytes, kind)) === cid;
  }

  // ------------------------------------------------ property units (FORMAT.md §10, chain/property.py)
  const UNIT_SALT = /^0x[0-9a-f]{64}$/;
  /** The unit id a certificate's data names, keccak256(salt ‖ utf8(trim(unitNumber))) as 0x hex,
   *  or null when `unitNumber` or `unitSalt` is hidden or not well formed (certificate_unit). */
  function unitOf(data) {
    if (!data || typeof data !== 'object' || Array.isArray(data)) return null;
    const number = typeof data.unitNumber === 'string' ? data.unitNumber.trim() : '';
    const salt = typeof data.unitSalt === 'string' && UNIT_SALT.test(data.unitSalt) ? data.unitSalt : '';
    if (!number || !salt) return null;
    return hex32(keccak256(concat(fromHex(salt), utf8(number))));
  }

  return Object.freeze({
    VERSION, SM_VERSION, SUITES, METADATA_POINTERS, RAW_MAX_SIZE, EregError,
    toHex, fromHex, hex32, utf8, concat,
    keccak256, sm3, sha256, isChecksumAddress,
    canonicalize, escapeToken, fields, fieldHash, targetHash, leafOf, fold,
    parseDocument, checkIntegrity,
    suiteOfKey, openEnvelope, cidOf, cidKind, checkCid, unitOf,
  });
}));
