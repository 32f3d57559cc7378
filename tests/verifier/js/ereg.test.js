// verifier/static/ereg.js in Node: every vector of tests/documents/vectors/ereg1.json (vectors.js),
// the Python reference's cases when EREG_CASES names their JSON file (tests/verifier/test_ereg_js.py
// writes it), and Keccak-256, SHA-256, AES-GCM and the UnixFS layout against independent implementations
// (@noble/hashes, node:crypto, the js-ipfs importer of hardhat_local/node_modules) on random input.
//
//     node --test tests/verifier/js/
//
// Random inputs come from a seeded generator; EREG_SEED=<n> replays a failing run (the seed is in
// every failure message).
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const vm = require('node:vm');
const nodeCrypto = require('node:crypto');
const { createRequire } = require('node:module');
const { pathToFileURL } = require('node:url');

const ROOT = path.resolve(__dirname, '..', '..', '..');
const EREG_JS = path.join(ROOT, 'verifier', 'static', 'ereg.js');
const VECTORS_JSON = path.join(ROOT, 'tests', 'documents', 'vectors', 'ereg1.json');

const Ereg = require(EREG_JS);
const EregVectors = require('./vectors.js');

const V = JSON.parse(fs.readFileSync(VECTORS_JSON, 'utf8'));
for (const [name, fn] of EregVectors.vectorChecks(Ereg, V, assert)) test(name, fn);

if (process.env.EREG_CASES) {
  const cases = JSON.parse(fs.readFileSync(process.env.EREG_CASES, 'utf8'));
  for (const [name, fn] of EregVectors.caseChecks(Ereg, cases, assert)) test(name, fn);
}

// ------------------------------------------------------------------ independent implementations
/** @noble/hashes from the local stack's packages (hardhat_local), or null if they are not installed. */
function noble() {
  const fromStack = createRequire(path.join(ROOT, 'hardhat_local', 'package.json'));
  try {
    return { keccak256: fromStack('@noble/hashes/sha3').keccak_256, sha256: fromStack('@noble/hashes/sha256').sha256 };
  } catch (err) {
    return null;
  }
}
const NOBLE = noble();
const STACK_MODULES = path.join(ROOT, 'hardhat_local', 'node_modules');
// In CI the packages are always installed (make test runs npm ci first): never skip there.
const CI = /^(1|true|yes)$/i.test(process.env.CI || '');
const NOT_INSTALLED = 'hardhat_local/node_modules is not installed (npm ci in hardhat_local)';
const needsNoble = { skip: NOBLE || CI ? false : NOT_INSTALLED };
const needsStack = { skip: fs.existsSync(path.join(STACK_MODULES, 'ipfs-unixfs-importer')) || CI ? false : NOT_INSTALLED };

const SEED = Number(process.env.EREG_SEED || nodeCrypto.randomInt(2 ** 31));
/** mulberry32: a small seeded generator, so a failing random input can be replayed. */
function generator(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
function randomInputs(seed) {
  const next = generator(seed);
  const bytes = (n) => Uint8Array.from({ length: n }, () => Math.floor(next() * 256));
  const lengths = [];
  for (let n = 0; n <= 300; n++) lengths.push(n); // every length through two Keccak blocks (rate 136)
  for (const block of [3, 4, 7, 8]) for (const d of [-1, 0, 1]) lengths.push(136 * block + d);
  for (let k = 0; k < 40; k++) lengths.push(Math.floor(next() * 5000));
  lengths.push(65536 + Math.floor(next() * 1000));
  return lengths.map(bytes);
}
const hex = (bytes) => Buffer.from(bytes).toString('hex');

test('node: keccak256 agrees with @noble/hashes on random inputs', needsNoble, () => {
  assert.ok(NOBLE, 'hardhat_local/node_modules/@noble/hashes is missing');
  const inputs = randomInputs(SEED);
  for (const data of inputs) {
    assert.equal(hex(Ereg.keccak256(data)), hex(NOBLE.keccak256(data)), `seed ${SEED}, ${data.length} bytes ${hex(data.subarray(0, 64))}…`);
  }
  const zeros = new Uint8Array(1 << 20), ones = new Uint8Array(1 << 20).fill(0xff);
  assert.equal(hex(Ereg.keccak256(zeros)), hex(NOBLE.keccak256(zeros)), '1 MiB of zeros');
  assert.equal(hex(Ereg.keccak256(ones)), hex(NOBLE.keccak256(ones)), '1 MiB of 0xff');
  assert.equal(hex(Ereg.keccak256(new Uint8Array())), 'c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470');
});

test('node: keccak256 reads a subarray, not its buffer, and leaves the input alone', needsNoble, () => {
  const whole = Uint8Array.from({ length: 400 }, (_, i) => i & 0xff);
  const part = whole.subarray(13, 13 + 200);
  const copy = Uint8Array.from(part);
  assert.equal(hex(Ereg.keccak256(part)), hex(NOBLE.keccak256(copy)));
  assert.deepEqual(part, copy);
});

test('node: sha256 agrees with @noble/hashes and node:crypto on random inputs', needsNoble, async () => {
  assert.ok(NOBLE, 'hardhat_local/node_modules/@noble/hashes is missing');
  for (const data of randomInputs(SEED + 1)) {
    const mine = hex(await Ereg.sha256(data));
    assert.equal(mine, hex(NOBLE.sha256(data)), `seed ${SEED + 1}, ${data.length} bytes`);
    assert.equal(mine, nodeCrypto.createHash('sha256').update(data).digest('hex'), `seed ${SEED + 1}, ${data.length} bytes`);
  }
});

test('node: openEnvelope opens what node:crypto seals with AES-256-GCM and AD "ereg/1"', async () => {
  const next = generator(SEED + 2);
  for (const size of [0, 1, 15, 16, 17, 1000, 70000]) {
    const key = nodeCrypto.randomBytes(32), nonce = nodeCrypto.randomBytes(12);
    const plain = Uint8Array.from({ length: size }, () => Math.floor(next() * 256));
    const cipher = nodeCrypto.createCipheriv('aes-256-gcm', key, nonce);
    cipher.setAAD(Buffer.from('ereg/1'));
    const blob = Buffer.concat([nonce, cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
    assert.equal(hex(await Ereg.openEnvelope(new Uint8Array(key), new Uint8Array(blob))), hex(plain), `${size} bytes`);
    const otherAd = nodeCrypto.createCipheriv('aes-256-gcm', key, nonce);
    otherAd.setAAD(Buffer.from('ereg/2'));
    const wrong = Buffer.concat([nonce, otherAd.update(plain), otherAd.final(), otherAd.getAuthTag()]);
    await assert.rejects(Ereg.openEnvelope(new Uint8Array(key), new Uint8Array(wrong)), { code: 'DECRYPTION_FAILED' });
  }
});

test('node: canonical numbers are ECMAScript\'s and read back as the same double (random doubles)', () => {
  const next = generator(SEED + 3);
  const view = new DataView(new ArrayBuffer(8));
  for (let k = 0; k < 5000; k++) {
    view.setUint32(0, Math.floor(next() * 2 ** 32));
    view.setUint32(4, Math.floor(next() * 2 ** 32));
    const x = view.getFloat64(0);
    if (!Number.isFinite(x)) continue;
    const text = Ereg.canonicalize(x);
    assert.equal(text, String(x === 0 ? 0 : x), `seed ${SEED + 3}: ${x}`);
    const back = Ereg.parseDocument(text);
    assert.ok(back === x, `seed ${SEED + 3}: ${text} read back as ${back}`);
    assert.equal(Ereg.canonicalize([back]), `[${text}]`);
  }
});

test('node: cidOf agrees with the js-ipfs UnixFS importer (raw leaves, balanced layout)', needsStack, async () => {
  // the importer the local IPFS daemon adds files with: an independent implementation of the layout
  const { importer } = await import(pathToFileURL(path.join(STACK_MODULES, 'ipfs-unixfs-importer', 'src', 'index.js')));
  const { MemoryBlockstore } = await import(pathToFileURL(path.join(STACK_MODULES, 'blockstore-core', 'src', 'memory.js')));
  const next = generator(SEED + 4);
  const added = async (data, chunkSize, maxLinks) => {
    let last = null;
    const options = { cidVersion: 1, rawLeaves: true, maxChunkSize: chunkSize, maxChildrenPerNode: maxLinks };
    for await (const entry of importer([{ content: data }], new MemoryBlockstore(), options)) last = entry;
    return last.cid.toString();
  };
  const bytes = (n) => Uint8Array.from({ length: n }, () => Math.floor(next() * 256));
  for (const n of [0, 1, 1000, Ereg.RAW_MAX_SIZE]) { // raw: one chunk of up to 1 MiB
    const data = bytes(n);
    assert.equal(await Ereg.cidOf(data, 'raw'), await added(data, Ereg.RAW_MAX_SIZE, 174), `seed ${SEED + 4}: raw ${n}`);
  }
  for (const n of [0, 10, 262144, 262145, Ereg.RAW_MAX_SIZE + 1]) { // dag-pb: chunks of 256 KiB, 174 links
    const data = bytes(n);
    assert.equal(await Ereg.cidOf(data, 'dag-pb'), await added(data, 262144, 174), `seed ${SEED + 4}: dag-pb ${n}`);
  }
  for (const [n, chunkSize, maxLinks] of [[2000, 3, 5], [165, 16, 3], [17, 1, 2], [2000, 1, 174]]) { // deeper trees
    const data = bytes(n);
    assert.equal(await Ereg.cidOf(data, 'dag-pb', { chunkSize, maxLinks }), await added(data, chunkSize, maxLinks),
      `seed ${SEED + 4}: ${n} bytes, chunks of ${chunkSize}, ${maxLinks} links`);
  }
});

// ------------------------------------------------------------------ the script itself
test('node: without WebCrypto, openEnvelope says so and does not blame the document', async () => {
  // (ereg.js used to turn the missing WebCrypto of a page that is not a secure context into
  // DECRYPTION_FAILED, a verdict on the document)
  const sandbox = { TextEncoder, TextDecoder };
  vm.createContext(sandbox);
  vm.runInContext(fs.readFileSync(EREG_JS, 'utf8'), sandbox, { filename: EREG_JS });
  const E = sandbox.Ereg;
  const key = E.fromHex(V.envelope.key), blob = E.fromHex(V.envelope.smallBlob);
  const refused = (err) => {
    assert.ok(!(err instanceof E.EregError), `an EregError ${err.code}`);
    assert.match(err.message, /WebCrypto is not available/);
    return true;
  };
  await assert.rejects(E.openEnvelope(key, blob), refused);
  await assert.rejects(E.sha256(blob), refused);
  await assert.rejects(E.checkCid(V.qr.cid, blob), refused);
  await assert.rejects(E.openEnvelope(key, blob.subarray(0, 27)), { code: 'TRUNCATED' }); // still the blob's fault
  assert.equal(E.checkIntegrity(V.documentJcs).code, 'OK', 'the integrity check needs no WebCrypto');
});


test('node: as a classic script (no module), ereg.js defines only the global Ereg', () => {
  const sandbox = { TextEncoder, TextDecoder, crypto: globalThis.crypto };
  vm.createContext(sandbox);
  vm.runInContext(fs.readFileSync(EREG_JS, 'utf8'), sandbox, { filename: EREG_JS });
  assert.deepEqual(Object.keys(sandbox).filter((k) => !['TextEncoder', 'TextDecoder', 'crypto'].includes(k)), ['Ereg']);
  assert.deepEqual(Object.keys(sandbox.Ereg).sort(), Object.keys(Ereg).sort());
  assert.equal(sandbox.Ereg.toHex(sandbox.Ereg.keccak256(sandbox.Ereg.utf8(V.type))), V.typeId.slice(2));
  assert.equal(sandbox.Ereg.checkIntegrity(V.documentJcs).code, 'OK');
});

test('node: unitOf gives the unit id of FORMAT.md §10, and null with the number or the salt hidden', () => {
  const format = fs.readFileSync(path.join(ROOT, 'docs', 'FORMAT.md'), 'utf8');
  const expected = /give `unitId = (0x[0-9a-f]{64})`/.exec(format);
  assert.ok(expected, 'FORMAT.md §10 gives no example unit id');
  const data = { unitNumber: '341502001001GB00001F00010001', unitSalt: `0x${'5a17'.repeat(16)}` };
  assert.equal(Ereg.unitOf(data), expected[1]);
  assert.equal(Ereg.unitOf({ ...data, unitNumber: ` ${data.unitNumber}\n` }), expected[1]); // trimmed
  assert.notEqual(Ereg.unitOf({ ...data, unitSalt: `0x${'00'.repeat(32)}` }), expected[1]);
  for (const bad of [{ unitNumber: data.unitNumber }, { unitSalt: data.unitSalt }, { ...data, unitSalt: data.unitSalt.toUpperCase() },
    { ...data, unitSalt: data.unitSalt.slice(0, 64) }, { ...data, unitNumber: '  ' }, null, [data]]) {
    assert.equal(Ereg.unitOf(bad), null, JSON.stringify(bad));
  }
});

test('node: the API citizen.js calls is there, frozen, with its signatures', () => {
  assert.ok(Object.isFrozen(Ereg));
  for (const [name, arity] of [['checkCid', 2], ['openEnvelope', 2], ['parseDocument', 1], ['checkIntegrity', 1],
    ['keccak256', 1], ['utf8', 1], ['toHex', 1], ['fields', 1], ['cidOf', 3], ['cidKind', 1], ['unitOf', 1]]) {
    assert.equal(typeof Ereg[name], 'function', name);
    assert.equal(Ereg[name].length, arity, `${name}.length`);
  }
  assert.equal(Ereg.VERSION, 'ereg/1');
  assert.deepEqual(Ereg.METADATA_POINTERS, ['/@type', '/@validity', '/@issuer']);
  assert.equal(Ereg.RAW_MAX_SIZE, 1048576);
  assert.equal(Ereg.toHex(Ereg.utf8('张')), 'e5bca0');
});
