// The ereg/1-sm checks of verifier/static/ereg.js and verifier/static/vendor/sm-crypto.js, shared by
// the Node test (ereg-sm.node.js, with node:assert) and the Chromium page of
// tests/verifier/test_ereg_js_sm.py (with the small assert of vectors.js). Three sources of
// expected values:
//   standardChecks(Ereg, Sm, assert): the standards' own examples (GB/T 32905 for SM3, GB/T 32907
//     for the SM4 block cipher), written down here;
//   vectorChecks(Ereg, Sm, V, assert): tests/documents/vectors/ereg1-sm.json, every section of it,
//     recomputed as vectors.js recomputes ereg1.json;
//   caseChecks(Ereg, Sm, cases, assert): what the Python reference computed at test time
//     (cryptography's SM3 and SM4-GCM on random inputs, documents' ereg/1-sm documents, tampered,
//     malformed and in the wrong envelope).
// Each check is [name, async function]; a name starts with the key of what it checks
// ("sm.fields[3]", "smcases.documents[2].text"), so the Python test can tell every one ran.
//
// The vendored file's provenance: scripts/vendor_sm_crypto.py builds it from pinned npm packages
// (sm-crypto-v2 and its @noble dependencies, versions and sha512 integrity in the script) and
// `--check` rebuilds it byte for byte; its header names the versions, LICENSES.txt the licences.
(function (root, factory) {
  'use strict';
  const api = factory();
  if (typeof module === 'object' && module && module.exports) module.exports = api;
  else root.EregSmVectors = api;
}(typeof globalThis !== 'undefined' ? globalThis : this, function () {
  'use strict';

  const SM = 'ereg/1-sm';
  const clone = (v) => JSON.parse(JSON.stringify(v));
  const hexOf = (Ereg, bytes) => `0x${Ereg.toHex(bytes)}`;
  const b64url = (bytes) => btoa(String.fromCharCode(...bytes)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  const verdict = (r) => ({ code: r.code, pointer: r.pointer, targetHash: r.targetHash, merkleRoot: r.merkleRoot, leaf: r.leaf });
  const at = (obj, pointer) => pointer.slice(1).split('/').map((t) => t.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce((node, key) => node[key], obj);

  /** The error `fn` throws (sync or async); fails if it throws none. */
  async function thrown(assert, fn, what) {
    try {
      await fn();
    } catch (err) {
      return err;
    }
    assert.ok(false, `${what}: no error thrown`);
    return null;
  }
  const codeOf = async (assert, fn, what) => (await thrown(assert, fn, what)).code;

  /** SM4-GCM with the vendored library, as the issuer seals: nonce ‖ ciphertext ‖ tag. */
  function smSeal(Ereg, Sm, key, nonce, plain, ad) {
    const { output, tag } = Sm.sm4.encrypt(plain, key, {
      mode: 'gcm', iv: nonce, associatedData: Ereg.utf8(ad === undefined ? SM : ad), output: 'array', outputTag: true,
    });
    return Ereg.concat(nonce, output, tag);
  }

  // ------------------------------------------------------------------ the standards' examples
  function standardChecks(Ereg, Sm, assert) {
    const checks = [];
    const add = (name, fn) => checks.push([name, fn]);
    add('std.sm3.abc: GB/T 32905 example 1, SM3("abc")', () => {
      const expected = '66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0';
      assert.equal(Ereg.toHex(Ereg.sm3(Ereg.utf8('abc'))), expected);
      assert.equal(Sm.sm3(Ereg.utf8('abc')), expected, 'the library itself');
    });
    add('std.sm3.abcd16: GB/T 32905 example 2, SM3("abcd" x 16), two blocks', () => {
      assert.equal(Ereg.toHex(Ereg.sm3(Ereg.utf8('abcd'.repeat(16)))),
        'debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732');
    });
    add('std.sm3.subarray: a subarray is hashed, not its buffer, and left alone', () => {
      const whole = Ereg.utf8(`xx${'abcd'.repeat(16)}yy`);
      const part = whole.subarray(2, 66);
      assert.equal(Ereg.toHex(Ereg.sm3(part)), 'debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732');
      assert.equal(new TextDecoder().decode(whole), `xx${'abcd'.repeat(16)}yy`);
    });
    add('std.sm4.block: GB/T 32907 example 1, one block in ECB, both ways', () => {
      // key = plaintext = 0123456789abcdeffedcba9876543210; the library's ECB path (no padding)
      // is the bare block function, the one its GCM mode runs on counters
      const key = Ereg.fromHex('0123456789abcdeffedcba9876543210');
      const out = Sm.sm4.encrypt(key, key, { padding: 'none', output: 'array' });
      assert.equal(Ereg.toHex(out), '681edf34d206965e86b3e94f536e4246');
      assert.equal(Ereg.toHex(Sm.sm4.decrypt(out, key, { padding: 'none', output: 'array' })), Ereg.toHex(key));
    });
    add('std.sm4.gcmKeystream: SM4-GCM encrypts with the block function on nonce ‖ 2, 3, ...', () => {
      // GCM's first keystream block is E(K, nonce ‖ 00000002): the GB/T 32907 block seen through GCM
      const key = Ereg.fromHex('0123456789abcdeffedcba9876543210');
      const nonce = Ereg.fromHex('000102030405060708090a0b');
      const plain = Ereg.utf8('ereg/1-sm keystream, two blocks and a bit');
      const blob = smSeal(Ereg, Sm, key, nonce, plain);
      const counter = (n) => Ereg.concat(nonce, new Uint8Array([0, 0, 0, n]));
      const stream = Ereg.concat(...[2, 3, 4].map((n) => Sm.sm4.encrypt(counter(n), key, { padding: 'none', output: 'array' })));
      const expected = plain.map((b, i) => b ^ stream[i]);
      assert.equal(Ereg.toHex(blob.subarray(12, blob.length - 16)), Ereg.toHex(expected));
    });
    add('std.suiteOfKey: 32 bytes AES (ereg/1), 16 bytes SM4 (ereg/1-sm), any other BAD_KEY', async () => {
      assert.equal(Ereg.suiteOfKey(new Uint8Array(32)), 'ereg/1');
      assert.equal(Ereg.suiteOfKey(new Uint8Array(16)), SM);
      for (const n of [0, 15, 17, 24, 31, 33, 64]) {
        assert.equal((await thrown(assert, () => Ereg.suiteOfKey(new Uint8Array(n)), `${n} bytes`)).code, 'BAD_KEY', `${n} bytes`);
        assert.equal(await codeOf(assert, () => Ereg.openEnvelope(new Uint8Array(n), new Uint8Array(40)), 'openEnvelope'),
          'BAD_KEY', `openEnvelope, ${n}-byte key`);
      }
      assert.equal((await thrown(assert, () => Ereg.suiteOfKey([1, 2]), 'an array')).code, 'BAD_KEY');
    });
    add('std.suites: the hash functions take a suite; an unknown one is a TypeError', async () => {
      const t = Ereg.fromHex(`0x${'ab'.repeat(32)}`);
      assert.equal(hexOf(Ereg, Ereg.leafOf(t, SM)), hexOf(Ereg, Ereg.sm3(Ereg.concat(new Uint8Array([0]), t))));
      assert.equal(hexOf(Ereg, Ereg.leafOf(t)), hexOf(Ereg, Ereg.keccak256(Ereg.concat(new Uint8Array([0]), t))), 'ereg/1 by default');
      assert.equal(hexOf(Ereg, Ereg.targetHash([t, t], SM)), hexOf(Ereg, Ereg.sm3(Ereg.concat(t, t))));
      for (const fn of [() => Ereg.leafOf(t, 'ereg/2'), () => Ereg.fold(t, [], 'sm3'), () => Ereg.targetHash([t], null),
        () => Ereg.fieldHash(new Uint8Array(16), '/a', 1, 'SM'), () => Ereg.checkIntegrity({}, 'ereg/2')]) {
        assert.ok((await thrown(assert, fn, 'unknown suite')) instanceof TypeError, 'a TypeError');
      }
    });
    return checks;
  }

  // ------------------------------------------------------------------ ereg1-sm.json
  function vectorChecks(Ereg, Sm, V, assert) {
    const checks = [];
    const add = (name, fn) => checks.push([name, fn]);
    const metadata = {
      '/@type': V.type,
      '/@validity': { validFrom: V.validity.validFrom, validUntil: V.validity.validUntil },
      '/@issuer': { department: V.issuer.department, chainId: V.issuer.chainId, registry: V.issuer.registry },
    };
    const valueOf = (pointer) => (pointer in metadata ? metadata[pointer] : at(V.record, pointer));
    const intact = () => ({ code: 'OK', pointer: null, targetHash: V.targetHash, merkleRoot: V.batch.root, leaf: V.leaf });

    add('sm.suite: the vectors and their document are ereg/1-sm', () => {
      assert.equal(V.suite, SM);
      assert.equal(V.document.version, SM);
      assert.equal(Ereg.SM_VERSION, SM);
    });
    add('sm.type: the document type is the document\'s', () => {
      assert.equal(V.document.type, V.type);
    });
    add('sm.typeId: still keccak256(utf8(type)), an on-chain identifier', () => {
      assert.equal(hexOf(Ereg, Ereg.keccak256(Ereg.utf8(V.type))), V.typeId);
    });
    add('sm.record: the document\'s data, with its fields in order', () => {
      assert.equal(Ereg.canonicalize(V.document.data), Ereg.canonicalize(V.record));
      const pointers = [...Ereg.fields(V.record).map((f) => f.pointer), ...Ereg.METADATA_POINTERS];
      assert.deepEqual(pointers, V.fields.map((f) => f.pointer));
    });
    add('sm.issuer: the document\'s issuer, an EIP-55 (Keccak) checksummed registry', () => {
      assert.equal(Ereg.canonicalize(V.document.issuer), Ereg.canonicalize(V.issuer));
      assert.ok(Ereg.isChecksumAddress(V.issuer.registry));
      assert.ok(!Ereg.isChecksumAddress(V.issuer.registry.toLowerCase()));
    });
    add('sm.validity: the document\'s validity', () => {
      assert.equal(Ereg.canonicalize(V.document.validity), Ereg.canonicalize(V.validity));
    });
    V.fields.forEach((f, i) => {
      add(`sm.fields[${i}]: ${f.pointer} JCS forms and SM3 field hash`, () => {
        assert.equal(Ereg.canonicalize(f.pointer), f.pointerJcs, 'JCS(pointer)');
        assert.equal(Ereg.canonicalize(valueOf(f.pointer)), f.valueJcs, 'JCS(value)');
        assert.equal(V.document.salts[f.pointer], f.salt, 'salt in the document');
        const salt = Ereg.fromHex(f.salt);
        assert.equal(hexOf(Ereg, Ereg.fieldHash(salt, f.pointer, valueOf(f.pointer), SM)), f.fieldHash, 'fieldHash');
        const preimage = Ereg.concat(salt, Ereg.utf8(f.pointerJcs), Ereg.utf8(f.valueJcs));
        assert.equal(hexOf(Ereg, Ereg.sm3(preimage)), f.fieldHash, 'SM3 of the preimage');
        assert.ok(hexOf(Ereg, Ereg.fieldHash(salt, f.pointer, valueOf(f.pointer))) !== f.fieldHash, 'not the Keccak one');
      });
    });
    add('sm.sortedFieldHashes: the field hashes sorted as bytes', () => {
      const sorted = V.fields.map((f) => f.fieldHash).sort();
      assert.deepEqual(sorted, V.sortedFieldHashes);
    });
    add('sm.targetHash: SM3 of the sorted field hashes, in any input order', () => {
      const hashes = V.fields.map((f) => Ereg.fromHex(f.fieldHash));
      assert.equal(hexOf(Ereg, Ereg.targetHash(hashes, SM)), V.targetHash);
      assert.equal(hexOf(Ereg, Ereg.targetHash([...hashes].reverse(), SM)), V.targetHash);
      assert.equal(hexOf(Ereg, Ereg.sm3(Ereg.concat(...V.sortedFieldHashes.map(Ereg.fromHex)))), V.targetHash);
    });
    add('sm.leaf: SM3(0x00 ‖ targetHash)', () => {
      assert.equal(hexOf(Ereg, Ereg.leafOf(Ereg.fromHex(V.targetHash), SM)), V.leaf);
    });
    V.batch.targetHashes.forEach((t, i) => {
      add(`sm.batch.targetHashes[${i}]: its leaf`, () => {
        assert.equal(hexOf(Ereg, Ereg.leafOf(Ereg.fromHex(t), SM)), V.batch.leaves[i]);
        if (i === 0) assert.equal(t, V.targetHash, 'the document is the first of the batch');
      });
    });
    V.batch.leaves.forEach((leaf, i) => {
      add(`sm.batch.leaves[${i}]: from its target hash`, () => {
        assert.equal(hexOf(Ereg, Ereg.leafOf(Ereg.fromHex(V.batch.targetHashes[i]), SM)), leaf);
      });
    });
    add('sm.batch.level1: SM3 of the sorted pair of leaves 0 and 1, leaf 2 promoted', () => {
      const [l0, l1, l2] = V.batch.leaves.map(Ereg.fromHex);
      assert.equal(hexOf(Ereg, Ereg.fold(l0, [l1], SM)), V.batch.level1[0]);
      assert.equal(hexOf(Ereg, Ereg.fold(l1, [l0], SM)), V.batch.level1[0], 'pairs are sorted');
      const [lo, hi] = Ereg.toHex(l0) < Ereg.toHex(l1) ? [l0, l1] : [l1, l0];
      assert.equal(hexOf(Ereg, Ereg.sm3(Ereg.concat(lo, hi))), V.batch.level1[0], 'SM3(min ‖ max)');
      assert.equal(V.batch.level1[1], V.batch.leaves[2]);
      assert.equal(hexOf(Ereg, Ereg.fold(l2, [], SM)), V.batch.leaves[2], 'an empty proof is the leaf');
    });
    add('sm.batch.root: from level 1', () => {
      const [n01, l2] = V.batch.level1.map(Ereg.fromHex);
      assert.equal(hexOf(Ereg, Ereg.fold(n01, [l2], SM)), V.batch.root);
      assert.equal(V.document.proof.merkleRoot, V.batch.root);
    });
    V.batch.proofs.forEach((proof, i) => {
      add(`sm.batch.proofs[${i}]: folds leaf ${i} into the root with SM3, and only as given`, () => {
        const leaf = Ereg.fromHex(V.batch.leaves[i]);
        assert.equal(hexOf(Ereg, Ereg.fold(leaf, proof.map(Ereg.fromHex), SM)), V.batch.root);
        assert.ok(hexOf(Ereg, Ereg.fold(leaf, proof.map(Ereg.fromHex))) !== V.batch.root, 'not with Keccak-256');
        if (proof.length > 1) {
          assert.ok(hexOf(Ereg, Ereg.fold(leaf, [...proof].reverse().map(Ereg.fromHex), SM)) !== V.batch.root, 'reversed proof');
        }
        if (i === 0) assert.deepEqual(V.document.proof.proof, proof, 'the document carries proof 0');
      });
    });
    add('sm.signature: the signed message is the batch\'s, the document carries the signature', () => {
      // The SM2 equations are the verifier's (against the key registered on chain); the page
      // recomputes the message M of FORMAT.md §14 and passes key and value on unchanged.
      const S = V.signature;
      const chainId = new Uint8Array(8);
      new DataView(chainId.buffer).setBigUint64(0, BigInt(V.issuer.chainId));
      const message = Ereg.concat(Ereg.utf8('ereg/1-sm/batch-root'), chainId, Ereg.fromHex(V.issuer.registry),
        Ereg.fromHex(V.issuer.department), Ereg.fromHex(V.batch.root));
      assert.equal(Ereg.toHex(message), S.message.replace(/^0x/, ''));
      assert.deepEqual(V.document.proof.signature, { alg: 'SM2', key: S.publicKey, value: S.value });
      assert.ok(/^0x[0-9a-f]{128}$/.test(S.publicKey) && /^0x[0-9a-f]{128}$/.test(S.value));
      assert.equal(S.userId, '1234567812345678');
      assert.ok(typeof S.privateKey === 'string' && typeof S.k === 'string', 'the signer\'s inputs, for the Python side');
    });
    add('sm.document: intact as an object', () => {
      assert.deepEqual(verdict(Ereg.checkIntegrity(clone(V.document))), intact());
      assert.deepEqual(verdict(Ereg.checkIntegrity(clone(V.document), SM)), intact(), 'from an SM4 envelope');
    });
    add('sm.documentJcs: JCS of the document, and intact as JSON text and UTF-8 bytes', () => {
      assert.equal(Ereg.canonicalize(V.document), V.documentJcs);
      assert.equal(Ereg.canonicalize(Ereg.parseDocument(V.documentJcs)), V.documentJcs);
      assert.deepEqual(verdict(Ereg.checkIntegrity(V.documentJcs)), intact());
      assert.deepEqual(verdict(Ereg.checkIntegrity(Ereg.utf8(V.documentJcs))), intact());
      assert.deepEqual(verdict(Ereg.checkIntegrity(JSON.stringify(V.document, null, 2))), intact(), 'pretty-printed');
    });
    add('sm.documentJcsSha256: SHA-256 of the canonical bytes', async () => {
      assert.equal(Ereg.toHex(await Ereg.sha256(Ereg.utf8(V.documentJcs))), V.documentJcsSha256);
    });
    add('sm.disclosure: hiding /idNumber keeps the target hash', () => {
      const [pointer] = V.disclosure.hide;
      assert.equal(V.fields.find((x) => x.pointer === pointer).fieldHash, V.disclosure.obfuscated[0]);
      const doc = clone(V.document);
      delete doc.data[pointer.slice(1)];
      delete doc.salts[pointer];
      doc.privacy.obfuscated = V.disclosure.obfuscated;
      assert.deepEqual(verdict(Ereg.checkIntegrity(doc)), intact());
      doc.privacy.obfuscated = [];
      assert.equal(Ereg.checkIntegrity(doc).code, 'TAMPERED', 'hidden without its hash');
    });
    add('sm.envelope.blob: SM4-GCM, opens to the canonical document; the library seals the same bytes', async () => {
      const E = V.envelope;
      assert.equal(E.associatedData, SM);
      const key = Ereg.fromHex(E.key), blob = Ereg.fromHex(E.blob);
      assert.equal(key.length, 16);
      assert.equal(Ereg.suiteOfKey(key), SM);
      assert.equal(Ereg.toHex(blob.subarray(0, 12)), E.nonce);
      assert.equal(Ereg.toHex(await Ereg.sha256(blob)), E.blobSha256);
      const plain = await Ereg.openEnvelope(key, blob);
      assert.equal(new TextDecoder('utf-8', { fatal: true }).decode(plain), V.documentJcs);
      assert.equal(Ereg.checkIntegrity(plain, SM).code, 'OK');
      assert.equal(Ereg.toHex(smSeal(Ereg, Sm, key, Ereg.fromHex(E.nonce), plain)), E.blob, 'sealed again');
    });
    add('sm.envelope.smallBlob: opens to the small plaintext', async () => {
      const E = V.envelope;
      const plain = await Ereg.openEnvelope(Ereg.fromHex(E.key), Ereg.fromHex(E.smallBlob));
      assert.equal(new TextDecoder().decode(plain), E.smallPlaintext);
      assert.equal(Ereg.fromHex(E.smallBlob).length, 12 + Ereg.utf8(E.smallPlaintext).length + 16);
    });
    add('sm.envelope.refused: wrong key, altered bytes, another AD, short blob, short key', async () => {
      const E = V.envelope;
      const key = Ereg.fromHex(E.key), blob = Ereg.fromHex(E.smallBlob);
      const code = (k, b, what) => codeOf(assert, () => Ereg.openEnvelope(k, b), what);
      const otherKey = Uint8Array.from(key);
      otherKey[0] ^= 1;
      assert.equal(await code(otherKey, blob, 'other key'), 'DECRYPTION_FAILED', 'other key');
      for (const index of [0, 11, 12, blob.length - 17, blob.length - 16, blob.length - 1]) { // nonce, ciphertext, tag
        const bent = Uint8Array.from(blob);
        bent[index] ^= 0x80;
        assert.equal(await code(key, bent, `byte ${index}`), 'DECRYPTION_FAILED', `byte ${index} altered`);
      }
      const plain = Ereg.utf8(E.smallPlaintext), nonce = Ereg.fromHex(E.nonce);
      assert.equal(await code(key, smSeal(Ereg, Sm, key, nonce, plain, 'ereg/1'), 'AD ereg/1'), 'DECRYPTION_FAILED', 'AD ereg/1');
      assert.equal(Ereg.toHex(await Ereg.openEnvelope(key, smSeal(Ereg, Sm, key, nonce, plain))), Ereg.toHex(plain), 'AD ereg/1-sm');
      assert.equal(await code(key, blob.subarray(0, blob.length - 1), 'tag cut'), 'DECRYPTION_FAILED', 'tag cut');
      assert.equal(await code(key, blob.subarray(0, 27), '27 bytes'), 'TRUNCATED', '27 bytes');
      assert.equal(await code(key.subarray(0, 15), blob, '15'), 'BAD_KEY', '15-byte key');
      assert.equal(await code(Ereg.concat(key, new Uint8Array(1)), blob, '17'), 'BAD_KEY', '17-byte key');
      assert.equal(await code(Ereg.concat(key, key), blob, '32'), 'DECRYPTION_FAILED', 'a 32-byte key is an AES key');
    });
    add('sm.qr: a raw CID, the URL carrying it and the 16-byte key in 22 characters', () => {
      const Q = V.qr;
      assert.equal(Ereg.cidKind(Q.cid), 'raw');
      assert.equal(Q.key, V.envelope.key);
      const text = b64url(Ereg.fromHex(Q.key));
      assert.equal(text.length, 22);
      assert.equal(Q.url, `${Q.baseUrl}/q/${Q.cid}#k=${text}`);
    });

    const rejected = [
      ['a field value changed', (d) => { d.data.name = '李四'; }, 'TAMPERED', '/proof/targetHash'],
      ['a field added', (d) => { d.data.extra = 1; }, 'TAMPERED', '/data/extra'],
      ['a salt changed', (d) => { d.salts['/name'] = '00'.repeat(16); }, 'TAMPERED', '/proof/targetHash'],
      ['the chain id changed', (d) => { d.issuer.chainId = 1; }, 'TAMPERED', '/proof/targetHash'],
      ['the Keccak target hash put in', (d) => {
        d.proof.targetHash = hexOf(Ereg, Ereg.targetHash(V.fields.map((f) => Ereg.fromHex(f.fieldHash))));
      }, 'TAMPERED', '/proof/targetHash'],
      ['read as ereg/1 (without its signature)', (d) => { d.version = 'ereg/1'; delete d.proof.signature; }, 'TAMPERED', '/proof/targetHash'],
      ['another root', (d) => { d.proof.merkleRoot = `0x${'aa'.repeat(32)}`; }, 'PROOF_MISMATCH', '/proof/proof'],
      ['the proof reversed', (d) => { d.proof.proof.reverse(); }, 'PROOF_MISMATCH', '/proof/proof'],
      ['nothing disclosed', (d) => { d.data = {}; }, 'NOTHING_DISCLOSED', null],
      ['the signature missing', (d) => { delete d.proof.signature; }, 'MALFORMED', '/proof/signature'],
      ['the signature null', (d) => { d.proof.signature = null; }, 'MALFORMED', '/proof/signature'],
      ['read as ereg/1 with its signature', (d) => { d.version = 'ereg/1'; }, 'MALFORMED', '/proof/signature'],
      ['alg sm2 in lower case', (d) => { d.proof.signature.alg = 'sm2'; }, 'MALFORMED', '/proof/signature/alg'],
      ['a short key', (d) => { d.proof.signature.key = d.proof.signature.key.slice(0, -2); }, 'MALFORMED', '/proof/signature/key'],
      ['a value in capitals', (d) => { d.proof.signature.value = d.proof.signature.value.toUpperCase().replace('0X', '0x'); },
        'MALFORMED', '/proof/signature/value'],
      ['a member too many', (d) => { d.proof.signature.userId = '1234567812345678'; }, 'MALFORMED', '/proof/signature/userId'],
      ['a member missing', (d) => { delete d.proof.signature.alg; }, 'MALFORMED', '/proof/signature/alg'],
      ['a signature that is a string', (d) => { d.proof.signature = d.proof.signature.value; }, 'MALFORMED', '/proof/signature'],
      ['a bad type before the missing signature', (d) => { d.type = 'X'; delete d.proof.signature; }, 'MALFORMED', '/type'],
      ['another version', (d) => { d.version = 'ereg/2-sm'; }, 'MALFORMED', '/version'],
    ];
    rejected.forEach(([what, mutate, code, pointer], i) => {
      add(`sm.document.rejected[${i}]: ${what} gives ${code}`, () => {
        const doc = clone(V.document);
        mutate(doc);
        const r = Ereg.checkIntegrity(doc);
        assert.deepEqual([r.code, r.pointer], [code, pointer]);
        assert.ok(r.message && r.messageZh, 'messages in both languages');
        assert.equal(r.merkleRoot, code === 'PROOF_MISMATCH' ? doc.proof.merkleRoot : null, 'hashes only with PROOF_MISMATCH');
      });
    });
    add('sm.document.envelope: an ereg/1-sm document in an AES envelope is MALFORMED at /version, after its own faults', async () => {
      const r = Ereg.checkIntegrity(clone(V.document), 'ereg/1');
      assert.deepEqual([r.code, r.pointer], ['MALFORMED', '/version']);
      assert.equal(r.message, '/version: document suite does not match its envelope');
      assert.equal(r.messageZh, '/version：文书算法套件与密文封装不一致');
      const fromText = Ereg.checkIntegrity(V.documentJcs, 'ereg/1');
      assert.deepEqual([fromText.code, fromText.pointer], ['MALFORMED', '/version']);
      const unsigned = clone(V.document);
      delete unsigned.proof.signature;
      assert.equal(Ereg.checkIntegrity(unsigned, 'ereg/1').pointer, '/proof/signature', 'the document\'s fault first');
      const tampered = clone(V.document);
      tampered.data.name = '李四';
      assert.equal(Ereg.checkIntegrity(tampered, 'ereg/1').code, 'MALFORMED', 'the envelope before any hash');
      assert.equal(Ereg.checkIntegrity(tampered, SM).code, 'TAMPERED');
      // the whole way: sealed with AES under a 32-byte key, opened, checked against that envelope
      const aesKey = Ereg.concat(Ereg.fromHex(V.envelope.key), Ereg.fromHex(V.envelope.key));
      const subtle = globalThis.crypto.subtle;
      const k = await subtle.importKey('raw', aesKey, 'AES-GCM', false, ['encrypt']);
      const nonce = Ereg.fromHex(V.envelope.nonce);
      const sealed = new Uint8Array(await subtle.encrypt({ name: 'AES-GCM', iv: nonce, additionalData: Ereg.utf8('ereg/1') }, k,
        Ereg.utf8(V.documentJcs)));
      const plain = await Ereg.openEnvelope(aesKey, Ereg.concat(nonce, sealed));
      const opened = Ereg.checkIntegrity(plain, Ereg.suiteOfKey(aesKey));
      assert.deepEqual([opened.code, opened.pointer], ['MALFORMED', '/version']);
      assert.equal(verdict(Ereg.checkIntegrity(plain)).code, 'OK', 'without the envelope, the document alone is intact');
    });
    return checks;
  }

  // ------------------------------------------------------------------ cases from the Python reference
  function caseChecks(Ereg, Sm, cases, assert) {
    const checks = [];
    const add = (name, fn) => checks.push([name, fn]);
    (cases.sm3 || []).forEach((c, i) => {
      add(`smcases.sm3[${i}]: SM3 of ${c.hex.length / 2} bytes (cryptography)`, () => {
        assert.equal(Ereg.toHex(Ereg.sm3(Ereg.fromHex(c.hex))), c.sm3);
      });
    });
    (cases.sm4gcm || []).forEach((c, i) => {
      add(`smcases.sm4gcm[${i}]: SM4-GCM of ${c.plain.length / 2} bytes, AD ${c.ad} (cryptography)`, async () => {
        const key = Ereg.fromHex(c.key), blob = Ereg.fromHex(c.blob), plain = Ereg.fromHex(c.plain);
        assert.equal(Ereg.toHex(smSeal(Ereg, Sm, key, blob.subarray(0, 12), plain, c.ad)), c.blob, 'the library seals the same bytes');
        if (c.ad === SM) {
          assert.equal(Ereg.toHex(await Ereg.openEnvelope(key, blob)), c.plain, 'openEnvelope');
        } else {
          assert.equal(await codeOf(assert, () => Ereg.openEnvelope(key, blob), 'other AD'), 'DECRYPTION_FAILED', 'another AD');
        }
      });
    });
    (cases.envelopes || []).forEach((c, i) => {
      add(`smcases.envelopes[${i}]: ${c.name}`, async () => {
        const open = () => Ereg.openEnvelope(Ereg.fromHex(c.key), Ereg.fromHex(c.blob));
        if (c.error) assert.equal(await codeOf(assert, open, 'openEnvelope'), c.error);
        else assert.equal(Ereg.toHex(await open()), c.plain);
      });
    });
    (cases.documents || []).forEach((c, i) => {
      const inputs = { text: () => c.text, bytes: () => Ereg.utf8(c.text), object: () => JSON.parse(c.text) };
      for (const form of c.forms) {
        add(`smcases.documents[${i}].${form}: ${c.name}`, () => {
          const r = Ereg.checkIntegrity(inputs[form](), c.envelope === undefined ? null : c.envelope);
          assert.deepEqual(verdict(r), c.expect);
          if (c.message !== undefined) assert.deepEqual([r.message, r.messageZh], [c.message, c.messageZh]);
          assert.ok(typeof r.message === 'string' && r.message && r.messageZh, 'messages in both languages');
        });
      }
    });
    return checks;
  }

  /** Run checks one after the other (the page's way): {passed: [names], failed: [{name, error}]}. */
  async function run(checks) {
    const passed = [], failed = [];
    for (const [name, fn] of checks) {
      try {
        await fn();
        passed.push(name);
      } catch (err) {
        failed.push({ name, error: String(err && err.stack ? err.stack : err) });
      }
    }
    return { passed, failed };
  }

  /** Everything with `assert` (vectors.js's small one in the page): what the Chromium page runs. */
  const runAll = (Ereg, Sm, V, cases, assert) => run([
    ...standardChecks(Ereg, Sm, assert),
    ...(V ? vectorChecks(Ereg, Sm, V, assert) : []),
    ...(cases ? caseChecks(Ereg, Sm, cases, assert) : []),
  ]);

  return Object.freeze({ smSeal, standardChecks, vectorChecks, caseChecks, run, runAll });
}));
