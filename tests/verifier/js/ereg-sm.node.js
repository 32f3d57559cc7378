// The ereg/1-sm suite of verifier/static/ereg.js in Node: the standards' SM3/SM4 examples and every
// vector of tests/documents/vectors/ereg1-sm.json (sm-vectors.js), the Python reference's cases when
// EREG_SM_CASES names their JSON file (tests/verifier/test_ereg_js_sm.py writes it), and SM3 and
// SM4-GCM against node:crypto's OpenSSL on random input. Not a *.test.js file, so that
// `node --test tests/verifier/js/` (test_ereg_js.py's run) stays the ereg/1 one; run it by name:
//
//     node --test tests/verifier/js/ereg-sm.node.js
//
// Random inputs come from a seeded generator; EREG_SEED=<n> replays a failing run.
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const vm = require('node:vm');
const nodeCrypto = require('node:crypto');

const ROOT = path.resolve(__dirname, '..', '..', '..');
const STATIC = path.join(ROOT, 'verifier', 'static');
const EREG_JS = path.join(STATIC, 'ereg.js');
const SM_CRYPTO_JS = path.join(STATIC, 'vendor', 'sm-crypto.js');
const VECTORS_JSON = path.join(ROOT, 'tests', 'documents', 'vectors', 'ereg1-sm.json');

const Ereg = require(EREG_JS);
const Sm = require(SM_CRYPTO_JS);
const SmVectors = require('./sm-vectors.js');

const V = fs.existsSync(VECTORS_JSON) ? JSON.parse(fs.readFileSync(VECTORS_JSON, 'utf8')) : null;
const cases = process.env.EREG_SM_CASES ? JSON.parse(fs.readFileSync(process.env.EREG_SM_CASES, 'utf8')) : null;
for (const [name, fn] of SmVectors.standardChecks(Ereg, Sm, assert)) test(name, fn);
if (V) for (const [name, fn] of SmVectors.vectorChecks(Ereg, Sm, V, assert)) test(name, fn);
if (cases) for (const [name, fn] of SmVectors.caseChecks(Ereg, Sm, cases, assert)) test(name, fn);

// ------------------------------------------------------------------ node:crypto (OpenSSL)
const SEED = Number(process.env.EREG_SEED || nodeCrypto.randomInt(2 ** 31));
function generator(seed) { // mulberry32
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const hex = (bytes) => Buffer.from(bytes).toString('hex');
const OPENSSL_SM = nodeCrypto.getHashes().includes('sm3') && nodeCrypto.getCiphers().includes('sm4-ctr');
const needsOpenSsl = { skip: OPENSSL_SM ? false : "this Node's OpenSSL has no SM3/SM4" };

test('node: sm3 agrees with node:crypto on random inputs (every length through 5 blocks, and long ones)', needsOpenSsl, () => {
  const next = generator(SEED);
  const lengths = [...Array(321).keys(), 1000, 4095, 4096, 4097, 65536 + Math.floor(next() * 1000)];
  for (const n of lengths) {
    const data = Uint8Array.from({ length: n }, () => Math.floor(next() * 256));
    assert.equal(hex(Ereg.sm3(data)), nodeCrypto.createHash('sm3').update(data).digest('hex'), `seed ${SEED}, ${n} bytes`);
  }
});

test('node: SM4-GCM ciphertext is node:crypto\'s SM4-CTR from nonce ‖ 2; openEnvelope opens it', needsOpenSsl, async () => {
  // node:crypto has no SM4-GCM: its keystream (CTR from J0 + 1) is checked here, the tag against
  // Python's cryptography in the cases
  const next = generator(SEED + 1);
  for (const size of [0, 1, 15, 16, 17, 1000, 70000]) {
    const key = nodeCrypto.randomBytes(16), nonce = nodeCrypto.randomBytes(12);
    const plain = Uint8Array.from({ length: size }, () => Math.floor(next() * 256));
    const blob = SmVectors.smSeal(Ereg, Sm, new Uint8Array(key), new Uint8Array(nonce), plain);
    const ctr = nodeCrypto.createCipheriv('sm4-ctr', key, Buffer.concat([nonce, Buffer.from([0, 0, 0, 2])]));
    const expected = Buffer.concat([ctr.update(plain), ctr.final()]);
    assert.equal(hex(blob.subarray(12, blob.length - 16)), expected.toString('hex'), `seed ${SEED + 1}, ${size} bytes`);
    assert.equal(hex(await Ereg.openEnvelope(new Uint8Array(key), blob)), hex(plain), `${size} bytes`);
    blob[blob.length - 1 - Math.floor(next() * blob.length)] ^= 1;
    await assert.rejects(Ereg.openEnvelope(new Uint8Array(key), blob), { code: 'DECRYPTION_FAILED' });
  }
});

// ------------------------------------------------------------------ the scripts as a page loads them
function page(files) {
  // one realm's Uint8Array for the scripts and for TextEncoder's output, as in a page
  const sandbox = { TextEncoder, TextDecoder, crypto: globalThis.crypto, Uint8Array };
  vm.createContext(sandbox);
  for (const file of files) vm.runInContext(fs.readFileSync(file, 'utf8'), sandbox, { filename: file });
  return sandbox;
}
const OWN = ['TextEncoder', 'TextDecoder', 'crypto', 'Uint8Array'];

test('node: as classic scripts, sm-crypto.js defines only the global SmCrypto, and ereg.js uses it', async () => {
  const sandbox = page([SM_CRYPTO_JS, EREG_JS]);
  assert.deepEqual(Object.keys(sandbox).filter((k) => !OWN.includes(k)).sort(), ['Ereg', 'SmCrypto']);
  assert.deepEqual(Object.keys(sandbox.SmCrypto).sort(), ['sm3', 'sm4']);
  const E = sandbox.Ereg;
  assert.equal(E.toHex(E.sm3(E.utf8('abc'))), '66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0');
  if (V) {
    assert.equal(E.checkIntegrity(V.documentJcs).code, 'OK');
    const plain = await E.openEnvelope(E.fromHex(V.envelope.key), E.fromHex(V.envelope.blob));
    assert.equal(new TextDecoder().decode(plain), V.documentJcs);
  }
});

test('node: without sm-crypto.js the SM suite fails as the page\'s problem, never as a verdict', async () => {
  const E = page([EREG_JS]).Ereg;
  const missing = (err) => {
    assert.ok(!(err instanceof E.EregError), `an EregError ${err.code}`);
    assert.match(err.message, /sm-crypto\.js is not loaded/);
    return true;
  };
  const key = new Uint8Array(16);
  await assert.rejects(E.openEnvelope(key, new Uint8Array(40)), missing);
  assert.throws(() => E.sm3(new Uint8Array(1)), missing);
  if (V) assert.throws(() => E.checkIntegrity(V.documentJcs), missing);
  await assert.rejects(E.openEnvelope(key, new Uint8Array(27)), { code: 'TRUNCATED' }); // still the blob's fault
  await assert.rejects(E.openEnvelope(new Uint8Array(20), new Uint8Array(40)), { code: 'BAD_KEY' });
  if (V) assert.equal(E.checkIntegrity(V.documentJcs, 'ereg/1').code, 'MALFORMED', 'the envelope check needs no SM3');
});

test('node: in Node, ereg.js requires vendor/sm-crypto.js from beside itself', () => {
  assert.equal(globalThis.SmCrypto, undefined, 'no global here');
  assert.equal(hex(Ereg.sm3(new Uint8Array(0))), nodeCrypto.getHashes().includes('sm3')
    ? nodeCrypto.createHash('sm3').digest('hex') : '1ab21d8355cfa17f8e61194831e81a8f22bec8c728fefb747ed035eb5082aa2b');
});

test('node: the API adds the suite to what citizen.js calls, with its signatures', () => {
  assert.ok(Object.isFrozen(Ereg) && Object.isFrozen(Ereg.SUITES));
  assert.deepEqual([...Ereg.SUITES], ['ereg/1', 'ereg/1-sm']);
  assert.equal(Ereg.SM_VERSION, 'ereg/1-sm');
  for (const [name, arity] of [['sm3', 1], ['suiteOfKey', 1], ['checkIntegrity', 1], ['openEnvelope', 2],
    ['fieldHash', 3], ['targetHash', 1], ['leafOf', 1], ['fold', 2]]) {
    assert.equal(typeof Ereg[name], 'function', name);
    assert.equal(Ereg[name].length, arity, `${name}.length`);
  }
});
